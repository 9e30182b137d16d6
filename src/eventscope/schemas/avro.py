"""Avro for :func:`eventscope.schemas.check_compatibility`, with the registry's verdicts.

Confluent Schema Registry decides Avro compatibility with Apache Avro's schema
resolution (the reader/writer check of the Avro specification), so this format module
is a parser plus that check:

* :func:`parse` reads JSON text or parsed JSON, resolves Confluent schema references
  as named types, and rejects invalid schemas with a location;
* :func:`backward_incompatibilities` asks whether ``new`` (the reader) can decode data
  written with ``old`` (the writer), reporting problems with Avro's own names
  (``READER_FIELD_MISSING_DEFAULT_VALUE``, ``MISSING_UNION_BRANCH``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventscope.schemas.avro_compat import ResolutionChecker
from eventscope.schemas.avro_model import AvroSchema
from eventscope.schemas.avro_parse import parse_avro
from eventscope.schemas.compatibility import Incompatibility

__all__ = ["AvroSchema", "backward_incompatibilities", "is_parsed", "parse"]


def is_parsed(obj: object) -> bool:
    """Whether ``obj`` is already an :class:`AvroSchema` (so it is not parsed again)."""
    return isinstance(obj, AvroSchema)


def parse(
    schema: str | Mapping[str, Any] | Any, *, references: Mapping[str, str] | None = None
) -> AvroSchema:
    """Parse an Avro schema given as JSON text, a JSON value, or a bare type name.

    ``references`` maps a reference name (for Avro, the referenced type's full name) to
    that schema's text; the named types it defines can be used by name, as when the
    registry resolves a schema's references.  Raises
    :class:`~eventscope.schemas.errors.SchemaParseError` with ``line L, column C`` for
    text that is not JSON and a JSON path (``$.fields[2].type``) for an invalid schema.
    """
    return parse_avro(schema, references)


def backward_incompatibilities(new: AvroSchema, old: AvroSchema) -> list[Incompatibility]:
    """Why a consumer using ``new`` cannot read data written with ``old`` (empty: it can)."""
    return ResolutionChecker().check(new.root, old.root)
