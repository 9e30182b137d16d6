"""State in one SQLite file: the default of ``eventscope registry serve``.

Python's own :mod:`sqlite3`, nothing to install.  The database runs in WAL mode, so
readers never wait for the writer, with ``synchronous=FULL``: a version is on disk
before its id is answered, and survives ``kill -9`` and power loss alike.  Each thread
has its own connection; a write is a ``BEGIN IMMEDIATE`` transaction, which SQLite
serialises across threads and processes, and it holds only the few inserts: parsing and
compatibility checks have happened before it starts.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from eventscope.registry.models import StoredSchema
from eventscope.registry.storage.base import NewSchema, Settings, VersionRow, numbered
from eventscope.registry.storage.sql import (
    CREATE_MIGRATIONS,
    MIGRATIONS,
    SETTINGS_QUERY,
    level_key,
    references_text,
    settings_from,
    sqlite_dialect,
    stored_schema,
)

_BUSY_MS = 30_000  # how long a writer waits for another process's transaction


class SqliteStorage:
    """Subjects, versions and schemas in the SQLite database at ``path``."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.description = f"sqlite:///{self.path}"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._migrate()

    # -- reading -----------------------------------------------------------------

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
        return _versions(self._connection(), subject)

    def row(self, subject: str, number: int | None) -> VersionRow | None:
        if number is None:
            query = (
                "SELECT version, schema_id, deleted FROM registry_versions"
                " WHERE subject = ? AND NOT deleted ORDER BY version DESC LIMIT 1"
            )
            found = self._connection().execute(query, (subject,))
        else:
            query = (
                "SELECT version, schema_id, deleted FROM registry_versions"
                " WHERE subject = ? AND version = ?"
            )
            found = self._connection().execute(query, (subject, number))
        rows = numbered(found)
        return rows[0] if rows else None

    def subjects(self, deleted: bool = False) -> list[str]:
        rows = self._connection().execute(
            "SELECT DISTINCT subject FROM registry_versions WHERE ? OR NOT deleted"
            " ORDER BY subject",
            (deleted,),
        )
        return [name for (name,) in rows]

    def uses(self, schema_id: int) -> list[tuple[str, int]]:
        rows = self._connection().execute(
            "SELECT subject, version FROM registry_versions WHERE schema_id = ? AND NOT deleted"
            " ORDER BY subject, version",
            (schema_id,),
        )
        return [(name, int(number)) for name, number in rows]

    def settings(self, subject: str) -> Settings:
        query = SETTINGS_QUERY.format(p="?")
        return settings_from(self._connection().execute(query, (subject, subject)).fetchall())

    def referencing(self, subject: str, version: int) -> list[int]:
        rows = self._connection().execute(
            "SELECT DISTINCT schema_id FROM registry_references"
            " WHERE subject = ? AND version = ? ORDER BY schema_id",
            (subject, version),
        )
        return [int(schema_id) for (schema_id,) in rows]

    def mode(self, subject: str | None) -> str | None:
        row = self._one("SELECT mode FROM registry_modes WHERE subject = ?", (level_key(subject),))
        return str(row[0]) if row else None

    def set_mode(self, subject: str | None, mode: str) -> None:
        self._connection().execute(
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

    # -- writing -----------------------------------------------------------------

    def set_level(self, subject: str | None, level: str) -> None:
        self._connection().execute(
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

    @contextmanager
    def write(self, subject: str) -> Iterator[_Writer]:
        with self._transaction() as connection:
            yield _Writer(connection, subject)

    def close(self) -> None:
        with self._guard:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    # -- internals ---------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            # Autocommit: reads are single statements; writes open their transaction.
            connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=_BUSY_MS / 1000
            )
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA foreign_keys = ON")
            self._local.connection = connection
            with self._guard:
                self._connections.append(connection)
        return connection

    def _one(self, query: str, parameters: tuple[object, ...]) -> tuple[object, ...] | None:
        return self._connection().execute(query, parameters).fetchone()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _migrate(self) -> None:
        with self._transaction() as connection:
            connection.execute(CREATE_MIGRATIONS)
            done = {
                number
                for (number,) in connection.execute("SELECT version FROM registry_migrations")
            }
            for number, statements in MIGRATIONS:
                if number in done:
                    continue
                for statement in statements:
                    connection.execute(sqlite_dialect(statement))
                connection.execute(
                    "INSERT INTO registry_migrations (version, applied_at) VALUES (?, ?)",
                    (number, datetime.now(UTC).isoformat()),
                )


class _Writer:
    def __init__(self, connection: sqlite3.Connection, subject: str) -> None:
        self._connection = connection
        self._subject = subject

    def versions(self) -> list[VersionRow]:
        return _versions(self._connection, self._subject)

    def schema_id(self, fingerprint: str) -> int | None:
        row = self._connection.execute(
            "SELECT id FROM registry_schemas WHERE fingerprint = ?", (fingerprint,)
        ).fetchone()
        return int(row[0]) if row else None

    def referencing(self, version: int) -> list[int]:
        rows = self._connection.execute(
            "SELECT DISTINCT schema_id FROM registry_references WHERE subject = ? AND version = ?",
            (self._subject, version),
        )
        return [int(schema_id) for (schema_id,) in rows]

    def add(self, number: int, schema: NewSchema, schema_id: int | None = None) -> int:
        inserted = self._connection.execute(
            "INSERT INTO registry_schemas (id, fingerprint, schema_type, schema, refs)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING",
            (
                schema_id,  # NULL: the next id
                schema.fingerprint,
                schema.schema_type,
                schema.schema,
                references_text(schema.references),
            ),
        ).rowcount
        (schema_id,) = self._connection.execute(
            "SELECT id FROM registry_schemas WHERE fingerprint = ?", (schema.fingerprint,)
        ).fetchone()
        if inserted:
            self._connection.executemany(
                "INSERT INTO registry_references (schema_id, subject, version) VALUES (?, ?, ?)",
                [(schema_id, ref.subject, ref.version) for ref in schema.references],
            )
        self._connection.execute(
            "INSERT INTO registry_versions (subject, version, schema_id) VALUES (?, ?, ?)",
            (self._subject, number, schema_id),
        )
        return int(schema_id)

    def soft_delete(self, numbers: Sequence[int]) -> None:
        self._connection.executemany(
            "UPDATE registry_versions SET deleted = TRUE WHERE subject = ? AND version = ?",
            [(self._subject, number) for number in numbers],
        )

    def remove(self, numbers: Sequence[int]) -> None:
        self._connection.executemany(
            "DELETE FROM registry_versions WHERE subject = ? AND version = ?",
            [(self._subject, number) for number in numbers],
        )
        self._connection.execute(
            "DELETE FROM registry_levels WHERE subject = ?"
            " AND NOT EXISTS (SELECT 1 FROM registry_versions WHERE subject = ?)",
            (self._subject, self._subject),
        )


def _versions(connection: sqlite3.Connection, subject: str) -> list[VersionRow]:
    rows = connection.execute(
        "SELECT version, schema_id, deleted FROM registry_versions WHERE subject = ?"
        " ORDER BY version",
        (subject,),
    )
    return numbered(rows)
