"""What the SQLite and PostgreSQL storages share: the tables, their migrations, and
every statement that reads or sets a row the same way in both.

The tables are the same in both; only types and placeholders differ.  Statements are
written once, in SQLite's dialect (``?`` placeholders); :func:`postgres_dialect`
rewrites them.  Migrations are numbered and applied in order, each once, recorded in
``registry_migrations``; the storage applies the missing ones when it opens the
database, inside one transaction that the other instances wait for, so a newer
eventscope upgrades a database in place and instances starting together do not race.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventscope.registry.models import SchemaReference, StoredSchema
from eventscope.registry.storage.base import Settings, VersionRow, numbered

Rows = list[tuple[Any, ...]]


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
    """A statement for PostgreSQL: its own spelling, or the SQLite one with identity id
    columns and psycopg's ``%s`` placeholders (no statement here has a literal ``?``)."""
    if isinstance(statement, Dialects):
        return statement.postgres
    return (
        statement.replace(
            "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
        )
        .replace("schema_id INTEGER", "schema_id BIGINT")
        .replace("?", "%s")
    )


def apply_migrations(connection: Any, dialect: Callable[[str | Dialects], str]) -> None:
    """Apply the migrations ``connection``'s database lacks, inside the caller's
    transaction (which keeps other instances out while it runs)."""
    connection.execute(CREATE_MIGRATIONS)
    done = {number for (number,) in connection.execute("SELECT version FROM registry_migrations")}
    for number, statements in MIGRATIONS:
        if number in done:
            continue
        for statement in statements:
            connection.execute(dialect(statement))
        connection.execute(
            dialect("INSERT INTO registry_migrations (version, applied_at) VALUES (?, ?)"),
            (number, datetime.now(UTC).isoformat()),
        )


#: One read for a subject's and the global mode and level (parameters: subject twice).
SETTINGS_QUERY = (
    "SELECT 'mode', subject, mode FROM registry_modes WHERE subject IN (?, '')"
    " UNION ALL"
    " SELECT 'level', subject, compatibility FROM registry_levels WHERE subject IN (?, '')"
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


class SqlReads:
    """The storage operations that are one statement, the same in both databases.

    A storage gives :meth:`_rows`: run one statement (written with ``?`` placeholders)
    on a connection of its own, outside any write transaction, and return its rows
    (none for a statement that returns none).
    """

    def _rows(self, query: str, parameters: Sequence[object]) -> Rows:
        raise NotImplementedError

    def _one(self, query: str, parameters: Sequence[object]) -> tuple[Any, ...] | None:
        rows = self._rows(query, parameters)
        return rows[0] if rows else None

    def schema(self, schema_id: int) -> StoredSchema | None:
        row = self._one(
            "SELECT id, schema_type, schema, refs FROM registry_schemas WHERE id = ?",
            (schema_id,),
        )
        return stored_schema(row) if row else None

    def schema_id(self, fingerprint: str) -> int | None:
        row = self._one("SELECT id FROM registry_schemas WHERE fingerprint = ?", (fingerprint,))
        return int(row[0]) if row else None

    def versions(self, subject: str) -> list[VersionRow]:
        return numbered(iter(self._rows(VERSIONS_QUERY, (subject,))))

    def row(self, subject: str, number: int | None) -> VersionRow | None:
        if number is None:
            found = self._rows(
                "SELECT version, schema_id, deleted FROM registry_versions"
                " WHERE subject = ? AND NOT deleted ORDER BY version DESC LIMIT 1",
                (subject,),
            )
        else:
            found = self._rows(
                "SELECT version, schema_id, deleted FROM registry_versions"
                " WHERE subject = ? AND version = ?",
                (subject, number),
            )
        rows = numbered(iter(found))
        return rows[0] if rows else None

    def subjects(self, deleted: bool = False) -> list[str]:
        rows = self._rows(
            "SELECT DISTINCT subject FROM registry_versions WHERE ? OR NOT deleted"
            " ORDER BY subject",
            (deleted,),
        )
        return [name for (name,) in rows]

    def uses(self, schema_id: int) -> list[tuple[str, int]]:
        rows = self._rows(
            "SELECT subject, version FROM registry_versions WHERE schema_id = ? AND NOT deleted"
            " ORDER BY subject, version",
            (schema_id,),
        )
        return [(name, int(number)) for name, number in rows]

    def settings(self, subject: str) -> Settings:
        return settings_from(self._rows(SETTINGS_QUERY, (subject, subject)))

    def referencing(self, subject: str, version: int) -> list[int]:
        rows = self._rows(
            "SELECT DISTINCT schema_id FROM registry_references"
            " WHERE subject = ? AND version = ? ORDER BY schema_id",
            (subject, version),
        )
        return [int(schema_id) for (schema_id,) in rows]

    def mode(self, subject: str | None) -> str | None:
        row = self._one("SELECT mode FROM registry_modes WHERE subject = ?", (level_key(subject),))
        return str(row[0]) if row else None

    def set_mode(self, subject: str | None, mode: str) -> None:
        self._rows(
            "INSERT INTO registry_modes (subject, mode) VALUES (?, ?)"
            " ON CONFLICT (subject) DO UPDATE SET mode = excluded.mode",
            (level_key(subject), mode),
        )

    def delete_mode(self, subject: str | None) -> str | None:
        row = self._one(
            "DELETE FROM registry_modes WHERE subject = ? RETURNING mode", (level_key(subject),)
        )
        return str(row[0]) if row else None

    def level(self, subject: str | None) -> str | None:
        row = self._one(
            "SELECT compatibility FROM registry_levels WHERE subject = ?", (level_key(subject),)
        )
        return row[0] if row else None

    def set_level(self, subject: str | None, level: str) -> None:
        self._rows(
            "INSERT INTO registry_levels (subject, compatibility) VALUES (?, ?)"
            " ON CONFLICT (subject) DO UPDATE SET compatibility = excluded.compatibility",
            (level_key(subject), level),
        )

    def delete_level(self, subject: str | None) -> str | None:
        row = self._one(
            "DELETE FROM registry_levels WHERE subject = ? RETURNING compatibility",
            (level_key(subject),),
        )
        return row[0] if row else None


class SqlWriterReads:
    """What a subject's writer reads inside its transaction, the same in both
    databases; the writer gives :meth:`_rows` on its transaction's connection."""

    def __init__(self, subject: str) -> None:
        self._subject = subject

    def _rows(self, query: str, parameters: Sequence[object]) -> Rows:
        raise NotImplementedError

    def versions(self) -> list[VersionRow]:
        return numbered(iter(self._rows(VERSIONS_QUERY, (self._subject,))))

    def schema_id(self, fingerprint: str) -> int | None:
        rows = self._rows("SELECT id FROM registry_schemas WHERE fingerprint = ?", (fingerprint,))
        return int(rows[0][0]) if rows else None

    def referencing(self, version: int) -> list[int]:
        rows = self._rows(
            "SELECT DISTINCT schema_id FROM registry_references WHERE subject = ? AND version = ?",
            (self._subject, version),
        )
        return [int(schema_id) for (schema_id,) in rows]

    def _forget_level_if_empty(self) -> None:
        """A subject whose last version went takes its compatibility level with it."""
        self._rows(
            "DELETE FROM registry_levels WHERE subject = ?"
            " AND NOT EXISTS (SELECT 1 FROM registry_versions WHERE subject = ?)",
            (self._subject, self._subject),
        )


VERSIONS_QUERY = (
    "SELECT version, schema_id, deleted FROM registry_versions WHERE subject = ? ORDER BY version"
)
