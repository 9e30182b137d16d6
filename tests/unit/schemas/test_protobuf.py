"""Protobuf compatibility through the public API: each registry rule, parsing, imports."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from eventscope.schemas import Mode, SchemaParseError, check_compatibility
from eventscope.schemas.protobuf import parse


def proto3(body: str, *, header: str = "") -> str:
    return f'syntax = "proto3";\n{header}{body}\n'


def proto2(body: str, *, header: str = "") -> str:
    return f'syntax = "proto2";\n{header}{body}\n'


def check(new: str, old: str, mode: str = "BACKWARD", references=None):
    return check_compatibility(new, [old], format="protobuf", mode=mode, references=references)


def types(new: str, old: str, mode: str = "BACKWARD", references=None) -> list[str]:
    return [i.type for i in check(new, old, mode, references).incompatibilities]


def assert_compatible(new: str, old: str, references=None) -> None:
    result = check(new, old, references=references)
    assert result.is_compatible, result.to_dict()


# -- parsing ------------------------------------------------------------------------------


def test_parse_compiles_proto2_and_proto3() -> None:
    # protoc leaves ``syntax`` empty for proto2, its default.
    assert parse(proto2("message A { required int32 id = 1; }")).main.syntax in ("", "proto2")
    assert parse(proto3("message A { int32 id = 1; }")).main.syntax == "proto3"


def test_syntax_error_names_line_and_column() -> None:
    schema = proto3("message A {\n  int32 id = 1\n}")
    with pytest.raises(SchemaParseError) as caught:
        check_compatibility(schema, [], format="protobuf")
    assert caught.value.source == "candidate"
    assert caught.value.location == "line 4, column 1"
    assert 'Expected ";"' in caught.value.reason


def test_undefined_type_is_a_parse_error_in_the_previous_schema() -> None:
    good = proto3("message A { int32 id = 1; }")
    bad = proto3("message A {\n  Missing id = 1;\n}")
    with pytest.raises(SchemaParseError) as caught:
        check_compatibility(good, [bad], format="protobuf")
    assert caught.value.source == "previous[0]"
    assert caught.value.location == "line 3, column 3"
    assert '"Missing" is not defined' in caught.value.reason


def test_missing_import_is_reported_at_the_import_line() -> None:
    schema = proto3('import "money.proto";\nmessage A { Money m = 1; }')
    with pytest.raises(SchemaParseError) as caught:
        parse(schema)
    assert caught.value.location == "line 2, column 1"
    assert "'money.proto'" in caught.value.reason
    assert "File not found" in caught.value.reason


def test_error_inside_a_reference_names_that_file() -> None:
    schema = proto3('import "money.proto";\nmessage A { Money m = 1; }')
    references = {"money.proto": proto3("message Money { int64 units = 1 }")}
    with pytest.raises(SchemaParseError) as caught:
        check_compatibility(schema, [], format="protobuf", references=references)
    # As Avro does: the reference is the source, the place is in its own text.
    assert caught.value.source == "reference 'money.proto'"
    assert caught.value.location == "line 2, column 33"
    assert 'Expected ";"' in caught.value.reason


def test_a_schema_without_syntax_is_proto2_and_errors_keep_their_columns(
    capfd: pytest.CaptureFixture[str],
) -> None:
    assert parse("message A { optional int32 id = 1; }").main.syntax in ("", "proto2")
    with pytest.raises(SchemaParseError) as caught:
        parse("message A { optional Missing id = 1; }")
    assert caught.value.location == "line 1, column 22"
    assert capfd.readouterr() == ("", "")  # no "no syntax specified" log line either


def test_compiles_from_several_threads_keep_their_own_errors() -> None:
    def compile_one(n: int) -> str:
        try:
            parse(proto3(f"message A{n} {{\n  Missing{n} id = 1;\n}}"))
        except SchemaParseError as exc:
            return exc.reason
        return "compiled"

    with ThreadPoolExecutor(max_workers=4) as pool:
        reasons = list(pool.map(compile_one, range(8)))
    assert reasons == [f'"Missing{n}" is not defined.' for n in range(8)]


def test_protoc_output_never_reaches_the_terminal(capfd: pytest.CaptureFixture[str]) -> None:
    unused_import = proto3('import "google/protobuf/empty.proto";\nmessage A { int32 id = 1; }')
    parse(unused_import)  # protoc warns about the unused import
    with pytest.raises(SchemaParseError):
        parse(proto3("message {"))
    assert capfd.readouterr() == ("", "")


def test_non_text_schema_is_rejected() -> None:
    with pytest.raises(SchemaParseError, match=r"\.proto text"):
        parse({"type": "record"})


@pytest.mark.parametrize("name", ["/etc/x.proto", "../x.proto", ""])
def test_reference_names_stay_inside_the_sandbox(name: str) -> None:
    with pytest.raises(SchemaParseError, match="invalid reference name"):
        parse(proto3("message A {}"), references={name: proto3("message B {}")})


def test_compiled_schemas_are_cached_by_text() -> None:
    text = proto3("message Cached { int32 id = 1; }")
    assert parse(text) is parse(text)
    assert parse(text, references={"x.proto": "syntax = 'proto3';"}) is not parse(text)


def test_parsed_schemas_can_be_passed_directly() -> None:
    old = parse(proto3("message A { int32 id = 1; }"))
    new = parse(proto3("message A { string id = 1; }"))
    assert not check_compatibility(new, [old], format="protobuf").is_compatible


# -- imports ------------------------------------------------------------------------------

MONEY_V1 = proto3("message Money { int64 units = 1; }", header="package money;\n")
MONEY_V2 = proto3("message Money { string units = 1; }", header="package money;\n")
ORDER = proto3('import "money.proto";\nmessage Order { money.Money total = 1; }')


def test_imports_resolve_from_references() -> None:
    assert_compatible(ORDER, ORDER, references={"money.proto": MONEY_V1})


def test_well_known_types_import_without_references() -> None:
    old = proto3(
        "message Event { google.protobuf.Timestamp at = 1; }",
        header='import "google/protobuf/timestamp.proto";\n',
    )
    new = proto3(
        "message Event { google.protobuf.Timestamp at = 1; google.protobuf.Duration took = 2; }",
        header='import "google/protobuf/timestamp.proto";\n'
        'import "google/protobuf/duration.proto";\n',
    )
    assert_compatible(new, old)
    replaced = proto3(
        "message Event { google.protobuf.Duration at = 1; }",
        header='import "google/protobuf/duration.proto";\n',
    )
    assert types(replaced, old) == ["FIELD_NAMED_TYPE_CHANGED"]


def test_import_with_same_name_but_new_content_is_compared() -> None:
    """The registry pins a reference to a version; here each version has its own text."""
    old = parse(ORDER, references={"money.proto": MONEY_V1})
    new = parse(ORDER, references={"money.proto": MONEY_V2})
    result = check_compatibility(new, [old], format="protobuf")
    assert [(i.type, i.location) for i in result.incompatibilities] == [
        ("FIELD_SCALAR_KIND_CHANGED", "#/Money/1"),
        ("FIELD_NAMED_TYPE_CHANGED", "#/Order/1"),
    ]


def test_imported_type_may_change_package_when_its_shape_is_the_same() -> None:
    other_package = MONEY_V1.replace("package money;", "package cash;")
    new = ORDER.replace('"money.proto"', '"cash.proto"').replace("money.Money", "cash.Money")
    assert_compatible(new, ORDER, references={"money.proto": MONEY_V1, "cash.proto": other_package})


def test_moving_a_message_into_an_import_removes_it_from_the_schema() -> None:
    old = proto3("message Order { Money total = 1; }\nmessage Money { int64 units = 1; }")
    references = {"money.proto": MONEY_V1}
    assert types(ORDER, old, references=references) == ["MESSAGE_REMOVED"]
    assert_compatible(old, ORDER, references=references)


# -- rules ---------------------------------------------------------------------------------


def test_package_change_is_incompatible() -> None:
    old = proto3("message A { int32 id = 1; }", header="package a;\n")
    new = proto3("message A { int32 id = 1; }", header="package b;\n")
    result = check(new, old)
    assert [(i.type, i.location) for i in result.incompatibilities] == [("PACKAGE_CHANGED", "#/")]


def test_messages_may_be_added_and_reordered_but_not_removed() -> None:
    one = proto3("message A { int32 id = 1; }")
    two = proto3("message B { int32 id = 1; }\nmessage A { int32 id = 1; }")
    assert_compatible(two, one)
    assert types(one, two) == ["MESSAGE_REMOVED"]


def test_nested_message_removal_is_located_by_path() -> None:
    old = proto3("message A { message B { int32 x = 1; } B b = 1; }")
    new = proto3("message A { int32 b = 1; }")
    result = check(new, old)
    assert {(i.type, i.location) for i in result.incompatibilities} == {
        ("MESSAGE_REMOVED", "#/A/B"),
        ("FIELD_KIND_CHANGED", "#/A/1"),
    }


def test_fields_are_matched_by_number_not_name() -> None:
    old = proto3("message A { int32 id = 1; }")
    assert_compatible(proto3("message A { int32 identifier = 1; }"), old)
    # A new number is a removal plus an addition: both harmless for optional fields.
    assert_compatible(proto3("message A { int32 id = 2; }"), old)


def test_reusing_a_number_with_an_incompatible_type_is_caught() -> None:
    old = proto3("message A { string note = 1; }")
    new = proto3("message A { reserved 2; double amount = 1; }")
    assert types(new, old) == ["FIELD_SCALAR_KIND_CHANGED"]


def test_reserved_ranges_are_not_compared() -> None:
    """The registry ignores ``reserved``: reserving or un-reserving a number is harmless."""
    old = proto3("message A { int32 id = 1; reserved 2 to 5; }")
    assert_compatible(proto3("message A { int32 id = 1; int32 x = 3; }"), old)


def test_required_fields_may_not_be_added_or_removed() -> None:
    old = proto2("message A { optional int32 id = 1; required string name = 2; }")
    assert types(proto2("message A { optional int32 id = 1; }"), old) == ["REQUIRED_FIELD_REMOVED"]
    new = proto2(
        "message A { optional int32 id = 1; required string name = 2; required int32 v = 3; }"
    )
    result = check(new, old)
    assert [(i.type, i.location) for i in result.incompatibilities] == [
        ("REQUIRED_FIELD_ADDED", "#/A/3")
    ]
    assert_compatible(
        proto2(
            "message A { optional int32 id = 1; required string name = 2; optional int32 v = 3; }"
        ),
        old,
    )


@pytest.mark.parametrize(
    ("old_type", "new_type"),
    [
        ("int32", "int64"),
        ("uint64", "bool"),
        ("int32", "uint32"),
        ("sint32", "sint64"),
        ("fixed32", "sfixed32"),
        ("fixed64", "sfixed64"),
        ("string", "bytes"),
        ("int32", "Colour"),
    ],
)
def test_wire_compatible_scalar_kinds(old_type: str, new_type: str) -> None:
    enum = "enum Colour { RED = 0; }\n"
    old = proto3(f"{enum}message A {{ {old_type} v = 1; }}")
    new = proto3(f"{enum}message A {{ {new_type} v = 1; }}")
    assert_compatible(new, old)
    assert_compatible(old, new)


@pytest.mark.parametrize(
    ("old_type", "new_type"),
    [
        ("int32", "sint32"),
        ("int64", "fixed64"),
        ("fixed32", "fixed64"),
        ("float", "double"),
        ("string", "int32"),
        ("sfixed32", "float"),
    ],
)
def test_wire_incompatible_scalar_kinds(old_type: str, new_type: str) -> None:
    old = proto3(f"message A {{ {old_type} v = 1; }}")
    new = proto3(f"message A {{ {new_type} v = 1; }}")
    result = check(new, old)
    assert [(i.type, i.location) for i in result.incompatibilities] == [
        ("FIELD_SCALAR_KIND_CHANGED", "#/A/1")
    ]
    assert f"from {old_type} to {new_type}" in result.incompatibilities[0].message


def test_scalar_and_message_kinds_do_not_mix() -> None:
    message = "message B { string s = 1; }\n"
    as_bytes = proto3(f"{message}message A {{ bytes v = 1; }}")
    as_message = proto3(f"{message}message A {{ B v = 1; }}")
    assert types(as_message, as_bytes) == ["FIELD_KIND_CHANGED"]
    assert types(as_bytes, as_message) == ["FIELD_KIND_CHANGED"]


def test_message_field_type_is_compared_by_name() -> None:
    types_ = "message B { string s = 1; }\nmessage C { string s = 1; }\n"
    old = proto3(f"{types_}message A {{ B v = 1; }}")
    new = proto3(f"{types_}message A {{ C v = 1; }}")
    assert types(new, old) == ["FIELD_NAMED_TYPE_CHANGED"]
    qualified = proto3(f"{types_}message A {{ .B v = 1; }}")
    assert_compatible(qualified, old)


def test_numeric_label_changes_are_incompatible() -> None:
    old = proto3("message A { optional int32 v = 1; }")
    new = proto3("message A { repeated int32 v = 1; }")
    result = check(new, old)
    assert [i.type for i in result.incompatibilities] == ["FIELD_NUMERIC_LABEL_CHANGED"]
    enum = "enum E { X = 0; }\n"
    assert types(
        proto3(f"{enum}message A {{ repeated E v = 1; }}"),
        proto3(f"{enum}message A {{ optional E v = 1; }}"),
    ) == ["FIELD_NUMERIC_LABEL_CHANGED"]


def test_string_bytes_and_message_label_changes_are_compatible() -> None:
    assert_compatible(
        proto3("message A { repeated string v = 1; }"),
        proto3("message A { optional string v = 1; }"),
    )
    assert_compatible(
        proto3("message B {}\nmessage A { repeated B v = 1; }"),
        proto3("message B {}\nmessage A { optional B v = 1; }"),
    )


def test_unlabelled_proto3_field_has_no_label_to_compare() -> None:
    """As in the registry: a proto3 field without a label keeps no label to differ from."""
    assert_compatible(
        proto3("message A { repeated int32 v = 1; }"), proto3("message A { int32 v = 1; }")
    )


def test_proto2_labels_are_compared() -> None:
    assert types(
        proto2("message A { repeated int32 v = 1; }"),
        proto2("message A { optional int32 v = 1; }"),
    ) == ["FIELD_NUMERIC_LABEL_CHANGED"]


def test_syntax_change_alone_is_compatible() -> None:
    assert_compatible(
        proto3("message A { int32 v = 1; string s = 2; }"),
        proto2("message A { optional int32 v = 1; optional string s = 2; }"),
    )


def test_proto3_optional_is_not_a_oneof() -> None:
    old = proto3("message A { int32 a = 1; int32 b = 2; }")
    new = proto3("message A { optional int32 a = 1; optional int32 b = 2; }")
    assert_compatible(new, old)


def test_oneofs_may_be_added_removed_and_renamed() -> None:
    plain = proto3("message A { int32 a = 1; }")
    in_oneof = proto3("message A { oneof choice { int32 a = 1; string extra = 2; } }")
    renamed = proto3("message A { oneof pick { int32 a = 1; string extra = 2; } }")
    assert_compatible(in_oneof, plain)
    assert_compatible(renamed, in_oneof)
    assert_compatible(proto3("message A { int32 a = 1; string extra = 2; }"), in_oneof)
    assert_compatible(proto3("message A { }"), in_oneof)  # the whole oneof is deleted


def test_moving_several_fields_into_a_new_oneof_is_incompatible() -> None:
    old = proto3("message A { int32 a = 1; int32 b = 2; }")
    new = proto3("message A { oneof choice { int32 a = 1; int32 b = 2; } }")
    result = check(new, old)
    assert [(i.type, i.location) for i in result.incompatibilities] == [
        ("MULTIPLE_FIELDS_MOVED_TO_ONEOF", "#/A/choice")
    ]


def test_moving_a_field_into_an_existing_oneof_is_incompatible() -> None:
    old = proto3("message A { int32 a = 1; oneof choice { int32 b = 2; int32 c = 3; } }")
    new = proto3("message A { oneof choice { int32 a = 1; int32 b = 2; int32 c = 3; } }")
    assert types(new, old) == ["FIELD_MOVED_TO_EXISTING_ONEOF"]
    merged = proto3("message A { oneof x { int32 a = 1; } oneof y { int32 b = 2; } }")
    both = proto3("message A { oneof z { int32 a = 1; int32 b = 2; } }")
    assert types(both, merged) == ["FIELD_MOVED_TO_EXISTING_ONEOF"]


def test_removing_a_field_from_a_surviving_oneof_is_incompatible() -> None:
    old = proto3("message A { oneof choice { int32 a = 1; int32 b = 2; } }")
    new = proto3("message A { oneof choice { int32 a = 1; } }")
    result = check(new, old)
    assert [(i.type, i.location) for i in result.incompatibilities] == [
        ("ONEOF_FIELD_REMOVED", "#/A/choice/2")
    ]


def test_type_change_inside_a_oneof_is_located_in_it() -> None:
    old = proto3("message A { oneof choice { int32 a = 1; } }")
    new = proto3("message A { oneof choice { string a = 1; } }")
    result = check(new, old)
    assert [(i.type, i.location) for i in result.incompatibilities] == [
        ("FIELD_SCALAR_KIND_CHANGED", "#/A/choice/1")
    ]


def test_enum_changes_are_compatible() -> None:
    old = proto3("enum E { A = 0; B = 1; C = 2; }\nmessage M { E e = 1; }")
    new = proto3("enum E { A = 0; BEE = 1; D = 3; }\nmessage M { E e = 1; }")
    assert_compatible(new, old)
    assert_compatible(proto3("message M { int32 e = 1; }"), old)  # enum removed


def test_map_values_are_compared() -> None:
    old = proto3("message A { map<string, int32> m = 1; }")
    assert_compatible(proto3("message A { map<string, int64> m = 1; }"), old)
    result = check(proto3("message A { map<string, string> renamed = 1; }"), old)
    assert [(i.type, i.location) for i in result.incompatibilities] == [
        ("FIELD_SCALAR_KIND_CHANGED", "#/A/1")
    ]
    assert "value of field 'renamed'" in result.incompatibilities[0].message


def test_map_and_repeated_message_are_different_kinds() -> None:
    old = proto3("message A { map<string, int32> m = 1; }")
    new = proto3("message E { string key = 1; int32 value = 2; }\nmessage A { repeated E m = 1; }")
    assert types(new, old) == ["FIELD_KIND_CHANGED"]


def test_map_message_values_are_compared_by_name() -> None:
    b = "message B { int32 x = 1; }\n"
    old = proto3(f"{b}message A {{ map<string, B> m = 1; }}")
    assert_compatible(proto3(f"{b}message A {{ map<string, .B> m = 1; }}"), old)


# -- modes ---------------------------------------------------------------------------------


def test_forward_mode_asks_the_opposite_question() -> None:
    two = proto3("message A { int32 id = 1; }\nmessage B { int32 id = 1; }")
    one = proto3("message A { int32 id = 1; }")
    assert check(two, one, mode="BACKWARD").is_compatible
    forward = check(two, one, mode="FORWARD")
    assert [(i.type, i.direction) for i in forward.incompatibilities] == [
        ("MESSAGE_REMOVED", "forward")
    ]
    assert not check(two, one, mode="FULL").is_compatible


def test_transitive_mode_checks_every_version() -> None:
    v1 = proto3("message A { int32 a = 1; }")
    v2 = proto3("message A { }")
    v3 = proto3("message A { string a = 1; }")
    assert check_compatibility(v3, [v1, v2], format="protobuf", mode=Mode.BACKWARD)
    result = check_compatibility(v3, [v1, v2], format="protobuf", mode=Mode.BACKWARD_TRANSITIVE)
    assert [(i.type, i.version) for i in result.incompatibilities] == [
        ("FIELD_SCALAR_KIND_CHANGED", 1)
    ]


def test_incompatibility_messages_are_sentences() -> None:
    result = check(
        proto2("message A { optional int32 id = 1; }"),
        proto2("message A { optional int32 id = 1; required string name = 2; }"),
    )
    [problem] = result.incompatibilities
    assert problem.location == "#/A/2"
    assert problem.message == "Required field 'name' was removed."
