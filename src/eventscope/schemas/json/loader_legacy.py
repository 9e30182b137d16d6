"""Drafts 4, 6 and 7, grouped the way the registry's draft 4-7 loader groups them.

Keywords are grouped by schema kind: ``enum``, each of ``allOf``/``anyOf``/``oneOf``,
``not``, ``const`` and ``type`` make one schema each, and keywords of a kind no ``type``
claimed (``minLength`` without ``"type": "string"``, ``properties`` without
``"type": "object"``) make an untyped schema of that kind.  More than one schema means an
implicit ``allOf``, which is why ``{"type": "string", "enum": [...]}`` compares as an
intersection.  A ``$ref`` hides every keyword next to it.
"""

from __future__ import annotations

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
)

if TYPE_CHECKING:
    from referencing._core import Resolver

_STRING_KEYWORDS = ("minLength", "maxLength", "pattern", "format")
_ARRAY_KEYWORDS = ("items", "additionalItems", "minItems", "maxItems", "uniqueItems")
_OBJECT_KEYWORDS = (
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "dependencies",
    "patternProperties",
    "additionalProperties",
)


class LegacyLoader(Loader):
    """Builds nodes for drafts 4, 6 and 7."""

    def schema_id(self, raw: dict[str, Any]) -> str | None:
        return raw.get("id" if self.draft == "draft4" else "$id")

    def build(self, raw: dict[str, Any], resolver: Resolver, path: Path) -> Node:
        if "$ref" in raw:
            return self.ref(raw["$ref"], resolver, path)
        parts: list[Node] = []
        if "enum" in raw:
            parts.append(EnumNode(values=list(raw["enum"]), source={"enum": raw["enum"]}))
        for key in COMBINATORS:
            if key in raw:
                parts.append(
                    CombinedNode(
                        criterion=key,
                        source={key: raw[key]},
                        subschemas=self.children(raw, key, resolver, path),
                    )
                )
        if "not" in raw:
            parts.append(
                NotNode(
                    inner=self.load(raw["not"], resolver, (*path, "not")),
                    source={"not": raw["not"]},
                )
            )
        if self.draft != "draft4" and "const" in raw:
            parts.append(ConstNode(value=raw["const"], source={"const": raw["const"]}))
        claimed: set[str] = set()
        if "type" in raw:
            types = raw["type"]
            typed = [
                self._typed(t, raw, resolver, path, claimed)
                for t in (types if isinstance(types, list) else [types])
            ]
            if isinstance(types, list):
                parts.append(
                    CombinedNode(criterion="anyOf", subschemas=typed, source={"type": types})
                )
            else:
                parts.extend(typed)
        unclaimed = set(raw) - claimed
        for kind, keywords in self._kind_keywords():
            if unclaimed & set(keywords):
                parts.append(self._kind(kind, raw, resolver, path))
        if self.draft == "draft7" and unclaimed & {"if", "then", "else"}:
            parts.append(self.conditional(raw, resolver, path))
        if not parts:
            return EmptyNode()
        if len(parts) == 1:
            return parts[0]
        return CombinedNode(criterion="allOf", subschemas=parts, generated=True)

    def _kind_keywords(self) -> list[tuple[str, tuple[str, ...]]]:
        newer = self.draft != "draft4"
        return [
            ("array", _ARRAY_KEYWORDS + (("contains",) if newer else ())),
            ("object", _OBJECT_KEYWORDS + (("propertyNames",) if newer else ())),
            ("number", NUMBER_KEYWORDS),
            ("string", _STRING_KEYWORDS),
        ]

    def _typed(
        self, type_name: Any, raw: dict[str, Any], resolver: Resolver, path: Path, claimed: set[str]
    ) -> Node:
        if type_name in ("boolean", "null"):
            return (
                BooleanNode(source={"type": type_name})
                if type_name == "boolean"
                else NullNode(source={"type": type_name})
            )
        kind = "number" if type_name == "integer" else type_name
        keywords = dict(self._kind_keywords()).get(kind)
        if keywords is None:
            raise SchemaParseError(
                f"unknown type {type_name!r}", location=json_path((*path, "type"))
            )
        claimed.update(keywords)
        node = self._kind(kind, raw, resolver, path)
        if isinstance(node, NumberNode):
            node.integer = type_name == "integer"
        node.source = {"type": type_name, **node.source}
        return node

    def _kind(self, kind: str, raw: dict[str, Any], resolver: Resolver, path: Path) -> Node:
        keywords = dict(self._kind_keywords())[kind]
        source = {k: raw[k] for k in keywords if k in raw}
        if kind == "string":
            return StringNode(
                min_length=raw.get("minLength"),
                max_length=raw.get("maxLength"),
                pattern=raw.get("pattern"),
                source=source,
            )
        if kind == "number":
            return self.number_node(raw, source)
        if kind == "array":
            return self._array(raw, resolver, path, source)
        return self._object(raw, resolver, path, source)

    def _array(
        self, raw: dict[str, Any], resolver: Resolver, path: Path, source: dict[str, Any]
    ) -> ArrayNode:
        node = ArrayNode(
            min_items=raw.get("minItems"),
            max_items=raw.get("maxItems"),
            unique_items=raw.get("uniqueItems") is True,
            min_contains=number(raw.get("minContains")),
            max_contains=number(raw.get("maxContains")),
            source=source,
        )
        items = raw.get("items")
        if isinstance(items, list):
            node.item_schemas = self.children(raw, "items", resolver, path)
        elif items is not None:
            node.all_items = self.load(items, resolver, (*path, "items"))
        extra = raw.get("additionalItems")
        if isinstance(extra, bool):
            node.additional_allowed = extra
        elif extra is not None:
            node.additional_schema = self.load(extra, resolver, (*path, "additionalItems"))
        return node

    def _object(
        self, raw: dict[str, Any], resolver: Resolver, path: Path, source: dict[str, Any]
    ) -> ObjectNode:
        id_keyword = "id" if self.draft == "draft4" else "$id"
        node = ObjectNode(
            required=list(raw.get("required", [])),
            min_properties=raw.get("minProperties"),
            max_properties=raw.get("maxProperties"),
            source=source,
        )
        for name, sub in raw.get("properties", {}).items():
            if name != id_keyword or isinstance(sub, dict):
                node.properties[name] = self.load(sub, resolver, (*path, "properties", name))
        extra = raw.get("additionalProperties")
        if isinstance(extra, bool):
            node.additional_allowed = extra
        elif extra is not None:
            node.additional_schema = self.load(extra, resolver, (*path, "additionalProperties"))
        for pattern, sub in raw.get("patternProperties", {}).items():
            node.pattern_properties.append(
                (pattern, self.load(sub, resolver, (*path, "patternProperties", pattern)))
            )
        for name, dep in raw.get("dependencies", {}).items():
            if isinstance(dep, list):
                node.property_dependencies[name] = set(dep)
            else:
                node.schema_dependencies[name] = self.load(
                    dep, resolver, (*path, "dependencies", name)
                )
        return node
