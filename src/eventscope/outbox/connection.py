"""Opening the outbox database from a DSN: ``postgresql://…`` or ``sqlite:///path``.

The writer uses the application's own connection (the outbox row must commit with the
business change); the relay and the metrics open their own, from the same DSN the
command line takes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventscope.errors import UsageError
from eventscope.outbox.table import POSTGRES, SQLITE, Dialect

SQLITE_PREFIX = "sqlite:///"


def dialect_for(dsn: str) -> Dialect:
    if dsn.startswith(("postgresql://", "postgres://")):
        return POSTGRES
    if dsn.startswith(SQLITE_PREFIX) and len(dsn) > len(SQLITE_PREFIX):
        return SQLITE
    raise UsageError(
        f"outbox DSN {dsn!r} is neither postgresql://user@host/db nor sqlite:///path/to/file.db"
    )


def connect(dsn: str) -> tuple[Any, Dialect]:
    """A new connection to the outbox database, outside any transaction.

    SQLite opens in the driver's manual-transaction mode (``isolation_level=None``), so
    a relay's ``BEGIN IMMEDIATE`` is the only transaction it opens.
    """
    dialect = dialect_for(dsn)
    try:
        if dialect is SQLITE:
            path = dsn.removeprefix(SQLITE_PREFIX)
            connection = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=30
            )
            connection.execute("PRAGMA journal_mode=WAL")
            return connection, dialect
        try:
            import psycopg
        except ImportError as exc:
            raise UsageError(
                "a PostgreSQL outbox needs psycopg: pip install 'eventscope[postgres]'"
            ) from exc
        return psycopg.connect(dsn, connect_timeout=10), dialect
    except (sqlite3.Error, OSError) as exc:
        raise UsageError(f"cannot open the outbox database {dsn}: {exc}") from exc
    except Exception as exc:
        if type(exc).__module__.startswith("psycopg"):
            raise UsageError(f"cannot connect to the outbox database {_shown(dsn)}: {exc}") from exc
        raise


def _shown(dsn: str) -> str:
    """The DSN without a password, for error messages."""
    if "@" not in dsn or "://" not in dsn:
        return dsn
    scheme, rest = dsn.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"


@contextmanager
def transaction(connection: Any) -> Iterator[Any]:
    """One transaction on a psycopg 3 or sqlite3 connection: committed if the block
    ends normally, rolled back if it raises.  A convenience for code that runs on
    either database; with one of them, use its own way (``connection.transaction()``)."""
    if isinstance(connection, sqlite3.Connection):
        if connection.isolation_level is None:
            connection.execute("BEGIN")
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
        return
    with connection.transaction():
        yield connection
