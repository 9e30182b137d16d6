"""Compatibility verdicts with Confluent Schema Registry's meaning of each mode.

Every format module answers one question: can consumers that use ``new`` read data
written with ``old`` (``backward_incompatibilities(new, old)``)?  The seven modes are
combinations of that question, asked in one or both directions, against the latest
previous version only or against all of them — exactly how the registry composes them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from eventscope.schemas.errors import SchemaParseError


class Mode(enum.StrEnum):
    """Confluent Schema Registry compatibility levels."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")

    @property
    def checks_backward(self) -> bool:
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def checks_forward(self) -> bool:
        return self.value.startswith(("FORWARD", "FULL"))


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """One reason a schema change breaks readers.

    ``type`` uses Confluent's vocabulary where it has a name for the problem
    (``READER_FIELD_MISSING_DEFAULT_VALUE``, ``TYPE_MISMATCH``, ``PROPERTY_REMOVED_...``),
    ``location`` is a JSON path (``#/properties/id``) or a field path (``Order.id``),
    and ``message`` is a sentence a person can act on.
    """

    type: str
    location: str
    message: str
    direction: str = "backward"
    version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "location": self.location,
            "message": self.message,
            "direction": self.direction,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class CompatibilityResult:
    """The verdict for one candidate against its history."""

    mode: Mode
    format: str
    incompatibilities: tuple[Incompatibility, ...] = field(default_factory=tuple)

    @property
    def is_compatible(self) -> bool:
        return not self.incompatibilities

    def __bool__(self) -> bool:
        return self.is_compatible

    def to_dict(self) -> dict[str, Any]:
        return {
            "is_compatible": self.is_compatible,
            "mode": str(self.mode),
            "format": self.format,
            "incompatibilities": [i.to_dict() for i in self.incompatibilities],
        }


SchemaInput = str | Mapping[str, Any] | Any
BackwardCheck = Callable[[Any, Any], list[Incompatibility]]


#: The schema formats, by the name ``format=`` takes.
FORMATS = ("avro", "json", "protobuf")


class FormatModule(Protocol):
    """What a format's module provides: the three functions every check is built from.

    ``parse`` raises :class:`~eventscope.schemas.errors.SchemaParseError` naming where a
    schema is invalid; ``backward_incompatibilities(new, old)`` answers "can consumers
    using ``new`` read data written with ``old``?" (empty: yes).
    """

    def is_parsed(self, obj: object) -> bool: ...

    def parse(self, schema: Any, *, references: Mapping[str, str] | None = None) -> Any: ...

    def backward_incompatibilities(self, new: Any, old: Any) -> list[Incompatibility]: ...


def format_module(fmt: str) -> FormatModule:
    """The module that parses and compares schemas of format ``fmt`` (one of :data:`FORMATS`).

    Imported on first use, so Avro users never pay for protoc, and so on; a missing
    optional dependency surfaces as :class:`ImportError`.  Raises :class:`ValueError`
    for an unknown format.
    """
    if fmt == "avro":
        from eventscope.schemas import avro

        return avro
    if fmt == "json":
        from eventscope.schemas import json_schema

        return json_schema
    if fmt == "protobuf":
        from eventscope.schemas import protobuf

        return protobuf
    raise ValueError(f"unknown schema format {fmt!r}; expected 'avro', 'json' or 'protobuf'")


def check_compatibility(
    candidate: SchemaInput,
    previous: Sequence[SchemaInput],
    *,
    format: str,
    mode: Mode | str = Mode.BACKWARD,
    references: Mapping[str, str] | None = None,
) -> CompatibilityResult:
    """Check ``candidate`` against ``previous`` (oldest first) under ``mode``.

    Schemas may be given as text or already parsed.  Raises
    :class:`~eventscope.schemas.errors.SchemaParseError` for a schema that is not valid
    in its format, naming the schema (``candidate`` or ``previous[i]``) and where.
    """
    mode = Mode(str(mode).upper())
    module = format_module(format)
    new = _parse(module, candidate, "candidate", references)
    if mode is Mode.NONE or not previous:
        return CompatibilityResult(mode, format)
    olds = [_parse(module, s, f"previous[{i}]", references) for i, s in enumerate(previous)]
    indexed = list(enumerate(olds, start=1))
    targets = indexed if mode.transitive else indexed[-1:]
    found: list[Incompatibility] = []
    for version, old in reversed(targets):
        if mode.checks_backward:
            found += _tag(module.backward_incompatibilities(new, old), "backward", version)
        if mode.checks_forward:
            found += _tag(module.backward_incompatibilities(old, new), "forward", version)
    return CompatibilityResult(mode, format, tuple(found))


def _parse(
    module: FormatModule, schema: SchemaInput, name: str, references: Mapping[str, str] | None
) -> Any:
    if module.is_parsed(schema):
        return schema
    try:
        return module.parse(schema, references=references)
    except SchemaParseError as exc:
        raise exc.within(name) from None


def _tag(items: list[Incompatibility], direction: str, version: int) -> list[Incompatibility]:
    return [Incompatibility(i.type, i.location, i.message, direction, version) for i in items]
