"""The schema formats eventscope checks, declared once.

Each row says what a format is called (``format=`` in the API, ``format`` in a schemas
directory), which file suffixes hold it, what Confluent Schema Registry calls it
(``schemaType``), and which module parses and compares it.  Every other list of formats
— :data:`FORMATS`, :data:`SUFFIX_FORMATS`, :data:`SCHEMA_TYPES`,
:func:`format_module` — is derived from :data:`TABLE`, so adding a format is one row.

Modules are named, not imported: a format's module is imported the first time it is
asked for, so checking Avro never imports protoc, and so on.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from eventscope.schemas.verdicts import Incompatibility


@dataclass(frozen=True, slots=True)
class Format:
    """One schema format: its name, file suffixes, registry type and module path."""

    name: str
    suffixes: tuple[str, ...]
    schema_type: str
    module: str


#: Every format, in the order messages list them.  ``.avro`` is an Avro object container
#: (data) file: its header carries the writer's schema, so "can the new schema read these
#: files?" is a check a user can run directly against a sample of real data.
TABLE: tuple[Format, ...] = (
    Format("avro", (".avsc", ".avro"), "AVRO", "eventscope.schemas.avro"),
    Format("json", (".json",), "JSON", "eventscope.schemas.json"),
    Format("protobuf", (".proto",), "PROTOBUF", "eventscope.schemas.protobuf"),
)

#: The schema formats, by the name ``format=`` takes.
FORMATS: tuple[str, ...] = tuple(row.name for row in TABLE)

#: File name suffix → format.
SUFFIX_FORMATS: dict[str, str] = {suffix: row.name for row in TABLE for suffix in row.suffixes}

#: Registry schema type (``schemaType``) → format.
SCHEMA_TYPES: dict[str, str] = {row.schema_type: row.name for row in TABLE}

_BY_NAME: dict[str, Format] = {row.name: row for row in TABLE}


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
    row = _BY_NAME.get(fmt)
    if row is None:
        names = [repr(name) for name in FORMATS]
        expected = f"{', '.join(names[:-1])} or {names[-1]}"
        raise ValueError(f"unknown schema format {fmt!r}; expected {expected}")
    module: FormatModule = importlib.import_module(row.module)  # type: ignore[assignment]
    return module
