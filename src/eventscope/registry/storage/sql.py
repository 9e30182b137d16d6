"""What the SQLite and PostgreSQL storages share: the tables, and their migrations.

The tables are the same in both; only types and placeholders differ.  Migrations are
numbered and applied in order, each once, recorded in ``registry_migrations``; the
storage applies the missing ones when it opens the database, inside one transaction
that the other instances wait for, so a newer eventscope upgrades a database in place
and instances starting together do not race.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eventscope.registry.models import SchemaReference, StoredSchema
from eventscope.registry.storage.base import Settings


@dataclass(frozen=True, slots=True)
class Dialects:
    """A statement that differs between the two databases beyond what
    :func:`postgres_dialect` rewrites."""

    sqlite: str
    postgres: str


#: Written in SQLite's dialect unless spelled for both; :func:`postgres_dialect` rewrites
#: the id columns for PostgreSQL.
MIGRATIONS: list[tuple[int, tuple[str | Dialects, ...]]] = [
    (
        1,
        (
            "CREATE TABLE registry_schemas ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " fingerprint TEXT NOT NULL UNIQUE,"
            " schema_type TEXT NOT NULL,"
            " schema TEXT NOT NULL,"
            " refs TEXT NOT NULL)",
            "CREATE TABLE registry_versions ("
            " subject TEXT NOT NULL,"
            " version INTEGER NOT NULL,"
            " schema_id INTEGER NOT NULL REFERENCES registry_schemas (id),"
            " deleted BOOLEAN NOT NULL DEFAULT FALSE,"
            " PRIMARY KEY (subject, version))",
            "CREATE INDEX registry_versions_by_schema ON registry_versions (schema_id)",
            # The global level is the row whose subject is '' (no subject has that name:
            # it is not a valid URL path segment).
            "CREATE TABLE registry_levels (subject TEXT PRIMARY KEY, compatibility TEXT NOT NULL)",
        ),
    ),
    (
        2,
        (
            # Modes (READWRITE, READONLY, IMPORT), global on the '' row as for levels.
            "CREATE TABLE registry_modes (subject TEXT PRIMARY KEY, mode TEXT NOT NULL)",
            # Which schema refers to which (subject, version): answers `referencedby`
            # and refuses deleting a version still referred to.
            "CREATE TABLE registry_references ("
            " schema_id INTEGER NOT NULL REFERENCES registry_schemas (id),"
            " subject TEXT NOT NULL,"
            " version INTEGER NOT NULL)",
            "CREATE INDEX registry_references_by_target ON registry_references (subject, version)",
            Dialects(
                sqlite="INSERT INTO registry_references (schema_id, subject, version)"
                " SELECT s.id, json_extract(r.value, '$.subject'),"
                " json_extract(r.value, '$.version')"
                " FROM registry_schemas s, json_each(s.refs) r",
                postgres="INSERT INTO registry_references (schema_id, subject, version)"
                " SELECT s.id, r->>'subject', (r->>'version')::int"
                " FROM registry_schemas s, jsonb_array_elements(s.refs::jsonb) r",
            ),
        ),
    ),
]

CREATE_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS registry_migrations ("
    " version INTEGER PRIMARY KEY,"
    " applied_at TEXT NOT NULL)"
)
GLOBAL = ""


def sqlite_dialect(statement: str | Dialects) -> str:
    return statement.sqlite if isinstance(statement, Dialects) else statement


def postgres_dialect(statement: str | Dialects) -> str:
    if isinstance(statement, Dialects):
        return statement.postgres
    return statement.replace(
        "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    ).replace("schema_id INTEGER", "schema_id BIGINT")


#: One read for a subject's and the global mode and level (placeholders: subject x2).
SETTINGS_QUERY = (
    "SELECT 'mode', subject, mode FROM registry_modes WHERE subject IN ({p}, '')"
    " UNION ALL"
    " SELECT 'level', subject, compatibility FROM registry_levels WHERE subject IN ({p}, '')"
)


def settings_from(rows: list[tuple[Any, ...]]) -> Settings:
    """:class:`Settings` from the rows of :data:`SETTINGS_QUERY`."""
    found = {(kind, subject == GLOBAL): value for kind, subject, value in rows}
    return Settings(
        found.get(("mode", False)),
        found.get(("mode", True)),
        found.get(("level", False)),
        found.get(("level", True)),
    )


def level_key(subject: str | None) -> str:
    return GLOBAL if subject is None else subject


def references_text(references: tuple[SchemaReference, ...]) -> str:
    return json.dumps([reference.to_json() for reference in references])


def stored_schema(row: tuple[Any, ...]) -> StoredSchema:
    """A ``(id, schema_type, schema, refs)`` row as a :class:`StoredSchema`."""
    schema_id, schema_type, schema, refs = row
    references = tuple(SchemaReference(**item) for item in json.loads(refs))
    return StoredSchema(int(schema_id), schema, schema_type, references)
