"""Avro schema resolution: can a reader schema decode everything a writer schema wrote?

Confluent Schema Registry answers this with Apache Avro's reader/writer compatibility
check (``SchemaCompatibility``) and nothing else, so this module follows the Avro
specification's resolution rules with the same observable choices:

* names compare by their unqualified part, or by the writer's full name being one of
  the reader's aliases — a namespace change alone is compatible;
* logical types are not compared at all (a decimal's precision or scale may change),
  because the registry's default ``STRICT`` policy only checks the underlying types;
* a reader enum with a default absorbs unknown writer symbols, but an enum default
  does not stand in for a missing *field* default;
* recursion is cut by assuming a ``(reader, writer)`` pair that is already being
  compared is compatible, so problems are reported once, where first met.

Speed for long histories comes from remembering compatible pairs of types across
comparisons by fingerprint (:mod:`~eventscope.schemas.avro.memo`) and from each
record's field index being built once.

Locations are JSON-pointer-like paths into the reader schema as Avro reports them:
``/fields/1/type/symbols``, ``/items``, ``/fields/0/type/1`` (union branch 1).
"""

from __future__ import annotations

from eventscope.schemas.avro.memo import (
    COMPATIBLE_PAIRS,
    known_compatible,
    remember_compatible,
)
from eventscope.schemas.avro.model import NO_DEFAULT, PRIMITIVES, AvroType, Field
from eventscope.schemas.verdicts import Incompatibility

_PROMOTIONS = {
    "long": {"int"},
    "float": {"int", "long"},
    "double": {"int", "long", "float"},
    "bytes": {"string"},
    "string": {"bytes"},
}

#: Writer kind → the reader kinds that accept it by promotion.
_PROMOTED_TO: dict[str, list[str]] = {}
for _reader, _writers in _PROMOTIONS.items():
    for _writer in _writers:
        _PROMOTED_TO.setdefault(_writer, []).append(_reader)

_IN_PROGRESS: list[Incompatibility] = []


class ResolutionChecker:
    """One reader/writer comparison; the memo lives as long as the comparison does."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, int], list[Incompatibility]] = {}

    def check(self, reader: AvroType, writer: AvroType) -> list[Incompatibility]:
        """Compare the two roots.

        The roots themselves skip the shared verdicts: fingerprinting them would walk
        both whole schemas for a pair that is rarely checked twice, while the types
        inside them (fingerprinted as they are met) are where histories repeat.
        """
        key = (id(reader), id(writer))
        self._memo[key] = _IN_PROGRESS
        found = self._compare(reader, writer, ())
        self._memo[key] = found
        return list(found)

    def _pair(
        self, reader: AvroType, writer: AvroType, path: tuple[str, ...]
    ) -> list[Incompatibility]:
        """Compare once per pair; a pair met again while still open is assumed compatible.

        Only pairs with a named type are remembered by identity: recursion can only pass
        through named types, and the parser shares nodes such as ``"string"`` and
        ``["null", "string"]`` between fields, whose problems must each be reported
        where they occur.  A pair whose fingerprints were already found compatible, in
        this comparison or an earlier one, is not walked again.
        """
        if reader.kind in PRIMITIVES and writer.kind in PRIMITIVES:
            return self._compare(reader, writer, path)
        if reader.name is None and writer.name is None:
            if known_compatible(reader, writer):
                return []
            found = self._compare(reader, writer, path)
            if not found:
                remember_compatible(reader, writer)
            return found
        key = (id(reader), id(writer))
        if key in self._memo:
            return list(self._memo[key])
        if known_compatible(reader, writer):
            self._memo[key] = []
            return []
        self._memo[key] = _IN_PROGRESS
        found = self._compare(reader, writer, path)
        self._memo[key] = found
        if not found:
            remember_compatible(reader, writer)
        return list(found)

    def _compare(
        self, reader: AvroType, writer: AvroType, path: tuple[str, ...]
    ) -> list[Incompatibility]:
        if writer.kind == "union":
            return self._writer_union(reader, writer, path)
        if reader.kind == "union":
            return self._reader_union(reader, writer, path)
        if reader.kind != writer.kind:
            if writer.kind in _PROMOTIONS.get(reader.kind, ()):
                return []
            return [_type_mismatch(reader, writer, path)]
        if reader.kind in ("array", "map"):
            token = "items" if reader.kind == "array" else "values"
            assert reader.element is not None and writer.element is not None
            return self._pair(reader.element, writer.element, (*path, token))
        found = []
        if reader.name is not None:
            found += _names(reader, writer, path)
        if reader.kind == "fixed" and reader.size != writer.size:
            found.append(_fixed_size(reader, writer, path))
        elif reader.kind == "enum":
            found += _enum_symbols(reader, writer, path)
        elif reader.kind == "record":
            found += self._record(reader, writer, path)
        return found

    def _writer_union(
        self, reader: AvroType, writer: AvroType, path: tuple[str, ...]
    ) -> list[Incompatibility]:
        """Every branch the writer may have used must be readable."""
        found: list[Incompatibility] = []
        for i, branch in enumerate(writer.branches):
            where = (*path, str(i))
            if reader.kind != "union":
                found += self._pair(reader, branch, where)
            elif self._isolated(reader, branch):
                found.append(_missing_branch(reader, branch, where))
        return found

    def _reader_union(
        self, reader: AvroType, writer: AvroType, path: tuple[str, ...]
    ) -> list[Incompatibility]:
        """A non-union writer needs at least one reader branch that can read it."""
        if any(not self._isolated(branch, writer) for branch in _candidates(reader, writer)):
            return []
        return [_missing_branch(reader, writer, path)]

    def _isolated(self, reader: AvroType, writer: AvroType) -> list[Incompatibility]:
        """Problems of a trial match, located from its own root: only the verdict is used."""
        return self._pair(reader, writer, ())

    def _record(
        self, reader: AvroType, writer: AvroType, path: tuple[str, ...]
    ) -> list[Incompatibility]:
        found: list[Incompatibility] = []
        by_name = writer.field_index
        compatible = COMPATIBLE_PAIRS
        for pos, field in enumerate(reader.fields):
            match = by_name.get(field.name)
            if field.aliases:
                matches = [by_name[n] for n in (field.name, *field.aliases) if n in by_name]
                if len(matches) > 1:
                    found.append(_ambiguous(field, matches, (*path, "fields", str(pos))))
                    continue
                match = matches[0] if matches else None
            if match is not None:
                # The hot loop of a long history: most field types were seen before.
                pair = (field.type.fingerprint_cache, match.type.fingerprint_cache)
                if pair not in compatible:
                    where = (*path, "fields", str(pos), "type")
                    found += self._pair(field.type, match.type, where)
            elif field.default is NO_DEFAULT:
                found.append(_missing_default(field, writer, (*path, "fields", str(pos))))
        return found


def _candidates(union: AvroType, writer: AvroType) -> list[AvroType]:
    """The branches of ``union`` that could read ``writer`` at all, in union order.

    Every other branch is a type mismatch or a name mismatch, so trying only these
    gives the same verdict while keeping a union of thousands of branches against
    another linear, not quadratic: a branch of the writer's kind with its name or an
    alias of it, or a primitive it promotes to.
    """
    index = union.branch_index_cache
    if index is None:
        index = union.branch_index_cache = _branch_index(union)
    if writer.name is not None:
        keys = [(writer.kind, writer.short_name), (writer.kind, "alias", writer.name)]
    else:
        keys = [(writer.kind, None), *((kind, None) for kind in _PROMOTED_TO.get(writer.kind, ()))]
    found = {id(b): b for key in keys for b in index.get(key, ())}
    return sorted(found.values(), key=lambda b: index[id(b)])


def _branch_index(union: AvroType) -> dict:
    """(kind, short name) / (kind, "alias", full name) / position by id → branches."""
    index: dict = {}
    for position, branch in enumerate(union.branches):
        index[id(branch)] = position
        index.setdefault((branch.kind, branch.short_name), []).append(branch)
        for alias in branch.aliases:
            index.setdefault((branch.kind, "alias", alias), []).append(branch)
    return index


def _render(path: tuple[str, ...]) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path)


def _names(reader: AvroType, writer: AvroType, path: tuple[str, ...]) -> list[Incompatibility]:
    if reader.short_name == writer.short_name or writer.name in reader.aliases:
        return []
    return [
        Incompatibility(
            "NAME_MISMATCH",
            _render((*path, "name")),
            f"The reader's {reader.kind} is named {reader.name!r} but the writer's is "
            f"{writer.name!r}; give the reader the alias {writer.name!r} to read it.",
        )
    ]


def _fixed_size(reader: AvroType, writer: AvroType, path: tuple[str, ...]) -> Incompatibility:
    return Incompatibility(
        "FIXED_SIZE_MISMATCH",
        _render((*path, "size")),
        f"The reader's fixed {reader.name!r} is {reader.size} bytes but the writer's is "
        f"{writer.size} bytes.",
    )


def _enum_symbols(
    reader: AvroType, writer: AvroType, path: tuple[str, ...]
) -> list[Incompatibility]:
    missing = sorted(set(writer.symbols) - set(reader.symbols))
    if not missing or reader.enum_default is not None:
        return []
    return [
        Incompatibility(
            "MISSING_ENUM_SYMBOLS",
            _render((*path, "symbols")),
            f"The reader's enum {reader.name!r} lacks the writer's symbols "
            f"{', '.join(missing)}; add them or give the reader's enum a default.",
        )
    ]


def _missing_default(field: Field, writer: AvroType, where: tuple[str, ...]) -> Incompatibility:
    if field.type.kind == "enum" and field.type.enum_default is not None:
        # Avro compares the enum with the writer's record here: a type mismatch. An enum
        # default replaces unknown symbols, never an absent field.
        return Incompatibility(
            "TYPE_MISMATCH",
            _render((*where, "type")),
            f"Field {field.name!r} is missing from the writer's {writer.describe()} and has no "
            "default value; its enum's default does not count as one.",
        )
    return Incompatibility(
        "READER_FIELD_MISSING_DEFAULT_VALUE",
        _render(where),
        f"Field {field.name!r} is missing from the writer's {writer.describe()} and has no "
        "default value.",
    )


def _ambiguous(field: Field, matches: list[Field], where: tuple[str, ...]) -> Incompatibility:
    names = ", ".join(repr(m.name) for m in matches)
    return Incompatibility(
        "AMBIGUOUS_FIELD_MATCH",
        _render(where),
        f"Field {field.name!r} matches several writer fields ({names}) by name and aliases; "
        "Avro cannot resolve it.",
    )


def _type_mismatch(reader: AvroType, writer: AvroType, path: tuple[str, ...]) -> Incompatibility:
    return Incompatibility(
        "TYPE_MISMATCH",
        _render(path),
        f"A reader of type {reader.describe()} cannot read data written as {writer.describe()}.",
    )


def _missing_branch(reader: AvroType, writer: AvroType, path: tuple[str, ...]) -> Incompatibility:
    return Incompatibility(
        "MISSING_UNION_BRANCH",
        _render(path),
        f"The reader's union has no branch that can read the writer's {writer.describe()}.",
    )
