"""JSON Schema compatibility through the public API, one rule family at a time.

The conformance corpus (tests/conformance/json) pins the verdicts to Confluent's own
vectors; these tests name each rule so a regression says *which* rule broke, and cover
parsing, drafts, ``$ref`` and references, which the vectors barely touch.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from eventscope.schemas import SchemaParseError, check_compatibility, clear_caches
from eventscope.schemas.json import detect_draft, parse
from eventscope.schemas.json.diff import differences

CONFORMANCE = Path(__file__).parents[2] / "conformance" / "json"
D2020 = "https://json-schema.org/draft/2020-12/schema"
D4 = "http://json-schema.org/draft-04/schema#"


def types(candidate: Any, previous: Any, mode: str = "BACKWARD", **kwargs: Any) -> set[str]:
    """The incompatibility types reported for ``candidate`` against one previous schema."""
    result = check_compatibility(candidate, [previous], format="json", mode=mode, **kwargs)
    return {i.type for i in result.incompatibilities}


def compatible(candidate: Any, previous: Any, **kwargs: Any) -> bool:
    return not types(candidate, previous, **kwargs)


def obj(
    properties: dict[str, Any],
    *,
    required: list[str] | None = None,
    additional: Any = None,
    **extra: Any,
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required is not None:
        schema["required"] = required
    if additional is not None:
        schema["additionalProperties"] = additional
    return schema


STR = {"type": "string"}
NUM = {"type": "number"}
INT = {"type": "integer"}


# -- parsing and drafts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "draft"),
    [
        (None, "draft7"),
        ("http://json-schema.org/draft-04/schema#", "draft4"),
        ("https://json-schema.org/schema", "draft4"),
        ("http://json-schema.org/draft-06/schema", "draft6"),
        ("https://json-schema.org/draft-07/schema#", "draft7"),
        ("https://json-schema.org/draft/2019-09/schema", "draft2019-09"),
        ("http://json-schema.org/draft/2020-12/schema#", "draft2020-12"),
        ("http://example.com/my-own-dialect", "draft7"),
    ],
)
def test_draft_is_detected_from_schema_keyword_like_the_registry(url, draft) -> None:
    schema = {} if url is None else {"$schema": url}
    assert detect_draft(schema) == draft
    assert parse(schema).draft == draft


def test_bad_json_text_is_reported_by_line_and_column() -> None:
    with pytest.raises(SchemaParseError) as info:
        check_compatibility('{"type": "object",\n  "properties": {,}}', [], format="json")
    assert info.value.location == "line 2, column 18"
    assert info.value.source == "candidate"


def test_metaschema_violation_is_reported_by_json_path() -> None:
    bad = {"type": "object", "properties": {"id": {"type": "strin"}}}
    with pytest.raises(SchemaParseError) as info:
        check_compatibility(obj({}), [bad], format="json")
    assert info.value.location == "$.properties.id.type"
    assert info.value.source == "previous[0]"
    assert "draft7" in info.value.reason


def test_metaschema_of_the_detected_draft_is_used() -> None:
    # An empty 'required' list is invalid in draft 4 only.
    parse({"required": []})
    with pytest.raises(SchemaParseError) as info:
        parse({"$schema": D4, "required": []})
    assert info.value.location == "$.required"


def test_invalid_regex_is_a_parse_error() -> None:
    with pytest.raises(SchemaParseError) as info:
        parse({"properties": {"a": {"pattern": "(("}}})
    assert info.value.location == "$.properties.a.pattern"


@pytest.mark.parametrize("root", ["[1, 2]", "42", '"text"'])
def test_root_must_be_an_object_or_boolean(root) -> None:
    with pytest.raises(SchemaParseError) as info:
        parse(root)
    assert info.value.location == "$"


def test_boolean_schemas_parse_and_compare() -> None:
    assert compatible(True, False)
    assert compatible("true", {"type": "string"})
    assert types({"type": "string"}, True) == {"TYPE_CHANGED"}


def test_unresolvable_ref_is_a_parse_error_at_the_ref() -> None:
    with pytest.raises(SchemaParseError) as info:
        parse({"properties": {"a": {"$ref": "#/definitions/missing"}}})
    assert info.value.location == "$.properties.a.$ref"
    assert "#/definitions/missing" in info.value.reason


def test_a_broken_reference_names_the_reference() -> None:
    with pytest.raises(SchemaParseError) as info:
        parse({"$ref": "other.json"}, references={"other.json": '{"type": '})
    assert info.value.source == "references['other.json']"
    assert info.value.location == "line 1, column 10"


def test_parsed_schemas_can_be_passed_instead_of_text() -> None:
    old, new = parse(obj({"a": STR})), parse(obj({"a": NUM}))
    result = check_compatibility(new, [old], format="json")
    assert [i.type for i in result.incompatibilities] == ["TYPE_CHANGED"]


# -- the incompatibility report ---------------------------------------------------------


def test_incompatibility_has_confluent_type_json_path_and_message() -> None:
    result = check_compatibility(obj({"id": NUM}), [obj({"id": STR})], format="json")
    [found] = result.incompatibilities
    assert (found.type, found.location) == ("TYPE_CHANGED", "#/properties/id")
    assert "#/properties/id" in found.message
    assert (found.direction, found.version) == ("backward", 1)


def test_modes_compose_the_backward_check() -> None:
    narrow, wide = {"type": "integer"}, {"type": "number"}
    assert compatible(wide, narrow)
    assert types(narrow, wide) == {"TYPE_NARROWED"}
    assert types(wide, narrow, mode="FORWARD") == {"TYPE_NARROWED"}
    assert types(wide, narrow, mode="FULL") == {"TYPE_NARROWED"}
    history = [{"type": "integer", "maximum": 5}, {"type": "integer", "maximum": 10}]
    latest = check_compatibility({"type": "integer", "maximum": 8}, history, format="json")
    assert [i.type for i in latest.incompatibilities] == ["MAXIMUM_DECREASED"]
    transitive = check_compatibility(
        {"type": "integer", "maximum": 8}, history, format="json", mode="BACKWARD_TRANSITIVE"
    )
    assert [i.version for i in transitive.incompatibilities] == [2]


# -- types, enums, const, numbers, strings -----------------------------------------------


def test_type_changes() -> None:
    assert types(NUM, STR) == {"TYPE_CHANGED"}
    assert compatible({}, STR)  # anything may become the empty schema
    assert types(STR, {}) == {"TYPE_CHANGED"}
    assert types({"properties": {}}, {}) == {"TYPE_CHANGED"}
    assert compatible(NUM, INT)
    assert types(INT, NUM) == {"TYPE_NARROWED"}


def test_type_array_is_a_union() -> None:
    assert compatible({"type": ["string", "null"]}, STR)
    assert types(STR, {"type": ["string", "null"]}) == {"TYPE_CHANGED"}
    assert compatible(
        {"type": ["string", "null"], "maxLength": 9}, {"type": ["string", "null"], "maxLength": 3}
    )
    # A branch that only matches incompatibly is no match at all.
    assert types(
        {"type": ["string", "null"], "maxLength": 3}, {"type": ["string", "null"], "maxLength": 9}
    ) == {"COMBINED_TYPE_SUBSCHEMAS_CHANGED"}


def test_connect_bytes_may_move_between_string_and_number() -> None:
    old = {"type": "string", "connect.type": "bytes"}
    assert compatible({"type": "number", "connect.type": "bytes"}, old)
    assert types({"type": "number"}, old) == {"TYPE_CHANGED"}


def test_enum_changes() -> None:
    old = {"enum": ["a", "b"]}
    assert compatible({"enum": ["a", "b", "c"]}, old)
    assert types({"enum": ["a"]}, old) == {"ENUM_ARRAY_NARROWED"}
    assert types({"enum": ["a", "c"]}, old) == {"ENUM_ARRAY_CHANGED"}
    assert types({"enum": [1]}, {"enum": [True]}) == {"ENUM_ARRAY_CHANGED"}


def test_enum_next_to_a_type_is_an_intersection() -> None:
    old = {"type": "string", "enum": ["red"]}
    assert compatible({"type": "string"}, old)  # PRODUCT_TYPE_NARROWED
    assert types({"type": "string", "enum": ["blue"]}, old) == {"COMBINED_TYPE_SUBSCHEMAS_CHANGED"}


def test_const_changes() -> None:
    assert types(obj({"a": {"const": "x"}}), obj({"a": {"const": "y"}})) == {"ENUM_ARRAY_CHANGED"}
    assert compatible(obj({"a": {"const": {"k": [1]}}}), obj({"a": {"const": {"k": [1]}}}))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({"maximum": 10}, {"maximum": 20}, set()),
        ({"maximum": 10}, {}, set()),
        ({"maximum": 10}, {"maximum": 5}, {"MAXIMUM_DECREASED"}),
        ({}, {"maximum": 5}, {"MAXIMUM_ADDED"}),
        ({"minimum": 1}, {"minimum": 0}, set()),
        ({"minimum": 1}, {"minimum": 2}, {"MINIMUM_INCREASED"}),
        ({"exclusiveMaximum": 10}, {"exclusiveMaximum": 11}, set()),
        ({"exclusiveMaximum": 10}, {"exclusiveMaximum": 9}, {"EXCLUSIVE_MAXIMUM_DECREASED"}),
        ({"exclusiveMinimum": 1}, {"exclusiveMinimum": 2}, {"EXCLUSIVE_MINIMUM_INCREASED"}),
        ({}, {"exclusiveMinimum": 2}, {"EXCLUSIVE_MINIMUM_ADDED"}),
        ({"multipleOf": 10}, {"multipleOf": 5}, set()),
        ({"multipleOf": 0.5}, {"multipleOf": 10}, {"MULTIPLE_OF_EXPANDED"}),
        ({"multipleOf": 3}, {"multipleOf": 5}, {"MULTIPLE_OF_CHANGED"}),
        ({}, {"multipleOf": 5}, {"MULTIPLE_OF_ADDED"}),
        ({"multipleOf": 0.5}, {"multipleOf": 0.50}, set()),
    ],
)
def test_numeric_bounds(old, new, expected) -> None:
    assert types({"type": "number", **new}, {"type": "number", **old}) == expected


def test_draft4_boolean_exclusive_limits_are_not_limits() -> None:
    old = {"$schema": D4, "type": "number", "maximum": 5, "exclusiveMaximum": False}
    new = {"$schema": D4, "type": "number", "maximum": 5, "exclusiveMaximum": True}
    assert compatible(new, old)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({"maxLength": 5}, {"maxLength": 9}, set()),
        ({"maxLength": 5}, {"maxLength": 3}, {"MAX_LENGTH_DECREASED"}),
        ({}, {"maxLength": 3}, {"MAX_LENGTH_ADDED"}),
        ({"minLength": 2}, {"minLength": 1}, set()),
        ({"minLength": 2}, {"minLength": 3}, {"MIN_LENGTH_INCREASED"}),
        ({"minLength": 2}, {}, set()),
        ({"pattern": "^a"}, {}, set()),
        ({}, {"pattern": "^a"}, {"PATTERN_ADDED"}),
        ({"pattern": "^a"}, {"pattern": "^b"}, {"PATTERN_CHANGED"}),
        ({"format": "email"}, {"format": "uri"}, set()),
    ],
)
def test_string_constraints(old, new, expected) -> None:
    assert types({"type": "string", **new}, {"type": "string", **old}) == expected


def test_annotations_never_break_readers() -> None:
    old = {"type": "string", "title": "a", "description": "b", "default": "c", "$id": "x"}
    assert compatible({"type": "string", "title": "z", "description": "y", "$id": "w"}, old)


# -- objects: content models, required, dependencies -------------------------------------


def test_open_content_model_rules() -> None:
    old = obj({"a": STR})
    assert compatible(obj({}), old)  # removing from an open model
    assert types(obj({"a": STR, "b": NUM}), old) == {
        "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
    }
    assert types(obj({"a": STR, "b": NUM}, required=["b"]), old) == {
        "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
    }
    assert compatible(obj({"a": STR, "b": {}}), old)  # an empty schema accepts old values


def test_closed_content_model_rules() -> None:
    old = obj({"a": STR}, additional=False)
    assert compatible(obj({"a": STR, "b": NUM}, additional=False), old)
    assert types(obj({"a": STR, "b": NUM}, required=["b"], additional=False), old) == {
        "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
    }
    assert compatible(
        obj({"a": STR, "b": {"type": "number", "default": 0}}, required=["b"], additional=False),
        old,
    )
    assert types(obj({}, additional=False), old) == {"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"}
    assert compatible(obj({}, additional=False), obj({"a": False}, additional=False))


def test_partially_open_content_model_rules() -> None:
    old = obj({"a": STR}, additional=STR)
    assert compatible(obj({"a": STR, "b": STR}, additional=STR), old)
    assert types(obj({"a": STR, "b": NUM}, additional=STR), old) == {
        "TYPE_CHANGED",
        "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    }
    closed = obj({"a": STR, "b": INT}, additional=False)
    assert compatible(obj({"a": STR}, additional=NUM), closed)
    assert types(obj({"a": STR}, additional=STR), closed) == {
        "TYPE_CHANGED",
        "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    }


def test_pattern_properties_cover_matching_names() -> None:
    old = obj({}, additional=False, patternProperties={"^n_": INT})
    assert compatible(obj({"n_1": NUM}, additional=False, patternProperties={"^n_": INT}), old)
    # Old data may hold 1.5 under "n_1" only if the pattern allowed numbers.
    assert types(
        obj({"n_1": INT}, additional=False, patternProperties={"^n_": NUM}),
        obj({}, additional=False, patternProperties={"^n_": NUM}),
    ) == {"TYPE_NARROWED", "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"}


def test_additional_properties_changes() -> None:
    assert compatible(obj({}), obj({}, additional=False))
    assert types(obj({}, additional=False), obj({})) == {"ADDITIONAL_PROPERTIES_REMOVED"}
    assert types(obj({}, additional=STR), obj({})) == {"ADDITIONAL_PROPERTIES_NARROWED"}
    assert compatible(obj({}), obj({}, additional=STR))
    assert types(obj({}, additional=NUM), obj({}, additional=STR)) == {"TYPE_CHANGED"}


def test_required_changes() -> None:
    old = obj({"a": STR, "b": STR}, required=["a"])
    assert compatible(obj({"a": STR, "b": STR}), old)
    assert types(obj({"a": STR, "b": STR}, required=["a", "b"]), old) == {
        "REQUIRED_ATTRIBUTE_ADDED"
    }
    assert compatible(
        obj({"a": STR, "b": {"type": "string", "default": ""}}, required=["a", "b"]), old
    )


def test_property_counts() -> None:
    assert types(obj({}, maxProperties=2), obj({}, maxProperties=3)) == {"MAX_PROPERTIES_DECREASED"}
    assert types(obj({}, minProperties=2), obj({})) == {"MIN_PROPERTIES_ADDED"}
    assert compatible(obj({}), obj({}, minProperties=2))


def test_dependencies() -> None:
    old = obj({}, dependencies={"a": ["b", "c"]})
    assert compatible(obj({}, dependencies={"a": ["b"]}), old)
    assert types(obj({}, dependencies={"a": ["b", "c", "d"]}), old) == {"DEPENDENCY_ARRAY_EXTENDED"}
    assert types(obj({}, dependencies={"a": ["d"]}), old) == {"DEPENDENCY_ARRAY_CHANGED"}
    assert types(obj({}, dependencies={"x": STR}), obj({})) == {"DEPENDENCY_SCHEMA_ADDED"}
    assert compatible(obj({}), obj({}, dependencies={"x": STR}))


def test_2020_dependent_required_and_schemas() -> None:
    def schema(**keywords: Any) -> dict[str, Any]:
        return {"$schema": D2020, "type": "object", **keywords}

    assert types(schema(dependentRequired={"a": ["b"]}), schema()) == {"DEPENDENCY_ARRAY_ADDED"}
    assert types(schema(dependentSchemas={"a": NUM}), schema(dependentSchemas={"a": STR})) == {
        "TYPE_CHANGED"
    }


def test_2020_unevaluated_properties_is_a_content_model() -> None:
    closed = {"$schema": D2020, "properties": {"a": STR}, "unevaluatedProperties": False}
    added = {"$schema": D2020, "properties": {"a": STR, "b": NUM}, "unevaluatedProperties": False}
    assert compatible(added, closed)
    removed = {"$schema": D2020, "properties": {}, "required": [], "unevaluatedProperties": False}
    assert types(removed, closed) == {"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"}
    assert types({"$schema": D2020, "properties": {"a": STR}}, closed) == set()
    assert types(closed, {"$schema": D2020, "properties": {"a": STR}, "required": []}) == {
        "UNEVALUATED_PROPERTIES_REMOVED"
    }


# -- arrays ---------------------------------------------------------------------------------


def arr(**keywords: Any) -> dict[str, Any]:
    return {"type": "array", **keywords}


def test_array_items_and_limits() -> None:
    assert types(arr(items=STR), arr()) == {"SCHEMA_ADDED"}
    assert compatible(arr(), arr(items=STR))
    assert types(arr(items=NUM), arr(items=STR)) == {"TYPE_CHANGED"}
    assert types(arr(maxItems=2), arr(maxItems=3)) == {"MAX_ITEMS_DECREASED"}
    assert types(arr(minItems=2), arr(minItems=1)) == {"MIN_ITEMS_INCREASED"}
    assert types(arr(uniqueItems=True), arr()) == {"UNIQUE_ITEMS_ADDED"}
    assert compatible(arr(), arr(uniqueItems=True))


def test_tuple_items_content_models() -> None:
    closed = arr(items=[STR, NUM], additionalItems=False)
    assert compatible(arr(items=[STR, NUM, STR]), closed)
    assert types(arr(items=[STR], additionalItems=False), closed) == {
        "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"
    }
    assert types(arr(items=[STR, NUM, STR]), arr(items=[STR, NUM])) == {
        "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"
    }
    partial = arr(items=[STR], additionalItems=NUM)
    assert compatible(arr(items=[STR, NUM]), partial)
    assert types(arr(items=[STR, INT]), partial) == {
        "TYPE_NARROWED",
        "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    }
    assert types(arr(items=[STR, STR], additionalItems=NUM), partial) == {
        "TYPE_CHANGED",
        "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    }
    assert types(arr(items=[STR], additionalItems=False), arr(items=[STR])) == {
        "ADDITIONAL_ITEMS_REMOVED"
    }


def test_2020_prefix_items_and_items() -> None:
    def schema(**keywords: Any) -> dict[str, Any]:
        return {"$schema": D2020, "type": "array", **keywords}

    closed = schema(prefixItems=[STR, NUM], items=False)
    assert compatible(schema(prefixItems=[STR], items=NUM), closed)
    assert types(schema(prefixItems=[STR], items=STR), closed) == {
        "TYPE_CHANGED",
        "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    }
    assert types(schema(prefixItems=[STR], items=STR), schema(prefixItems=[STR])) == {
        "ADDITIONAL_ITEMS_NARROWED"
    }
    assert types(schema(items=NUM), schema(items=STR)) == {"TYPE_CHANGED"}
    assert types(schema(contains=NUM, minContains=2), schema(contains=NUM)) == {
        "MIN_CONTAINS_INCREASED"
    }


# -- unions, intersections, not --------------------------------------------------------------


def test_widening_to_a_union_is_compatible() -> None:
    assert compatible({"oneOf": [STR, NUM]}, STR)
    assert compatible({"anyOf": [{"type": "null"}, STR]}, STR)
    assert types({"oneOf": [NUM, {"type": "null"}]}, STR) == {"TYPE_CHANGED"}


def test_union_changes() -> None:
    old = {"oneOf": [STR, NUM]}
    assert compatible({"oneOf": [NUM, STR, {"type": "null"}]}, old)
    assert types({"oneOf": [STR]}, old) == {"SUM_TYPE_NARROWED"}
    assert types({"oneOf": [STR, {"type": "boolean"}]}, old) == {"COMBINED_TYPE_SUBSCHEMAS_CHANGED"}
    assert compatible({"anyOf": [STR, NUM]}, old)  # COMBINED_TYPE_EXTENDED
    assert types({"allOf": [STR, NUM]}, {"anyOf": [STR, NUM]}) == {"COMBINED_TYPE_CHANGED"}
    assert compatible({"oneOf": [STR, STR, NUM]}, old)  # duplicates collapse


def test_intersection_changes() -> None:
    old = {"allOf": [obj({"a": STR}), obj({"b": STR})]}
    assert compatible({"allOf": [obj({"a": STR})]}, old)
    assert types({"allOf": [obj({"a": STR}), obj({"b": STR}), obj({"c": STR})]}, old) == {
        "PRODUCT_TYPE_EXTENDED"
    }
    assert compatible(obj({"a": STR}), old)  # an allOf may become one of its parts


def test_not_is_compared_in_reverse() -> None:
    assert compatible({"not": STR}, {"not": {"type": ["string", "null"]}})
    assert types({"not": {"type": ["string", "null"]}}, {"not": STR}) == {"NOT_TYPE_EXTENDED"}


# -- $ref, definitions and references --------------------------------------------------------


def test_local_refs_are_followed() -> None:
    def schema(t: str) -> dict[str, Any]:
        return {
            "type": "array",
            "items": {"$ref": "#/definitions/x"},
            "definitions": {"x": {"type": t}},
        }

    assert types(schema("number"), schema("string")) == {"TYPE_CHANGED"}
    inlined = {"type": "string"}
    assert compatible({"$ref": "#/definitions/x", "definitions": {"x": inlined}}, inlined)


def test_defs_bucket_bridge() -> None:
    # The registry copies 'definitions' into '$defs', so either pointer resolves.
    parse({"properties": {"a": {"$ref": "#/$defs/x"}}, "definitions": {"x": STR}})


def test_draft7_ignores_ref_siblings_but_2020_keeps_them() -> None:
    def schema(draft: str | None) -> dict[str, Any]:
        body = {
            "$ref": "#/definitions/base",
            "maxLength": 3,
            "definitions": {"base": {"type": "string"}},
        }
        return body if draft is None else {"$schema": draft, **body}

    assert compatible(schema(None), {"type": "string"})
    assert "TYPE_CHANGED" in types(schema(D2020), {"$schema": D2020, "type": "string"})


def test_external_references_resolve_by_name_and_against_id() -> None:
    references = {
        "address.json": json.dumps(
            {"type": "object", "properties": {"zip": STR}, "definitions": {"code": NUM}}
        )
    }
    old = obj({"home": {"$ref": "address.json"}})
    new = obj({"home": {"$ref": "address.json#/definitions/code"}})
    result = check_compatibility(new, [old], format="json", references=references)
    assert [(i.type, i.location) for i in result.incompatibilities] == [
        ("TYPE_CHANGED", "#/properties/home")
    ]
    with_id = {"$id": "https://example.com/schemas/order.json", **old}
    assert compatible(with_id, old, references=references)


def test_reference_is_compared_by_content() -> None:
    old_refs = {"a.json": '{"type": "string"}'}
    schema = obj({"x": {"$ref": "a.json"}})
    old = parse(schema, references=old_refs)
    new = parse(schema, references={"a.json": '{"type": "integer"}'})
    result = check_compatibility(new, [old], format="json")
    assert [i.type for i in result.incompatibilities] == ["TYPE_CHANGED"]


def test_recursive_schemas_terminate_and_still_find_deep_changes() -> None:
    def tree(leaf: str) -> dict[str, Any]:
        return {
            "definitions": {
                "node": {
                    "type": "object",
                    "properties": {
                        "value": {"type": leaf},
                        "children": {"type": "array", "items": {"$ref": "#/definitions/node"}},
                        "next": {"oneOf": [{"type": "null"}, {"$ref": "#/definitions/node"}]},
                    },
                }
            },
            "$ref": "#/definitions/node",
        }

    assert compatible(tree("integer"), tree("integer"))
    assert compatible(tree("number"), tree("integer"))
    assert "TYPE_CHANGED" in types(tree("string"), tree("integer"))


def _chain(length: int, leaf: str) -> dict[str, Any]:
    """``length`` definitions, each holding the next through a union; the last the first."""
    defs = {
        f"n{i}": {
            "type": "object",
            "properties": {
                "value": {"type": leaf if i == length - 1 else "string"},
                "next": {
                    "oneOf": [{"type": "null"}, {"$ref": f"#/definitions/n{(i + 1) % length}"}]
                },
            },
        }
        for i in range(length)
    }
    return {"definitions": defs, "$ref": "#/definitions/n0"}


def test_deep_recursive_schemas_are_compared_without_deep_python_recursion(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cycle through 300 definitions is compared with a few dozen frames to spare.

    The comparison keeps its own stack, so it neither needs a higher recursion limit
    nor touches the process-wide one (which would race with other threads).
    """
    old, same = parse(_chain(300, "integer")), parse(_chain(300, "integer"))
    changed = parse(_chain(300, "string"))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 60)
    try:
        with monkeypatch.context() as patched:
            patched.setattr(sys, "setrecursionlimit", _forbidden)
            unchanged = check_compatibility(same, [old], format="json")
            broken = check_compatibility(changed, [old], format="json")
    finally:
        sys.setrecursionlimit(limit)
    assert unchanged.is_compatible
    assert not broken.is_compatible


def _forbidden(limit: int) -> None:
    raise AssertionError(f"the comparison changed the recursion limit to {limit}")


def test_parsed_schemas_are_cached_by_their_json() -> None:
    text = '{"type": "object", "properties": {"id": {"type": "string"}}}'
    cached = parse(text)
    assert parse(text) is cached
    schema = {"type": "object", "properties": {"id": {"type": "string"}}}
    first = parse(schema)
    schema["properties"]["id"]["type"] = "integer"  # the caller's object changes later
    assert parse(schema) is not first
    assert first.raw["properties"]["id"]["type"] == "string"
    assert "TYPE_CHANGED" in types(schema, first.raw)
    clear_caches()
    assert parse(text) is not cached


# -- fidelity with Confluent's full change lists ---------------------------------------------


def _vectors() -> list[Any]:
    params = []
    for path in sorted(CONFORMANCE.glob("*.json")):
        for case in json.loads(path.read_text())["cases"]:
            if "changes" in case:
                params.append(pytest.param(case, id=f"{path.stem}/{case['name']}"))
    return params


@pytest.mark.parametrize("case", _vectors())
def test_every_change_confluent_lists_is_found_at_its_path(case) -> None:
    """Not just the verdict: the same Difference types at the same JSON paths."""
    old, new = parse(case["previous"][-1]), parse(case["candidate"])
    found = sorted(f"{c.type} {c.path}" for c in differences(old.root, new.root))
    assert found == sorted(case["changes"])
