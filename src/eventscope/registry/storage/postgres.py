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
from datetime import UTC, datetime
from typing import Any

from eventscope.registry.models import StoredSchema
from eventscope.registry.storage.base import NewSchema, Settings, VersionRow, numbered
from eventscope.registry.storage.sql import (
    CREATE_MIGRATIONS,
    MIGRATIONS,
    SETTINGS_QUERY,
    level_key,
    postgres_dialect,
    references_text,
    settings_from,
    stored_schema,
)

#: The first key of every advisory lock eventscope takes (an arbitrary constant, so the
#: locks cannot collide with an application's own on the same database).
_LOCK_CLASS = 0x6576  # "ev"
_MIGRATION_LOCK = -1  # second key of the lock held while migrating
_POOL_SIZE = 16
_CONNECT_SECONDS = 10


class PostgresStorage:
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

    # -- reading -----------------------------------------------------------------

    def schema(self, schema_id: int) -> StoredSchema | None:
        row = self._one(
            "SELECT id, schema_type, schema, refs FROM registry_schemas WHERE id = %s",
            (schema_id,),
        )
        return stored_schema(row) if row else None

    def schema_id(self, fingerprint: str) -> int | None:
        row = self._one("SELECT id FROM registry_schemas WHERE fingerprint = %s", (fingerprint,))
        return int(row[0]) if row else None

    def versions(self, subject: str) -> list[VersionRow]:
        with self._pool.connection() as connection:
            return _versions(connection, subject)

    def row(self, subject: str, number: int | None) -> VersionRow | None:
        with self._pool.connection() as connection:
            if number is None:
                found = connection.execute(
                    "SELECT version, schema_id, deleted FROM registry_versions"
                    " WHERE subject = %s AND NOT deleted ORDER BY version DESC LIMIT 1",
                    (subject,),
                )
            else:
                found = connection.execute(
                    "SELECT version, schema_id, deleted FROM registry_versions"
                    " WHERE subject = %s AND version = %s",
                    (subject, number),
                )
            rows = numbered(found)
        return rows[0] if rows else None

    def subjects(self, deleted: bool = False) -> list[str]:
        with self._pool.connection() as connection:
            rows = connection.execute(
                "SELECT DISTINCT subject FROM registry_versions WHERE %s OR NOT deleted"
                " ORDER BY subject",
                (deleted,),
            ).fetchall()
        return [name for (name,) in rows]

    def uses(self, schema_id: int) -> list[tuple[str, int]]:
        with self._pool.connection() as connection:
            rows = connection.execute(
                "SELECT subject, version FROM registry_versions"
                " WHERE schema_id = %s AND NOT deleted ORDER BY subject, version",
                (schema_id,),
            ).fetchall()
        return [(name, int(number)) for name, number in rows]

    def settings(self, subject: str) -> Settings:
        with self._pool.connection() as connection:
            query = SETTINGS_QUERY.format(p="%s")
            return settings_from(connection.execute(query, (subject, subject)).fetchall())

    def referencing(self, subject: str, version: int) -> list[int]:
        with self._pool.connection() as connection:
            rows = connection.execute(
                "SELECT DISTINCT schema_id FROM registry_references"
                " WHERE subject = %s AND version = %s ORDER BY schema_id",
                (subject, version),
            ).fetchall()
        return [int(schema_id) for (schema_id,) in rows]

    def mode(self, subject: str | None) -> str | None:
        row = self._one("SELECT mode FROM registry_modes WHERE subject = %s", (level_key(subject),))
        return str(row[0]) if row else None

    def set_mode(self, subject: str | None, mode: str) -> None:
        self._one(
            "INSERT INTO registry_modes (subject, mode) VALUES (%s, %s)"
            " ON CONFLICT (subject) DO UPDATE SET mode = excluded.mode RETURNING subject",
            (level_key(subject), mode),
        )

    def delete_mode(self, subject: str | None) -> str | None:
        row = self._one(
            "DELETE FROM registry_modes WHERE subject = %s RETURNING mode", (level_key(subject),)
        )
        return str(row[0]) if row else None

    def level(self, subject: str | None) -> str | None:
        row = self._one(
            "SELECT compatibility FROM registry_levels WHERE subject = %s", (level_key(subject),)
        )
        return row[0] if row else None

    # -- writing -----------------------------------------------------------------

    def set_level(self, subject: str | None, level: str) -> None:
        self._one(
            "INSERT INTO registry_levels (subject, compatibility) VALUES (%s, %s)"
            " ON CONFLICT (subject) DO UPDATE SET compatibility = excluded.compatibility"
            " RETURNING subject",
            (level_key(subject), level),
        )

    def delete_level(self, subject: str | None) -> str | None:
        row = self._one(
            "DELETE FROM registry_levels WHERE subject = %s RETURNING compatibility",
            (level_key(subject),),
        )
        return row[0] if row else None

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

    def _one(self, query: str, parameters: tuple[object, ...]) -> Any:
        with self._pool.connection() as connection:
            return connection.execute(query, parameters).fetchone()


class _Writer:
    def __init__(self, connection: Any, subject: str) -> None:
        self._connection = connection
        self._subject = subject

    def versions(self) -> list[VersionRow]:
        return _versions(self._connection, self._subject)

    def schema_id(self, fingerprint: str) -> int | None:
        row = self._connection.execute(
            "SELECT id FROM registry_schemas WHERE fingerprint = %s", (fingerprint,)
        ).fetchone()
        return int(row[0]) if row else None

    def referencing(self, version: int) -> list[int]:
        rows = self._connection.execute(
            "SELECT DISTINCT schema_id FROM registry_references"
            " WHERE subject = %s AND version = %s",
            (self._subject, version),
        ).fetchall()
        return [int(schema_id) for (schema_id,) in rows]

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
        self._connection.execute(
            "DELETE FROM registry_levels WHERE subject = %s"
            " AND NOT EXISTS (SELECT 1 FROM registry_versions WHERE subject = %s)",
            (self._subject, self._subject),
        )


def _migrate(connection: Any) -> None:
    """Apply the missing migrations, one instance at a time."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_CLASS, _MIGRATION_LOCK))
        connection.execute(CREATE_MIGRATIONS)
        done = {
            number for (number,) in connection.execute("SELECT version FROM registry_migrations")
        }
        for number, statements in MIGRATIONS:
            if number in done:
                continue
            for statement in statements:
                connection.execute(postgres_dialect(statement))
            connection.execute(
                "INSERT INTO registry_migrations (version, applied_at) VALUES (%s, %s)",
                (number, datetime.now(UTC).isoformat()),
            )


def _versions(connection: Any, subject: str) -> list[VersionRow]:
    rows = connection.execute(
        "SELECT version, schema_id, deleted FROM registry_versions WHERE subject = %s"
        " ORDER BY version",
        (subject,),
    )
    return numbered(rows)


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
