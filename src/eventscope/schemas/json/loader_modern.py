"""Drafts 2019-09 and 2020-12, grouped the way the registry's newer loader groups them.

Every keyword first becomes a small schema of its own; the pieces are then joined:
pieces of the same kind (the ``type`` string and a ``maxLength``, two object pieces)
merge, a piece of a kind listed in a ``type`` array merges into that branch of the
implicit ``anyOf``, and anything else becomes an implicit ``allOf``.  ``$ref`` is one
more piece, so unlike drafts 4-7 its siblings count.  Implicit ``allOf`` groups inside
``allOf``/``anyOf``/``oneOf`` are spliced into the outer list, as the registry does.
``$id`` is not compared, and an empty ``properties`` object is no constraint at all.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from eventscope.schemas.errors import SchemaParseError
from eventscope.schemas.json.loader import (
    COMBINATORS,
    NUMBER_KEYWORDS,
    Loader,
    Path,
    json_path,
    number,
)
from eventscope.schemas.json.nodes import (
    MERGEABLE,
    ArrayNode,
    BooleanNode,
    CombinedNode,
    ConstNode,
    EmptyNode,
    EnumNode,
    Node,
    NotNode,
    NullNode,
    NumberNode,
    ObjectNode,
    StringNode,
    merged,
)

if TYPE_CHECKING:
    from referencing._core import Resolver


class ModernLoader(Loader):
    """Builds nodes for drafts 2019-09 and 2020-12."""

    def build(self, raw: dict[str, Any], resolver: Resolver, path: Path) -> Node:
        pieces = [
            piece
            for key, value in raw.items()
            if (piece := self._piece(key, value, raw, resolver, path)) is not None
        ]
        for name, sub in raw.get("properties", {}).items():
            pieces.append(
                ObjectNode(
                    properties={name: self.load(sub, resolver, (*path, "properties", name))},
                    source={"properties": {name: sub}},
                )
            )
        for pattern, sub in raw.get("patternProperties", {}).items():
            loaded = self.load(sub, resolver, (*path, "patternProperties", pattern))
            pieces.append(
                ObjectNode(
                    pattern_properties=[(pattern, loaded)],
                    source={"patternProperties": {pattern: sub}},
                )
            )
        if "unevaluatedItems" in raw:
            pieces.append(
                ArrayNode(
                    unevaluated=self.load(
                        raw["unevaluatedItems"], resolver, (*path, "unevaluatedItems")
                    ),
                    source={"unevaluatedItems": raw["unevaluatedItems"]},
                )
            )
        if "unevaluatedProperties" in raw:
            pieces.append(
                ObjectNode(
                    unevaluated=self.load(
                        raw["unevaluatedProperties"], resolver, (*path, "unevaluatedProperties")
                    ),
                    source={"unevaluatedProperties": raw["unevaluatedProperties"]},
                )
            )
        joined: Node | None = None
        for piece in pieces:
            joined = piece if joined is None else _join(joined, piece)
        if joined is None:
            return EmptyNode()
        group = _generated(joined, "allOf")
        if group and len(group.subschemas) == 1:
            return dataclasses.replace(group.subschemas[0])
        return joined

    def _piece(
        self, key: str, value: Any, raw: dict[str, Any], resolver: Resolver, path: Path
    ) -> Node | None:
        source = {key: value}
        here = (*path, key)
        if key in ("$ref", "$dynamicRef", "$recursiveRef"):
            return self.ref(value, resolver, path)
        if key == "type":
            if isinstance(value, list):
                return CombinedNode(
                    criterion="anyOf",
                    generated=True,
                    source=source,
                    subschemas=[_bare_type(t, here) for t in value],
                )
            return _bare_type(value, here)
        if key == "enum":
            return EnumNode(values=list(value), source=source)
        if key == "const":
            return ConstNode(value=value, source=source)
        if key == "not":
            return NotNode(inner=self.load(value, resolver, here), source=source)
        if key in COMBINATORS:
            subschemas = [
                s for child in self.children(raw, key, resolver, path) for s in _flatten(child)
            ]
            return CombinedNode(criterion=key, subschemas=subschemas, source=source)
        if key == "if":
            return self.conditional(raw, resolver, path)
        if key in NUMBER_KEYWORDS:
            return self.number_node({key: value}, source)
        if key in ("minLength", "maxLength", "pattern"):
            return StringNode(
                min_length=value if key == "minLength" else None,
                max_length=value if key == "maxLength" else None,
                pattern=value if key == "pattern" else None,
                source=source,
            )
        return self._object_piece(key, value, resolver, here) or self._array_piece(
            key, value, raw, resolver, here
        )

    def _object_piece(
        self, key: str, value: Any, resolver: Resolver, here: Path
    ) -> ObjectNode | None:
        source = {key: value}
        if key == "additionalProperties":
            if isinstance(value, bool):
                return ObjectNode(additional_allowed=value, source=source)
            return ObjectNode(additional_schema=self.load(value, resolver, here), source=source)
        if key == "required":
            return ObjectNode(required=list(value), source=source)
        if key in ("minProperties", "maxProperties"):
            return ObjectNode(
                min_properties=value if key == "minProperties" else None,
                max_properties=value if key == "maxProperties" else None,
                source=source,
            )
        if key == "dependentRequired":
            return ObjectNode(
                property_dependencies={k: set(v) for k, v in value.items()}, source=source
            )
        if key == "dependentSchemas":
            return ObjectNode(
                source=source,
                schema_dependencies={
                    k: self.load(v, resolver, (*here, k)) for k, v in value.items()
                },
            )
        if key == "propertyNames":
            self.load(value, resolver, here)
            return ObjectNode(source=source)
        return None

    def _array_piece(
        self, key: str, value: Any, raw: dict[str, Any], resolver: Resolver, here: Path
    ) -> ArrayNode | None:
        source = {key: value}
        if key == "prefixItems" or (key == "items" and isinstance(value, list)):
            return ArrayNode(
                source=source,
                item_schemas=[self.load(s, resolver, (*here, i)) for i, s in enumerate(value)],
            )
        tuple_items = "prefixItems" if key == "items" else "items"
        if key == "items" or (key == "additionalItems" and isinstance(raw.get("items"), list)):
            if isinstance(value, bool):
                return ArrayNode(additional_allowed=value, source=source)
            loaded = self.load(value, resolver, here)
            if tuple_items in raw:
                return ArrayNode(additional_schema=loaded, source=source)
            return ArrayNode(all_items=loaded, source=source)
        if key == "contains":
            self.load(value, resolver, here)
            return ArrayNode(
                min_contains=number(raw.get("minContains", 1)),
                max_contains=number(raw.get("maxContains")),
                source=source,
            )
        if key in ("minItems", "maxItems"):
            return ArrayNode(
                min_items=value if key == "minItems" else None,
                max_items=value if key == "maxItems" else None,
                source=source,
            )
        if key == "uniqueItems":
            return ArrayNode(unique_items=value is True, source=source)
        return None


def _bare_type(type_name: Any, here: Path) -> Node:
    kinds: dict[Any, type[Node]] = {
        "string": StringNode,
        "integer": NumberNode,
        "number": NumberNode,
        "boolean": BooleanNode,
        "null": NullNode,
        "array": ArrayNode,
        "object": ObjectNode,
    }
    if type_name not in kinds:
        raise SchemaParseError(f"unknown type {type_name!r}", location=json_path(here))
    node = kinds[type_name](source={"type": type_name})
    if isinstance(node, NumberNode):
        node.integer = type_name == "integer"
    return node


def _generated(node: Node, criterion: str) -> CombinedNode | None:
    """``node`` if it is an implicit group (split keywords or a ``type`` array)."""
    if isinstance(node, CombinedNode) and node.generated and node.criterion == criterion:
        return node
    return None


def _flatten(node: Node) -> list[Node]:
    group = _generated(node, "allOf")
    return list(group.subschemas) if group else [node]


def _accumulate(nodes: list[Node], piece: Node) -> list[Node]:
    """Append ``piece`` to ``nodes``, merging it into the first node of its kind."""
    for i, node in enumerate(nodes):
        if type(node) is type(piece) and isinstance(node, MERGEABLE):
            return [*nodes[:i], merged(node, piece), *nodes[i + 1 :]]
    return [*nodes, piece]


def _join(left: Node, right: Node) -> Node:
    if type(left) is type(right) and isinstance(left, MERGEABLE):
        return merged(left, right)
    for maybe_union, piece in ((left, right), (right, left)):
        union = _generated(maybe_union, "anyOf")
        if union and any(type(s) is type(piece) for s in union.subschemas):
            return dataclasses.replace(union, subschemas=_accumulate(union.subschemas, piece))
    together: list[Node] = []
    for piece in (*_flatten(left), *_flatten(right)):
        together = _accumulate(together, piece)
    return CombinedNode(
        criterion="allOf",
        subschemas=together,
        generated=True,
        source={"allOf": [n.source for n in together]},
    )
