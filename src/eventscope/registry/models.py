"""What a schema registry stores, in the shapes of Confluent's REST API.

Shared by the client and the embedded server so a schema read from either has one
type.  ``schema_type`` uses the registry's names (``AVRO``, ``JSON``, ``PROTOBUF``);
``format`` gives the name the compatibility checker uses (``avro``, ``json``,
``protobuf``), so a registered schema can be handed straight to
:func:`~eventscope.schemas.check_compatibility`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventscope.schemas.formats import SCHEMA_TYPES

#: AVRO is the registry's default type: a request or a reply without ``schemaType``
#: means Avro.
DEFAULT_SCHEMA_TYPE = "AVRO"


def schema_type_of(name: str) -> str:
    """``AVRO``/``JSON``/``PROTOBUF`` from either spelling (``"protobuf"`` too)."""
    upper = name.upper()
    if upper in SCHEMA_TYPES:
        return upper
    for schema_type, fmt in SCHEMA_TYPES.items():
        if fmt == name.lower():
            return schema_type
    raise ValueError(f"unknown schema type {name!r}; expected one of {', '.join(SCHEMA_TYPES)}")


@dataclass(frozen=True, slots=True)
class SchemaReference:
    """A schema this one refers to, by the name it uses: an Avro type's full name, a
    Protobuf import path or a JSON Schema ``$ref`` URL, registered as ``subject``
    version ``version``."""

    name: str
    subject: str
    version: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "subject": self.subject, "version": self.version}


@dataclass(frozen=True, slots=True)
class StoredSchema:
    """A schema as the registry keeps it under its id, whatever subjects use it."""

    id: int
    schema: str
    schema_type: str = DEFAULT_SCHEMA_TYPE
    references: tuple[SchemaReference, ...] = ()

    @property
    def format(self) -> str:
        return SCHEMA_TYPES[self.schema_type]


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """One version of a subject: its number, the schema's global id and the schema."""

    subject: str
    version: int
    id: int
    schema: str
    schema_type: str = DEFAULT_SCHEMA_TYPE
    references: tuple[SchemaReference, ...] = ()

    @property
    def format(self) -> str:
        return SCHEMA_TYPES[self.schema_type]

    def to_json(self) -> dict[str, Any]:
        """The body of ``GET /subjects/{subject}/versions/{version}``."""
        body: dict[str, Any] = {
            "subject": self.subject,
            "version": self.version,
            "id": self.id,
            "schema": self.schema,
        }
        return _with_type_and_references(body, self.schema_type, self.references)


def schema_json(schema: StoredSchema) -> dict[str, Any]:
    """The body of ``GET /schemas/ids/{id}``."""
    return _with_type_and_references(
        {"schema": schema.schema}, schema.schema_type, schema.references
    )


def references_from_json(raw: object, where: str) -> tuple[SchemaReference, ...]:
    """``[{"name", "subject", "version"}, ...]`` as references; ``ValueError`` naming
    ``where`` (a JSON path) when the list is malformed."""
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ValueError(f"{where}: references must be a list")
    found = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ValueError(f"{where}[{index}]: a reference is an object")
        name, subject, version = item.get("name"), item.get("subject"), item.get("version")
        if not isinstance(name, str) or not isinstance(subject, str):
            raise ValueError(f"{where}[{index}]: a reference needs a name and a subject")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError(f"{where}[{index}].version: a version number is required")
        found.append(SchemaReference(name, subject, version))
    return tuple(found)


def _with_type_and_references(
    body: dict[str, Any], schema_type: str, references: tuple[SchemaReference, ...]
) -> dict[str, Any]:
    """Confluent leaves ``schemaType`` out for Avro and ``references`` out when empty."""
    if schema_type != DEFAULT_SCHEMA_TYPE:
        body["schemaType"] = schema_type
    if references:
        body["references"] = [reference.to_json() for reference in references]
    return body
