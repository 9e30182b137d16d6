"""State in a PostgreSQL database, shared by every instance pointed at it.

This is how a team runs several registries behind one load balancer: psycopg 3 (the
maintained PostgreSQL driver) with its connection pool.  Ids come from an identity
column, so no two instances hand out the same one; a schema's fingerprint is unique, so
two instances registering the same schema at once agree on its id (``ON CONFLICT DO
NOTHING`` waits for the other transaction, then finds its row).  A write takes a
transaction-scoped advisory lock on its subject only: writers to different subjects
never wait for each other, writers to one subject get contiguous version numbers.
A commit is durable before the id is answered (PostgreSQL's default ``synchronous_commit``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventscope.registry.storage.base import NewSchema
from eventscope.registry.storage.sql import (
    Rows,
    SqlReads,
    SqlWriterReads,
    apply_migrations,
    postgres_dialect,
    references_text,
)

#: The first key of every advisory lock eventscope takes (an arbitrary constant, so the
#: locks cannot collide with an application's own on the same database).
_LOCK_CLASS = 0x6576  # "ev"
_MIGRATION_LOCK = -1  # second key of the lock held while migrating
_POOL_SIZE = 16
_CONNECT_SECONDS = 10


class PostgresStorage(SqlReads):
    """Subjects, versions and schemas in the PostgreSQL database ``conninfo`` names."""

    def __init__(self, conninfo: str, *, pool_size: int = _POOL_SIZE) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self.description = _without_password(conninfo)
        # One plain connection first: a wrong address or database fails at once with
        # the server's own words, where a pool would retry until its timeout.
        with psycopg.connect(conninfo, connect_timeout=_CONNECT_SECONDS) as connection:
            _migrate(connection)
        # Autocommit: a read is one statement with no transaction left open to roll back
        # when the connection goes back to the pool; write() opens its own transaction.
        self._pool = ConnectionPool(
            conninfo,
            min_size=min(4, pool_size),
            max_size=pool_size,
            kwargs={"autocommit": True},
            open=False,
            name="eventscope-registry",
        )
        self._pool.open(wait=True, timeout=_CONNECT_SECONDS)

    @contextmanager
    def write(self, subject: str) -> Iterator[_Writer]:
        with self._pool.connection() as connection, connection.transaction():
            connection.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_CLASS, subject)
            )
            yield _Writer(connection, subject)

    def close(self) -> None:
        self._pool.close()

    # -- internals ---------------------------------------------------------------

    def _rows(self, query: str, parameters: Sequence[object]) -> Rows:
        with self._pool.connection() as connection:
            return _fetched(connection.execute(postgres_dialect(query), parameters))


class _Writer(SqlWriterReads):
    def __init__(self, connection: Any, subject: str) -> None:
        super().__init__(subject)
        self._connection = connection

    def _rows(self, query: str, parameters: Sequence[object]) -> Rows:
        return _fetched(self._connection.execute(postgres_dialect(query), parameters))

    def add(self, number: int, schema: NewSchema, schema_id: int | None = None) -> int:
        values = (schema.fingerprint, schema.schema_type, schema.schema)
        refs = references_text(schema.references)
        if schema_id is None:
            row = self._connection.execute(
                "INSERT INTO registry_schemas (fingerprint, schema_type, schema, refs)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (fingerprint) DO NOTHING RETURNING id",
                (*values, refs),
            ).fetchone()
        else:  # IMPORT mode: the caller's id, and the sequence moved past it
            row = self._connection.execute(
                "INSERT INTO registry_schemas (id, fingerprint, schema_type, schema, refs)"
                " OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (fingerprint) DO NOTHING RETURNING id",
                (schema_id, *values, refs),
            ).fetchone()
            self._connection.execute(
                "SELECT setval(pg_get_serial_sequence('registry_schemas', 'id'),"
                " (SELECT max(id) FROM registry_schemas))"
            )
        if row is not None:
            self._connection.execute(
                "INSERT INTO registry_references (schema_id, subject, version)"
                " SELECT %s, unnest(%s::text[]), unnest(%s::int[])",
                (
                    row[0],
                    [ref.subject for ref in schema.references],
                    [ref.version for ref in schema.references],
                ),
            )
        else:  # known already, or committed meanwhile by another instance
            row = self._connection.execute(
                "SELECT id FROM registry_schemas WHERE fingerprint = %s", (schema.fingerprint,)
            ).fetchone()
        self._connection.execute(
            "INSERT INTO registry_versions (subject, version, schema_id) VALUES (%s, %s, %s)",
            (self._subject, number, row[0]),
        )
        return int(row[0])

    def soft_delete(self, numbers: Sequence[int]) -> None:
        self._connection.execute(
            "UPDATE registry_versions SET deleted = TRUE WHERE subject = %s AND version = ANY(%s)",
            (self._subject, list(numbers)),
        )

    def remove(self, numbers: Sequence[int]) -> None:
        self._connection.execute(
            "DELETE FROM registry_versions WHERE subject = %s AND version = ANY(%s)",
            (self._subject, list(numbers)),
        )
        self._forget_level_if_empty()


def _migrate(connection: Any) -> None:
    """Apply the missing migrations, one instance at a time."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, _MIGRATION_LOCK))
        apply_migrations(connection, postgres_dialect)


def _fetched(cursor: Any) -> Rows:
    """A cursor's rows; none for a statement that returns none (psycopg refuses to
    fetch those)."""
    return cursor.fetchall() if cursor.description is not None else []


def _without_password(conninfo: str) -> str:
    """The connection string as printed: a password in it is replaced by ``***``."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        parts = conninfo_to_dict(conninfo)
    except Exception:  # psycopg reports a malformed string when connecting
        return "postgresql://…"
    if "password" in parts:
        parts["password"] = "***"
    return make_conninfo(**parts)
