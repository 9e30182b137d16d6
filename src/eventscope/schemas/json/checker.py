"""JSON Schema: parse like Confluent Schema Registry, and give its compatibility verdicts.

The registry's rule for JSON Schema is a structural diff (``SchemaDiff.compare(previous,
new)``) whose change types are each either compatible or not; a new schema is backward
compatible iff every change is compatible.  eventscope reproduces that in three steps:

1. :func:`parse` decodes the text, picks the draft from ``$schema`` exactly as the
   registry does (its URL list; draft 7 when absent or unknown), validates against that
   draft's meta-schema (:mod:`~eventscope.schemas.json.metaschema`), and loads the tree
   the registry compares (:mod:`~eventscope.schemas.json.loader_legacy` for drafts 4-7,
   :mod:`~eventscope.schemas.json.loader_modern` for 2019-09 and 2020-12), resolving
   every ``$ref``.
2. :func:`~eventscope.schemas.json.diff.differences` walks both trees.
3. :func:`backward_incompatibilities` keeps the changes that break readers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eventscope.schemas.caches import register
from eventscope.schemas.errors import SchemaParseError
from eventscope.schemas.json.changes import describe
from eventscope.schemas.json.diff import differences
from eventscope.schemas.json.loader import (
    LEGACY_DRAFTS,
    build_registry,
    with_defs_bridge,
)
from eventscope.schemas.json.loader_legacy import LegacyLoader
from eventscope.schemas.json.loader_modern import ModernLoader
from eventscope.schemas.json.metaschema import check_against_metaschema
from eventscope.schemas.json.nodes import Node
from eventscope.schemas.nesting import check_text_nesting, check_value_nesting
from eventscope.schemas.verdicts import Incompatibility

#: ``$schema`` values the registry recognises (with or without a trailing ``#``).
DRAFT_URLS: dict[str, str] = {
    **{
        f"{scheme}://json-schema.org/{path}": "draft4"
        for scheme in ("http", "https")
        for path in ("draft-04/schema", "schema")
    },
    **{
        f"{scheme}://json-schema.org/draft-0{n}/schema": f"draft{n}"
        for scheme in ("http", "https")
        for n in (6, 7)
    },
    **{
        f"{scheme}://json-schema.org/draft/{version}/schema": f"draft{version}"
        for scheme in ("http", "https")
        for version in ("2019-09", "2020-12")
    },
}
DEFAULT_DRAFT = "draft7"


@dataclass(frozen=True, eq=False)
class JsonSchema:
    """A parsed JSON Schema: its JSON, its draft and the tree compatibility compares."""

    raw: Any
    draft: str
    root: Node


def is_parsed(obj: object) -> bool:
    return isinstance(obj, JsonSchema)


def detect_draft(schema: Any) -> str:
    """The draft the registry reads ``schema`` with: from ``$schema``, else draft 7."""
    url = schema.get("$schema") if isinstance(schema, dict) else None
    if not isinstance(url, str):
        return DEFAULT_DRAFT
    return DRAFT_URLS.get(url.removesuffix("#"), DEFAULT_DRAFT)


def parse(
    schema: str | Mapping[str, Any] | bool, *, references: Mapping[str, str] | None = None
) -> JsonSchema:
    """Parse and validate a JSON Schema given as text, a parsed object or a boolean.

    ``references`` maps the names other schemas ``$ref`` (``"address.json"``, a URL) to
    their JSON text.  Raises :class:`SchemaParseError` with ``line L, column C`` for bad
    JSON text and a JSON path (``$.properties.id.type``) for an invalid schema.

    Results are cached by the schema's JSON text and the references (a history repeats
    its schemas, and validating one against its meta-schema costs a millisecond), so
    one :class:`JsonSchema` may be returned to several callers: it is read, never
    changed.  A parsed object is cached by its JSON serialisation and read from that.
    """
    refs = tuple(sorted((references or {}).items()))
    if isinstance(schema, str):
        return _parse_cached(schema, refs)
    check_value_nesting(schema)  # before json.dumps, which recurses
    try:
        text = json.dumps(schema, allow_nan=False)
    except (TypeError, ValueError):  # not plain JSON: parse it as it is, uncached
        return _parse_uncached(schema, references)
    return _parse_cached(text, refs)


@lru_cache(maxsize=256)
def _parse_cached(text: str, references: tuple[tuple[str, str], ...]) -> JsonSchema:
    return _parse_uncached(text, dict(references))


register(_parse_cached.cache_clear)


def _parse_uncached(schema: Any, references: Mapping[str, str] | None) -> JsonSchema:
    raw = _decode(schema)
    if not isinstance(raw, dict | bool):
        raise SchemaParseError("a JSON Schema must be a JSON object or a boolean", location="$")
    draft = detect_draft(raw)
    check_against_metaschema(raw, draft)
    documents = {name: _reference(name, text, draft) for name, text in (references or {}).items()}
    document = with_defs_bridge(raw)
    registry, base_uri = build_registry(draft, document, documents)
    loader = LegacyLoader if draft in LEGACY_DRAFTS else ModernLoader
    root = loader(draft, registry, base_uri).load_document(document)
    return JsonSchema(raw=raw, draft=draft, root=root)


def backward_incompatibilities(new: JsonSchema, old: JsonSchema) -> list[Incompatibility]:
    """Why consumers using ``new`` could fail on data written with ``old`` (empty: none)."""
    found: list[Incompatibility] = []
    seen: set[tuple[str, str]] = set()
    for change in differences(old.root, new.root):
        if change.compatible or (change.type, change.path) in seen:
            continue
        seen.add((change.type, change.path))
        found.append(Incompatibility(change.type, change.path, describe(change)))
    return found


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decode(schema: Any) -> Any:
    if not isinstance(schema, str):
        check_value_nesting(schema)
        return schema
    check_text_nesting(schema)
    try:
        return json.loads(schema, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise SchemaParseError(
            f"invalid JSON: {exc.msg}", location=f"line {exc.lineno}, column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise SchemaParseError(f"invalid JSON: {exc}") from None


def _reference(name: str, text: Any, draft: str) -> Any:
    try:
        document = _decode(text)
        check_against_metaschema(
            document,
            detect_draft(document)
            if isinstance(document, dict) and "$schema" in document
            else draft,
        )
    except SchemaParseError as exc:
        raise exc.within(f"references[{name!r}]") from None
    return document
