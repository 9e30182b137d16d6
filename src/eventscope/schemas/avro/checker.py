"""The Avro format module: parse, and judge a change with the registry's verdicts.

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

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from eventscope.schemas.avro import memo
from eventscope.schemas.avro.model import AvroSchema
from eventscope.schemas.avro.parser import clear_default_verdicts, parse_avro
from eventscope.schemas.avro.resolution import ResolutionChecker
from eventscope.schemas.caches import register
from eventscope.schemas.nesting import check_value_nesting
from eventscope.schemas.verdicts import Incompatibility


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

    Results are cached by the schema's text and the references, so one
    :class:`AvroSchema` may be returned to several callers: it is read, never changed.
    A JSON value is cached by its serialisation and read from that.
    """
    refs = tuple(sorted((references or {}).items()))
    if isinstance(schema, bytes | bytearray):
        schema = schema.decode()
    if not isinstance(schema, str):
        check_value_nesting(schema)  # before json.dumps, which recurses
        try:
            schema = json.dumps(schema, allow_nan=False)
        except (TypeError, ValueError):  # not plain JSON: parse it as it is, uncached
            return parse_avro(schema, references)
    return _parse_cached(schema, refs)


@lru_cache(maxsize=128)
def _parse_cached(text: str, references: tuple[tuple[str, str], ...]) -> AvroSchema:
    return parse_avro(text, dict(references))


register(_parse_cached.cache_clear)
register(memo.forget)
register(clear_default_verdicts)


def backward_incompatibilities(new: AvroSchema, old: AvroSchema) -> list[Incompatibility]:
    """Why a consumer using ``new`` cannot read data written with ``old`` (empty: it can)."""
    return ResolutionChecker().check(new.root, old.root)
