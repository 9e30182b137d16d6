"""The shapes a JSON Schema is compared in.

Confluent Schema Registry does not diff JSON Schema documents keyword by keyword: it
first loads each document into a tree of typed schemas (string, number, object, array,
enum, combined, ...) and compares those trees.  Which keywords end up together in one
node decides the verdict — ``{"type": "string", "enum": [...]}`` is an ``allOf`` of an
enum and a string, not a string with an enum — so this module gives eventscope the same
node kinds, and :mod:`eventscope.schemas.json.loader` builds them the way the registry
does.

Nodes compare by identity (``eq=False``): a recursive schema is a graph, and the diff
needs to know when it meets the *same* pair of nodes again.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(eq=False)
class Node:
    """Annotations every schema kind carries, plus the JSON it was read from."""

    title: str | None = None
    description: str | None = None
    id: str | None = None
    has_default: bool = False
    default: Any = None
    connect_type: Any = None
    source: Any = None

    @functools.cached_property
    def key(self) -> str:
        """A canonical text of the source JSON: equal keys mean duplicate subschemas.

        Computed once: a loaded tree is not changed, and recursive unions ask for the
        keys of the same subschemas many times.
        """
        return json.dumps(self.source, sort_keys=True, default=str)


@dataclass(eq=False)
class EmptyNode(Node):
    """``{}`` (or only annotations): accepts everything."""


@dataclass(eq=False)
class TrueNode(EmptyNode):
    """The boolean schema ``true``: accepts everything, like ``{}``."""


@dataclass(eq=False)
class FalseNode(Node):
    """The boolean schema ``false``: accepts nothing."""


@dataclass(eq=False)
class BooleanNode(Node):
    pass


@dataclass(eq=False)
class NullNode(Node):
    pass


@dataclass(eq=False)
class StringNode(Node):
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None


@dataclass(eq=False)
class NumberNode(Node):
    integer: bool = False
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    exclusive_minimum: Decimal | None = None
    exclusive_maximum: Decimal | None = None
    multiple_of: Decimal | None = None


@dataclass(eq=False)
class EnumNode(Node):
    values: list[Any] = field(default_factory=list)


@dataclass(eq=False)
class ConstNode(Node):
    value: Any = None


@dataclass(eq=False)
class NotNode(Node):
    inner: Node | None = None


@dataclass(eq=False)
class CombinedNode(Node):
    """``allOf`` / ``anyOf`` / ``oneOf``; ``generated`` when keywords were split apart."""

    criterion: str = "allOf"
    subschemas: list[Node] = field(default_factory=list)
    generated: bool = False


@dataclass(eq=False)
class ConditionalNode(Node):
    """``if`` / ``then`` / ``else``: loaded, but the registry never compares it."""


@dataclass(eq=False)
class RefNode(Node):
    """A ``$ref``; ``target`` is filled in once the whole document is loaded."""

    ref: str = ""
    target: Node | None = None


@dataclass(eq=False)
class ObjectNode(Node):
    properties: dict[str, Node] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    additional_allowed: bool = True
    additional_schema: Node | None = None
    pattern_properties: list[tuple[str, Node]] = field(default_factory=list)
    property_dependencies: dict[str, set[str]] = field(default_factory=dict)
    schema_dependencies: dict[str, Node] = field(default_factory=dict)
    min_properties: int | None = None
    max_properties: int | None = None

    @functools.cached_property
    def required_names(self) -> frozenset[str]:
        """``required`` as a set: a diff asks once per property (100,000 of them)."""
        return frozenset(self.required)

    unevaluated: Node | None = None


@dataclass(eq=False)
class ArrayNode(Node):
    all_items: Node | None = None
    item_schemas: list[Node] = field(default_factory=list)
    additional_allowed: bool = True
    additional_schema: Node | None = None
    min_items: int | None = None
    max_items: int | None = None
    unique_items: bool = False
    min_contains: Decimal | None = None
    max_contains: Decimal | None = None
    unevaluated: Node | None = None


MERGEABLE = (ObjectNode, ArrayNode, NumberNode, StringNode)


def merged(target: Node, other: Node) -> Node:
    """A new node holding the constraints of both ``target`` and ``other`` (same kind).

    Used by the 2019-09/2020-12 loader, where every keyword first becomes its own little
    schema and same-kind pieces are joined back together.  Neither input is changed:
    pieces can belong to subschemas that other parts of the tree share.
    """
    out = dataclasses.replace(target)
    if isinstance(out, ObjectNode) and isinstance(other, ObjectNode):
        out.properties = {**out.properties, **other.properties}
        out.required = list(dict.fromkeys(out.required + other.required))  # in order, once
        out.additional_allowed = out.additional_allowed and other.additional_allowed
        out.pattern_properties = out.pattern_properties + other.pattern_properties
        deps = {name: set(d) for name, d in out.property_dependencies.items()}
        for name, more in other.property_dependencies.items():
            deps.setdefault(name, set()).update(more)
        out.property_dependencies = deps
        out.schema_dependencies = {**out.schema_dependencies, **other.schema_dependencies}
    elif isinstance(out, ArrayNode) and isinstance(other, ArrayNode):
        out.item_schemas = out.item_schemas + other.item_schemas
        out.additional_allowed = out.additional_allowed and other.additional_allowed
        out.unique_items = out.unique_items or other.unique_items
    elif isinstance(out, NumberNode) and isinstance(other, NumberNode):
        out.integer = out.integer or other.integer
    for name in _OPTIONAL_FIELDS[type(out)]:
        value = getattr(other, name)
        if value is not None:
            setattr(out, name, value)
    if isinstance(out.source, dict) and isinstance(other.source, dict):
        out.source = {**out.source, **other.source}
    return out


_OPTIONAL_FIELDS: dict[type, tuple[str, ...]] = {
    ObjectNode: ("additional_schema", "min_properties", "max_properties", "unevaluated"),
    ArrayNode: (
        "all_items",
        "additional_schema",
        "min_items",
        "max_items",
        "min_contains",
        "max_contains",
        "unevaluated",
    ),
    NumberNode: ("minimum", "maximum", "exclusive_minimum", "exclusive_maximum", "multiple_of"),
    StringNode: ("min_length", "max_length", "pattern"),
}


def resolve(node: Node) -> Node:
    """The schema a ``$ref`` stands for (following chains of refs); other nodes as is."""
    seen: set[int] = set()
    while isinstance(node, RefNode) and node.target is not None and id(node) not in seen:
        seen.add(id(node))
        node = node.target
    return node
