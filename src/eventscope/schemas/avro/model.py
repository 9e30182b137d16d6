"""The parsed form of an Avro schema that the compatibility checker walks.

fastavro's parsed schema is built for serialising data: it rewrites names, drops
aliases it does not need and cannot represent a reference cycle as one object.
Schema resolution needs all of those, so this module keeps its own small tree in which
every named type is exactly one object (identity is what the recursion guard keys on)
and every attribute resolution depends on — full names, aliases, defaults, enum
defaults, fixed sizes — survives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


class _NoDefault:
    """Marks a field without a default; ``None`` cannot, as ``"default": null`` is one."""

    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


#: The ``props`` of a node or field that has none: shared, so a 1,000-field schema does
#: not hold 1,000 empty dictionaries.
NO_PROPS: Mapping[str, Any] = MappingProxyType({})


@dataclass(eq=False, repr=False, slots=True)
class AvroType:
    """One node of a schema; which attributes matter depends on ``kind``.

    ``kind`` is a primitive name or ``record``/``enum``/``fixed``/``array``/``map``/
    ``union``.  Equality is identity so that a recursive record is one node reachable
    from itself, and so that ``(reader, writer)`` pairs can key the recursion memo.
    A parsed schema is read, never changed: the checker caches what it derives from a
    node (``field_index``, its fingerprint) on the node.
    """

    kind: str
    name: str | None = None
    aliases: frozenset[str] = frozenset()
    logical_type: str | None = None
    props: Mapping[str, Any] = field(default_factory=lambda: NO_PROPS)
    fields: tuple[Field, ...] = ()
    symbols: tuple[str, ...] = ()
    enum_default: str | None = None
    size: int | None = None
    element: AvroType | None = None
    branches: tuple[AvroType, ...] = ()
    fingerprint_cache: str | None = field(default=None, init=False)
    field_index_cache: dict[str, Field] | None = field(default=None, init=False)
    branch_index_cache: dict[Any, Any] | None = field(default=None, init=False)

    @property
    def field_index(self) -> dict[str, Field]:
        """Fields by name, built once: resolution looks every reader field up in it."""
        index = self.field_index_cache
        if index is None:
            index = self.field_index_cache = {f.name: f for f in self.fields}
        return index

    @property
    def short_name(self) -> str | None:
        """The name without its namespace: what Avro's resolution compares."""
        return self.name.rsplit(".", 1)[-1] if self.name else None

    @property
    def namespace(self) -> str:
        return self.name.rsplit(".", 1)[0] if self.name and "." in self.name else ""

    def describe(self) -> str:
        """A short human label such as ``record Order`` or ``array``."""
        return f"{self.kind} {self.name}" if self.name else self.kind

    def __repr__(self) -> str:
        return f"AvroType({self.describe()})"


@dataclass(eq=False, repr=False, slots=True)
class Field:
    """A record field; ``default`` is :data:`NO_DEFAULT` when the schema gives none."""

    name: str
    type: AvroType
    aliases: tuple[str, ...] = ()
    default: Any = NO_DEFAULT
    props: Mapping[str, Any] = field(default_factory=lambda: NO_PROPS)

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT

    def __repr__(self) -> str:
        return f"Field({self.name}: {self.type.describe()})"


@dataclass(frozen=True, eq=False)
class AvroSchema:
    """A parsed Avro schema: its root type and every named type it can reach.

    ``named`` includes types that came from schema references, so a caller can look up
    ``schema.named["com.acme.Address"]``.  :meth:`to_json` gives the fully resolved
    schema (references inlined, names fully qualified) that fastavro accepts directly.
    """

    root: AvroType
    named: Mapping[str, AvroType]

    def to_json(self) -> Any:
        return type_to_json(self.root, set())


def type_to_json(node: AvroType, emitted: set[str]) -> Any:
    """Canonical JSON for ``node``, defining each named type at its first use only.

    ``emitted`` collects the full names already written, so a later (or recursive)
    occurrence becomes a plain name reference, as Avro requires.
    """
    if node.name is not None:
        if node.name in emitted:
            return node.name
        emitted.add(node.name)
    out: dict[str, Any] = {"type": node.kind}
    if node.name is not None:
        out["name"] = node.name
    if node.aliases:
        out["aliases"] = sorted(node.aliases)
    if node.kind == "record":
        out["fields"] = [_field_to_json(f, emitted) for f in node.fields]
    elif node.kind == "enum":
        out["symbols"] = list(node.symbols)
        if node.enum_default is not None:
            out["default"] = node.enum_default
    elif node.kind == "fixed":
        out["size"] = node.size
    elif node.kind in ("array", "map"):
        assert node.element is not None, "the parser sets element for arrays and maps"
        out["items" if node.kind == "array" else "values"] = type_to_json(node.element, emitted)
    elif node.kind == "union":
        return [type_to_json(b, emitted) for b in node.branches]
    if node.logical_type is not None:
        out["logicalType"] = node.logical_type
    out.update(node.props)
    return node.kind if len(out) == 1 else out


def _field_to_json(f: Field, emitted: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "type": type_to_json(f.type, emitted)}
    if f.aliases:
        out["aliases"] = list(f.aliases)
    if f.has_default:
        out["default"] = f.default
    out.update(f.props)
    return out
