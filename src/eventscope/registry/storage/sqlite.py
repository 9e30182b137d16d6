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
from pathlib import Path

from eventscope.registry.storage.base import NewSchema
from eventscope.registry.storage.sql import (
    Rows,
    SqlReads,
    SqlWriterReads,
    apply_migrations,
    references_text,
    sqlite_dialect,
)

_BUSY_MS = 30_000  # how long a writer waits for another process's transaction


class SqliteStorage(SqlReads):
    """Subjects, versions and schemas in the SQLite database at ``path``."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.description = f"sqlite:///{self.path}"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()
        self._migrate()

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

    def _rows(self, query: str, parameters: Sequence[object]) -> Rows:
        return self._connection().execute(query, parameters).fetchall()

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
            apply_migrations(connection, sqlite_dialect)


class _Writer(SqlWriterReads):
    def __init__(self, connection: sqlite3.Connection, subject: str) -> None:
        super().__init__(subject)
        self._connection = connection

    def _rows(self, query: str, parameters: Sequence[object]) -> Rows:
        return self._connection.execute(query, parameters).fetchall()

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
        self._forget_level_if_empty()

