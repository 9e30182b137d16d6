"""Loading JSON Schema documents into comparison trees: what every draft shares.

Confluent Schema Registry reads drafts 4, 6 and 7 with one loader and drafts 2019-09 and
2020-12 with another, and the two group keywords into schemas differently (see
:mod:`~.loader_legacy` and :mod:`~.loader_modern`).  What they share lives
here: walking subschemas once each (so a recursive schema becomes a graph, not an
endless tree), resolving every ``$ref`` with :mod:`referencing` (local pointers,
``$id``-scoped URIs, anchors, the supplied ``references`` and the bundled meta-schemas;
nothing is fetched over the network), and the annotations every node carries.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import jsonschema_specifications
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import (
    DRAFT4,
    DRAFT6,
    DRAFT7,
    DRAFT201909,
    DRAFT202012,
)

from eventscope.schemas.errors import SchemaParseError
from eventscope.schemas.json.nodes import (
    ConditionalNode,
    FalseNode,
    Node,
    NumberNode,
    RefNode,
    TrueNode,
)

if TYPE_CHECKING:
    from referencing._core import Resolver

SPECIFICATIONS = {
    "draft4": DRAFT4,
    "draft6": DRAFT6,
    "draft7": DRAFT7,
    "draft2019-09": DRAFT201909,
    "draft2020-12": DRAFT202012,
}
LEGACY_DRAFTS = ("draft4", "draft6", "draft7")
COMBINATORS = ("allOf", "anyOf", "oneOf")
NUMBER_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")

Path = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"[$@]?[A-Za-z0-9_-]+")


def json_path(segments: Path) -> str:
    """``("properties", "id", "type")`` → ``$.properties.id.type``; indexes as ``[n]``."""
    out = "$"
    for seg in segments:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif _PLAIN_KEY.fullmatch(seg):
            out += f".{seg}"
        else:
            out += f"[{seg!r}]"
    return out


def number(value: Any) -> Decimal | None:
    """A JSON number as an exact decimal (``0.1`` stays 0.1), or None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return Decimal(str(value))


def with_defs_bridge(document: Any) -> Any:
    """Copy top-level ``definitions`` into ``$defs`` so ``#/$defs/X`` finds them too.

    The registry does this for every document it loads, so a ``$ref`` written for one
    bucket resolves whichever bucket the author used.
    """
    if not isinstance(document, dict):
        return document
    definitions, defs = document.get("definitions"), document.get("$defs", {})
    if not isinstance(definitions, dict) or not definitions or not isinstance(defs, dict):
        return document
    return {**document, "$defs": {**definitions, **defs}}


class Loader(abc.ABC):
    """Loads one document (and whatever its ``$ref``\\ s reach) for one draft."""

    def __init__(self, draft: str, registry: Registry, base_uri: str) -> None:
        self.draft = draft
        self.spec = SPECIFICATIONS[draft]
        self.registry = registry
        self.base_uri = base_uri
        self._cache: dict[int, Node] = {}
        self._pending: list[tuple[RefNode, Resolver, Path]] = []

    def load_document(self, document: Any) -> Node:
        root = self.load(document, self.registry.resolver(self.base_uri), ())
        while self._pending:
            ref, resolver, path = self._pending.pop()
            try:
                found = resolver.lookup(ref.ref)
            except Unresolvable:
                raise SchemaParseError(
                    f"cannot resolve $ref {ref.ref!r}: it is neither in this schema nor in "
                    "the given references",
                    location=json_path((*path, "$ref")),
                ) from None
            ref.target = self.load(found.contents, found.resolver, (*path, "$ref"))
        return root

    def load(self, raw: Any, resolver: Resolver, path: Path) -> Node:
        if isinstance(raw, bool):
            return TrueNode(source=raw) if raw else FalseNode(source=raw)
        if not isinstance(raw, dict):
            raise SchemaParseError(
                "a schema must be a JSON object or a boolean", location=json_path(path)
            )
        cached = self._cache.get(id(raw))
        if cached is not None:
            return cached
        resolver = resolver.in_subresource(self.spec.create_resource(raw))
        node = self.build(raw, resolver, path)
        self._annotate(node, raw)
        self._cache[id(raw)] = node
        return node

    def _annotate(self, node: Node, raw: dict[str, Any]) -> None:
        node.source = raw
        node.title = raw.get("title")
        node.description = raw.get("description")
        node.id = self.schema_id(raw)
        node.has_default = "default" in raw
        node.default = raw.get("default")
        node.connect_type = raw.get("connect.type")

    @abc.abstractmethod
    def build(self, raw: dict[str, Any], resolver: Resolver, path: Path) -> Node:
        """The node for one schema object, grouped the way this draft's loader groups."""

    def schema_id(self, raw: dict[str, Any]) -> str | None:
        """The ``$id`` the registry compares (its 2019-09+ loader keeps none)."""
        return None

    def ref(self, ref: Any, resolver: Resolver, path: Path) -> RefNode:
        if not isinstance(ref, str):
            raise SchemaParseError("$ref must be a string", location=json_path((*path, "$ref")))
        node = RefNode(ref=ref, source={"$ref": ref})
        self._pending.append((node, resolver, path))
        return node

    def children(self, raw: dict[str, Any], key: str, resolver: Resolver, path: Path) -> list[Node]:
        return [self.load(s, resolver, (*path, key, i)) for i, s in enumerate(raw[key])]

    def number_node(self, raw: dict[str, Any], source: dict[str, Any]) -> NumberNode:
        # Draft 4 spells exclusive limits as booleans on minimum/maximum; the registry
        # keeps no limit for them, so only numeric (draft 6+) values count here.
        return NumberNode(
            minimum=number(raw.get("minimum")),
            maximum=number(raw.get("maximum")),
            exclusive_minimum=number(raw.get("exclusiveMinimum")),
            exclusive_maximum=number(raw.get("exclusiveMaximum")),
            multiple_of=number(raw.get("multipleOf")),
            source=source,
        )

    def conditional(self, raw: dict[str, Any], resolver: Resolver, path: Path) -> ConditionalNode:
        for key in ("if", "then", "else"):
            if key in raw:
                self.load(raw[key], resolver, (*path, key))
        return ConditionalNode(source={k: raw[k] for k in ("if", "then", "else") if k in raw})


def build_registry(
    draft: str, document: Any, references: Mapping[str, Any]
) -> tuple[Registry, str]:
    """A registry holding the bundled meta-schemas, the references and the document.

    References are registered under their own name and resolved against the document's
    ``$id``, which is where the registry looks for ``"$ref": "other.json"`` too.
    """
    spec = SPECIFICATIONS[draft]
    root = spec.create_resource(document)
    base_uri = root.id() or ""
    resources = [(base_uri, root)]
    for name, contents in references.items():
        resource = spec.create_resource(with_defs_bridge(contents))
        resources.append((name, resource))
        resolved = urljoin(base_uri, name) if base_uri else name
        if resolved != name:
            resources.append((resolved, resource))
    return jsonschema_specifications.REGISTRY.with_resources(resources), base_uri
