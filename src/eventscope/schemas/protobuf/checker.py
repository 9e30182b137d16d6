"""Protobuf schemas: compile .proto text with protoc, judge changes as the registry does.

This is the per-format module behind ``check_compatibility(..., format="protobuf")``.
Parsing is done by protoc (see :mod:`eventscope.schemas.protobuf.compile`) so a schema
that protoc rejects is reported with its line and column, and a schema's imports are
resolved exactly as code generation would resolve them: from ``references`` (import path
→ .proto text, as in the registry's schema references) or from the well-known types
(``google/protobuf/*.proto``) that grpcio-tools bundles.

The verdict follows Confluent Schema Registry's Protobuf rules (see
:mod:`eventscope.schemas.protobuf.diff`): each incompatibility's ``type`` is the
registry's ``Difference.Type`` name and its ``location`` the registry's path, e.g.
``#/Order/2`` for field number 2 of message ``Order``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventscope.schemas.errors import SchemaParseError
from eventscope.schemas.protobuf.compile import CompiledSchema, compile_schema
from eventscope.schemas.protobuf.diff import compare
from eventscope.schemas.verdicts import Incompatibility


def is_parsed(obj: Any) -> bool:
    """True for a schema already returned by :func:`parse`."""
    return isinstance(obj, CompiledSchema)


def parse(
    schema: str | Mapping[str, Any], *, references: Mapping[str, str] | None = None
) -> CompiledSchema:
    """Compile .proto text (proto2 or proto3); raise SchemaParseError where protoc objects."""
    if not isinstance(schema, str):
        raise SchemaParseError(f"a Protobuf schema is .proto text, not {type(schema).__name__}")
    return compile_schema(schema, references)


def backward_incompatibilities(new: CompiledSchema, old: CompiledSchema) -> list[Incompatibility]:
    """The changes from ``old`` to ``new`` that stop ``new``'s readers reading ``old``'s data.

    The registry asks this as "compare original=previous with update=new and keep the
    differences that are not compatible", which is what this does.
    """
    return [
        Incompatibility(d.type, d.path, d.message)
        for d in compare(original=old, update=new)
        if not d.compatible
    ]
