"""Avro compatibility: each resolution rule, parse errors with locations, recursion, references.

Everything goes through the public ``check_compatibility`` API unless the point is the
parsed form itself.  Expected types and locations are what Confluent Schema Registry
(through Apache Avro's SchemaCompatibility) reports for the same pair.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastavro.schema import parse_schema as fastavro_parse

from eventscope.schemas import Mode, SchemaParseError, avro, check_compatibility, clear_caches
from eventscope.schemas.avro.model import NO_DEFAULT

CONFORMANCE = Path(__file__).parents[2] / "conformance" / "avro"


def record(name: str, *fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": list(fields), **extra}


def field(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def problems(candidate: Any, *previous: Any, mode: str = "BACKWARD", **kw: Any) -> list[tuple]:
    result = check_compatibility(candidate, list(previous), format="avro", mode=mode, **kw)
    return [(i.type, i.location) for i in result.incompatibilities]


def reads(reader: Any, writer: Any) -> bool:
    return not problems(reader, writer)


# -- promotions and primitive types -------------------------------------------------


@pytest.mark.parametrize(
    ("reader", "writer"),
    [
        ("long", "int"),
        ("float", "int"),
        ("float", "long"),
        ("double", "int"),
        ("double", "long"),
        ("double", "float"),
        ("string", "bytes"),
        ("bytes", "string"),
    ],
)
def test_promotions_let_a_wider_reader_read_a_narrower_writer(reader: str, writer: str) -> None:
    assert reads(reader, writer)


@pytest.mark.parametrize(
    ("reader", "writer"),
    [("int", "long"), ("long", "float"), ("float", "double"), ("int", "string"), ("null", "int")],
)
def test_narrowing_is_a_type_mismatch_at_the_root(reader: str, writer: str) -> None:
    assert problems(reader, writer) == [("TYPE_MISMATCH", "/")]


def test_promotion_inside_a_record_field_is_reported_at_the_field_type() -> None:
    old = record("Order", field("qty", "long"))
    new = record("Order", field("qty", "int"))
    assert reads(record("Order", field("qty", "long")), new)
    assert problems(new, old) == [("TYPE_MISMATCH", "/fields/0/type")]


# -- records and fields --------------------------------------------------------------


def test_added_field_needs_a_default() -> None:
    old = record("Order", field("id", "string"))
    with_default = record("Order", field("id", "string"), field("note", "string", default=""))
    without = record("Order", field("id", "string"), field("note", "string"))
    assert reads(with_default, old)
    assert problems(without, old) == [("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/1")]


def test_an_explicit_null_default_counts_as_a_default() -> None:
    old = record("Order", field("id", "string"))
    new = record("Order", field("id", "string"), field("note", ["null", "string"], default=None))
    assert reads(new, old)


def test_removed_field_is_backward_compatible_but_not_forward_without_default() -> None:
    old = record("Order", field("id", "string"), field("note", "string"))
    new = record("Order", field("id", "string"))
    assert problems(new, old) == []
    assert problems(new, old, mode="FORWARD") == [
        ("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/1")
    ]


def test_reader_field_alias_matches_a_renamed_writer_field() -> None:
    old = record("Order", field("qty", "int"))
    new = record("Order", field("quantity", "long", aliases=["qty"]))
    assert reads(new, old)
    # Aliases are the reader's: the old schema cannot read the new one.
    assert problems(new, old, mode="FORWARD") == [
        ("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/0")
    ]


def test_a_field_matching_two_writer_fields_cannot_be_resolved() -> None:
    old = record("Order", field("a", "int"), field("b", "int"))
    new = record("Order", field("a", "int", aliases=["b"]))
    assert problems(new, old) == [("AMBIGUOUS_FIELD_MATCH", "/fields/0")]


def test_records_match_by_unqualified_name_so_a_namespace_move_is_compatible() -> None:
    old = record("Order", field("id", "string"), namespace="com.old")
    new = record("Order", field("id", "string"), namespace="com.new")
    assert problems(new, old, mode="FULL") == []


def test_renamed_record_is_a_name_mismatch_unless_the_reader_aliases_the_old_name() -> None:
    old = record("Order", field("id", "string"), namespace="shop")
    renamed = record("Purchase", field("id", "string"), namespace="shop")
    aliased = record("Purchase", field("id", "string"), namespace="shop", aliases=["Order"])
    assert problems(renamed, old) == [("NAME_MISMATCH", "/name")]
    assert reads(aliased, old)
    assert reads(record("Purchase", field("id", "string"), aliases=["shop.Order"]), old)


def test_record_against_a_primitive_is_a_type_mismatch() -> None:
    assert problems(record("Order", field("id", "string")), "string") == [("TYPE_MISMATCH", "/")]


# -- enums ---------------------------------------------------------------------------


def enum(symbols: list[str], **extra: Any) -> dict[str, Any]:
    return {"type": "enum", "name": "Status", "symbols": symbols, **extra}


def test_removing_an_enum_symbol_breaks_readers() -> None:
    old = record("Order", field("status", enum(["NEW", "PAID", "SHIPPED"])))
    new = record("Order", field("status", enum(["NEW", "PAID"])))
    assert problems(new, old) == [("MISSING_ENUM_SYMBOLS", "/fields/0/type/symbols")]
    assert reads(old, new)


def test_enum_default_absorbs_unknown_writer_symbols() -> None:
    assert reads(enum(["UNKNOWN", "NEW"], default="UNKNOWN"), enum(["NEW", "PAID"]))


def test_enum_default_does_not_stand_in_for_a_missing_field_default() -> None:
    old = record("Order", field("id", "string"))
    new = record("Order", field("id", "string"), field("status", enum(["A", "B"], default="A")))
    assert problems(new, old) == [("TYPE_MISMATCH", "/fields/1/type")]


def test_renamed_enum_is_a_name_mismatch() -> None:
    assert problems({**enum(["A"]), "name": "State"}, enum(["A"])) == [("NAME_MISMATCH", "/name")]


# -- fixed ---------------------------------------------------------------------------


def test_fixed_size_must_match_and_names_too() -> None:
    md5 = {"type": "fixed", "name": "Hash", "size": 16}
    sha = {"type": "fixed", "name": "Hash", "size": 32}
    other = {"type": "fixed", "name": "Digest", "size": 16}
    assert problems(sha, md5) == [("FIXED_SIZE_MISMATCH", "/size")]
    assert problems(other, md5) == [("NAME_MISMATCH", "/name")]
    assert problems({**other, "size": 8}, md5) == [
        ("NAME_MISMATCH", "/name"),
        ("FIXED_SIZE_MISMATCH", "/size"),
    ]


# -- unions --------------------------------------------------------------------------


def test_making_a_field_optional_is_compatible_but_making_it_required_is_not() -> None:
    required = record("Order", field("note", "string"))
    optional = record("Order", field("note", ["null", "string"], default=None))
    assert reads(optional, required)
    assert problems(required, optional) == [("TYPE_MISMATCH", "/fields/0/type/0")]


def test_every_writer_branch_must_be_readable() -> None:
    old = record("Order", field("v", ["null", "string", "int"]))
    new = record("Order", field("v", ["null", "string"]))
    assert problems(new, old) == [("MISSING_UNION_BRANCH", "/fields/0/type/2")]


def test_a_reader_union_needs_one_branch_for_a_plain_writer() -> None:
    assert reads(["null", "long"], "int")
    assert problems(["null", "string"], "int") == [("MISSING_UNION_BRANCH", "/")]


def test_union_branch_order_does_not_matter() -> None:
    assert problems(["string", "int"], ["int", "string"], mode="FULL") == []


# -- arrays and maps -----------------------------------------------------------------


def test_arrays_and_maps_compare_their_elements() -> None:
    assert reads({"type": "array", "items": "long"}, {"type": "array", "items": "int"})
    assert problems({"type": "array", "items": "int"}, {"type": "array", "items": "long"}) == [
        ("TYPE_MISMATCH", "/items")
    ]
    assert problems({"type": "map", "values": "int"}, {"type": "map", "values": "string"}) == [
        ("TYPE_MISMATCH", "/values")
    ]
    assert problems({"type": "map", "values": "int"}, {"type": "array", "items": "int"}) == [
        ("TYPE_MISMATCH", "/")
    ]


def test_nested_records_report_the_full_path() -> None:
    def order(sku: Any) -> dict[str, Any]:
        item = record("Item", field("sku", sku))
        return record("Order", field("items", {"type": "array", "items": item}))

    assert problems(order("int"), order("string")) == [
        ("TYPE_MISMATCH", "/fields/0/type/items/fields/0/type")
    ]


# -- logical types -------------------------------------------------------------------


def decimal(precision: int, scale: int) -> dict[str, Any]:
    return {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}


def test_logical_types_are_not_compared_as_under_confluents_default_policy() -> None:
    """The registry's STRICT policy runs Avro's check, which only sees underlying types."""
    assert problems(decimal(10, 2), decimal(12, 4), mode="FULL") == []
    ts = {"type": "long", "logicalType": "timestamp-millis"}
    assert problems(ts, "long", mode="FULL") == []
    assert problems({"type": "int", "logicalType": "date"}, "long") == [("TYPE_MISMATCH", "/")]


# -- recursion -----------------------------------------------------------------------


def linked_list(head: str) -> dict[str, Any]:
    return record("Node", field("head", head), field("next", ["null", "Node"], default=None))


def test_recursive_types_terminate_and_report_once() -> None:
    assert problems(linked_list("long"), linked_list("int"), mode="BACKWARD") == []
    assert problems(linked_list("long"), linked_list("int"), mode="FULL") == [
        ("TYPE_MISMATCH", "/fields/0/type")
    ]


def test_mutually_recursive_types() -> None:
    def tree(leaf: str) -> dict[str, Any]:
        forest = record("Forest", field("trees", {"type": "array", "items": "Tree"}))
        return record("Tree", field("leaf", leaf), field("children", forest))

    assert reads(tree("long"), tree("int"))
    assert problems(tree("int"), tree("long")) == [("TYPE_MISMATCH", "/fields/0/type")]


# -- modes ---------------------------------------------------------------------------


V1 = record("Order", field("id", "string"))
V2 = record("Order", field("id", "string"), field("note", "string", default=""))
V3 = record("Order", field("id", "string"), field("note", "string"))


@pytest.mark.parametrize(
    ("mode", "candidate", "previous", "compatible"),
    [
        (Mode.BACKWARD, V3, [V1, V2], True),
        (Mode.BACKWARD_TRANSITIVE, V3, [V1, V2], False),
        (Mode.FORWARD, V1, [V3, V2], True),
        (Mode.FORWARD_TRANSITIVE, V1, [V3, V2], False),
        (Mode.FULL, V2, [V1], True),
        (Mode.FULL, V3, [V1], False),
        (Mode.FULL_TRANSITIVE, V3, [V1, V2], False),
        (Mode.NONE, V3, [V1], True),
    ],
)
def test_modes(mode: Mode, candidate: Any, previous: list[Any], compatible: bool) -> None:
    result = check_compatibility(candidate, previous, format="avro", mode=mode)
    assert result.is_compatible is compatible


def test_full_reports_the_direction_and_version_of_each_problem() -> None:
    result = check_compatibility(V3, [V1], format="avro", mode="FULL")
    assert [(i.type, i.direction, i.version) for i in result.incompatibilities] == [
        ("READER_FIELD_MISSING_DEFAULT_VALUE", "backward", 1)
    ]
    assert "note" in result.incompatibilities[0].message


# -- references ----------------------------------------------------------------------

ADDRESS = json.dumps(record("Address", field("city", "string"), namespace="com.acme.common"))
CURRENCY = json.dumps(
    {"type": "enum", "name": "Currency", "namespace": "money", "symbols": ["EUR"]}
)
PRICE = json.dumps(
    record(
        "Price", field("amount", "double"), field("currency", "money.Currency"), namespace="money"
    )
)


def customer(address_type: Any = "com.acme.common.Address") -> dict[str, Any]:
    return record("Customer", field("address", address_type), namespace="com.acme")


def test_references_supply_named_types() -> None:
    refs = {"com.acme.common.Address": ADDRESS}
    assert problems(customer(), customer(), references=refs) == []
    parsed = avro.parse(customer(), references=refs)
    assert parsed.named["com.acme.common.Address"].fields[0].name == "city"


def test_references_may_depend_on_each_other_in_any_order() -> None:
    refs = {"money.Price": PRICE, "money.Currency": CURRENCY}
    order = record("Order", field("price", "money.Price"))
    assert problems(order, order, references=refs) == []


def test_a_schema_may_be_just_a_referenced_name_or_a_union_of_them() -> None:
    refs = {"com.acme.common.Address": ADDRESS, "money.Currency": CURRENCY}
    root = avro.parse("com.acme.common.Address", references=refs).root
    assert root.name == "com.acme.common.Address"
    union = avro.parse('["com.acme.common.Address", "money.Currency"]', references=refs)
    assert [b.kind for b in union.root.branches] == ["record", "enum"]


def test_a_changed_reference_is_compared_like_an_inline_type() -> None:
    old_refs = {"com.acme.common.Address": ADDRESS}
    new_address = record(
        "Address", field("city", "string"), field("zip", "string"), namespace="com.acme.common"
    )
    old = avro.parse(customer(), references=old_refs)
    new = avro.parse(customer(), references={"com.acme.common.Address": json.dumps(new_address)})
    assert problems(new, old) == [("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/0/type/fields/1")]


def test_broken_reference_is_reported_as_that_reference() -> None:
    with pytest.raises(SchemaParseError) as err:
        check_compatibility(customer(), [], format="avro", references={"Address": "{nope"})
    assert err.value.source == "reference 'Address'"
    assert err.value.location == "line 1, column 2"


# -- parsing -------------------------------------------------------------------------


def parse_error(schema: Any, **kw: Any) -> SchemaParseError:
    with pytest.raises(SchemaParseError) as err:
        avro.parse(schema, **kw)
    return err.value


def test_text_that_is_not_json_gives_line_and_column() -> None:
    err = parse_error('{"type": "record",\n "name": "Order",\n "fields": [}')
    assert err.location == "line 3, column 13"
    assert "not valid JSON" in err.reason


@pytest.mark.parametrize(
    ("schema", "location", "words"),
    [
        ({"name": "Order"}, "$", "missing 'type'"),
        (record("Order", field("a", "int"), field("b", "strin")), "$.fields[1].type", "unknown"),
        (record("Order", field("a", "int"), field("a", "long")), "$.fields[1].name", "duplicate"),
        (record("Order", field("a", "int", default="x")), "$.fields[0].default", "does not fit"),
        (record("Order", field("a", "string", default=None)), "$.fields[0].default", "default"),
        ({"type": "record", "name": "Order"}, "$.fields", "fields"),
        ({"type": "record", "name": "Or-der", "fields": []}, "$.name", "invalid name"),
        (record("Order", field("a", ["int", "int"])), "$.fields[0].type[1]", "already has"),
        (record("Order", field("a", ["int", ["string"]])), "$.fields[0].type[1]", "union"),
        ({"type": "enum", "name": "E", "symbols": ["A", "A"]}, "$.symbols[1]", "duplicate"),
        ({"type": "enum", "name": "E", "symbols": ["A"], "default": "B"}, "$.default", "symbols"),
        ({"type": "fixed", "name": "F"}, "$.size", "size"),
        ({"type": "array"}, "$", "items"),
        (
            record("Order", field("a", record("Order", field("b", "int")))),
            "$.fields[0].type.name",
            "redefinition",
        ),
        (record("Order", field("a", "int", order="sideways")), "$.fields[0].order", "order"),
        ([1], "$[0]", "schema must be"),
        (record("Order", field("a", "no-such-type")), "$.fields[0].type", "neither a primitive"),
        ({"type": "record", "fields": []}, "$", "needs a string 'name'"),
        (record("Order", namespace="shop..eu"), "$.namespace", "invalid namespace"),
        ({"type": "fixed", "name": "int", "size": 1}, "$.name", "may not be called"),
        (record("Order", aliases="Purchase"), "$.aliases", "list of strings"),
        (record("Order", aliases=["Pur-chase"]), "$.aliases[0]", "invalid alias"),
        ({"type": "record", "name": "Order", "fields": ["id"]}, "$.fields[0]", "must be an object"),
        (record("Order", field("1st", "int")), "$.fields[0].name", "invalid field name"),
        (
            {"type": "record", "name": "Order", "fields": [{"name": "id"}]},
            "$.fields[0]",
            "no 'type'",
        ),
        (
            record("Order", field("id", "int", aliases=["i-d"])),
            "$.fields[0].aliases",
            "field names",
        ),
        ({"type": "enum", "name": "E"}, "$.symbols", "'symbols' list"),
        ({"type": "enum", "name": "E", "symbols": ["1"]}, "$.symbols[0]", "invalid enum symbol"),
    ],
)
def test_invalid_schemas_name_the_json_path(schema: Any, location: str, words: str) -> None:
    err = parse_error(schema)
    assert err.location == location
    assert words in err.reason


def test_parse_errors_name_which_schema_is_wrong() -> None:
    with pytest.raises(SchemaParseError) as err:
        check_compatibility(V1, [V1, {"type": "strin"}], format="avro")
    assert str(err.value).startswith("previous[1], $.type: unknown type 'strin'")


def test_schema_forms_that_the_registry_accepts() -> None:
    assert avro.parse("string").root.kind == "string"
    assert avro.parse('"string"').root.kind == "string"
    assert avro.parse(b'{"type": "int"}').root.kind == "int"
    assert avro.parse({"type": "error", "name": "Oops", "fields": []}).root.kind == "record"
    # A use of a named type written as {"type": name}, and a use before the definition.
    currency = {"type": "enum", "name": "Currency", "symbols": ["EUR"]}
    wrapped = record("Price", field("a", {"type": "Currency"}), field("b", currency))
    parsed = avro.parse(wrapped)
    assert parsed.root.fields[0].type is parsed.root.fields[1].type


def test_union_defaults_may_match_any_branch() -> None:
    """Confluent's testBadDefaultNull: the string "null" is a valid default for [null, string]."""
    schema = record("myrecord", field("f1", ["null", "string"], default="null"))
    assert avro.parse(schema).root.fields[0].default == "null"


def test_names_resolve_against_the_enclosing_namespace() -> None:
    schema = record(
        "Order",
        field("customer", record("Customer", field("id", "string"))),
        field("referrer", ["null", "Customer"], default=None),
        namespace="shop",
    )
    parsed = avro.parse(schema)
    assert sorted(parsed.named) == ["shop.Customer", "shop.Order"]
    assert parsed.root.fields[1].type.branches[1] is parsed.named["shop.Customer"]
    outside = record("Order", field("c", record("Tag", field("v", "int"), namespace=None)))
    assert sorted(avro.parse({**outside, "namespace": "shop"}).named) == ["Tag", "shop.Order"]


def test_parsed_schemas_are_used_as_they_are() -> None:
    parsed = avro.parse(V1)
    assert avro.is_parsed(parsed) and not avro.is_parsed(V1)
    assert check_compatibility(parsed, [parsed], format="avro").is_compatible


# -- what makes long histories fast must not change a verdict ------------------------


def test_a_problem_in_a_repeated_optional_type_is_reported_at_every_field() -> None:
    """``["null", "string"]`` is one shared node per parse; each field still counts."""
    old = record("Order", field("a", ["null", "string"]), field("b", ["null", "string"]))
    new = record(
        "Order",
        field("a", ["null", "int"], default=None),
        field("b", ["null", "int"], default=None),
    )
    assert problems(new, old) == [
        ("MISSING_UNION_BRANCH", "/fields/0/type/1"),
        ("MISSING_UNION_BRANCH", "/fields/1/type/1"),
    ]


def test_remembered_verdicts_never_hide_a_change_inside_a_type_of_the_same_name() -> None:
    money = record("Money", field("units", "long"))
    cheaper = record("Money", field("units", "int"))
    order = lambda m: record("Order", field("total", m), field("tax", "Money"))  # noqa: E731
    assert reads(order(money), order(money))  # Money/Money remembered as compatible
    # Avro's memo (keyed by the pair of named types) repeats the problem for the second
    # use of Money at the first use's location, and so does eventscope.
    assert problems(order(cheaper), order(money)) == [
        ("TYPE_MISMATCH", "/fields/0/type/fields/0/type"),
        ("TYPE_MISMATCH", "/fields/0/type/fields/0/type"),
    ]


def test_remembered_verdicts_survive_a_long_history_and_clearing() -> None:
    versions = [record("Order", field("id", "string"))]
    for k in range(30):
        versions.append(
            record("Order", *versions[-1]["fields"], field(f"f{k}", ["null", "long"], default=None))
        )
    assert check_compatibility(versions[-1], versions[:-1], format="avro", mode="FULL_TRANSITIVE")
    clear_caches()
    breaking = record(
        "Order", *versions[-1]["fields"][:-1], field("f29", ["null", "int"], default=None)
    )
    result = check_compatibility(breaking, versions, format="avro", mode="BACKWARD_TRANSITIVE")
    assert {(i.type, i.version) for i in result.incompatibilities} == {
        ("MISSING_UNION_BRANCH", len(versions))
    }


def test_parsed_schemas_are_cached_by_their_json() -> None:
    text = json.dumps(V2)
    cached = avro.parse(text)
    assert avro.parse(text) is cached
    schema = record("Order", field("id", "string"))
    first = avro.parse(schema)
    schema["fields"][0]["type"] = "long"  # the caller's object changes after parsing
    assert avro.parse(schema).root.fields[0].type.kind == "long"
    assert first.root.fields[0].type.kind == "string"
    clear_caches()
    assert avro.parse(text) is not cached


def test_to_json_keeps_what_resolution_and_serialisation_need() -> None:
    schema = record(
        "Event",
        field("id", {"type": "fixed", "name": "Id", "size": 16}, aliases=["uuid"], doc="key"),
        field("tags", {"type": "array", "items": "string"}, default=[]),
        field("attrs", {"type": "map", "values": "long"}),
        field("at", {"type": "long", "logicalType": "timestamp-millis"}),
        field("kind", {"type": "enum", "name": "Kind", "symbols": ["A", "B"], "default": "A"}),
        field("again", "Id"),
        namespace="ev",
        aliases=["Happening"],
    )
    resolved = avro.parse(schema).to_json()
    assert resolved["aliases"] == ["ev.Happening"]
    assert resolved["fields"][0] == {
        "name": "id",
        "type": {"type": "fixed", "name": "ev.Id", "size": 16},
        "aliases": ["uuid"],
        "doc": "key",
    }
    assert resolved["fields"][3]["type"] == {"type": "long", "logicalType": "timestamp-millis"}
    assert resolved["fields"][5]["type"] == "ev.Id"
    assert avro.parse(resolved).to_json() == resolved
    fastavro_parse(resolved, named_schemas={})


def test_parsed_nodes_print_without_walking_cycles() -> None:
    parsed = avro.parse(linked_list("int"))
    assert repr(parsed.root) == "AvroType(record Node)"
    assert repr(parsed.root.fields[1]) == "Field(next: union)"
    assert repr(NO_DEFAULT) == "NO_DEFAULT"


def test_to_json_is_a_resolved_schema_fastavro_accepts() -> None:
    refs = {"money.Price": PRICE, "money.Currency": CURRENCY}
    schema = record("Order", field("price", "money.Price"), field("old", ["null", "money.Price"]))
    resolved = avro.parse(schema, references=refs).to_json()
    assert resolved["fields"][1]["type"] == ["null", "money.Price"]
    parsed = fastavro_parse(resolved, named_schemas={})
    assert parsed["fields"][0]["type"]["name"] == "money.Price"
    assert avro.parse(resolved).to_json() == resolved


# -- Apache Avro's own vectors: exact types and locations ---------------------------


def _exact_cases() -> list[Any]:
    doc = json.loads((CONFORMANCE / "apache_avro_schema_compatibility.json").read_text())
    return [
        pytest.param(c, id=c["name"])
        for c in doc["cases"]
        if "incompatibilities" in c or "first_location" in c
    ]


@pytest.mark.parametrize("case", _exact_cases())
def test_types_and_locations_match_avro(case: dict[str, Any]) -> None:
    found = [
        {"type": t, "location": loc} for t, loc in problems(case["candidate"], *case["previous"])
    ]
    if "incompatibilities" in case:
        assert found == case["incompatibilities"]
    else:
        assert found[0]["location"] == case["first_location"]
