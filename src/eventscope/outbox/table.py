"""The outbox table in PostgreSQL (psycopg 3) and SQLite (the standard library).

One row is one message waiting to be sent: its destination, key, payload and the
headers ``@producer`` wrote when the row was written (trace context, event id, publish
time).  The statements differ between the two databases in three places only — the
placeholder, the column types and how a relay claims rows — so each database is one
:class:`Dialect` and everything else is written once.

Claiming is where several relays meet.  PostgreSQL claims with ``FOR UPDATE SKIP
LOCKED``: each relay locks a different set of rows and holds the locks until it commits
the batch, and a relay that dies drops its connection, which releases them.  SQLite has
one writer at a time; a relay opens its batch with ``BEGIN IMMEDIATE`` and holds the
write lock until it commits, which is the same guarantee for one database file.

Per-key order: a row is claimable only while no earlier unpublished row has the same key
outside this batch (one locked by another relay, or one waiting out its backoff), so
messages of one key reach the broker in the order they were written.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from eventscope.errors import UsageError

DEFAULT_TABLE = "eventscope_outbox"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def checked_table(name: str) -> str:
    """``name`` if it is a plain SQL identifier (it is spliced into statements)."""
    if not _IDENTIFIER.fullmatch(name):
        raise UsageError(
            f"outbox table {name!r} is not a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*)"
        )
    return name


@dataclass(frozen=True)
class Row:
    """One claimed outbox row, as the relay publishes it."""

    id: int
    destination: str
    key: str | None
    payload: bytes
    headers: dict[str, str]
    attempts: int


@dataclass(frozen=True)
class Backlog:
    """Rows not yet published for one destination, and how long the oldest has waited."""

    destination: str
    waiting: int
    oldest_age: float


@dataclass(frozen=True)
class Dialect:
    """What differs between the two databases."""

    name: str
    placeholder: str
    id_column: str
    blob: str
    claim_lock: str
    """Appended to the claim query (``FOR UPDATE SKIP LOCKED`` or nothing)."""
    begin: str | None
    """Statement that opens a relay's batch, when the driver does not."""

    def sql(self, text: str, table: str) -> str:
        return text.replace("{t}", table).replace("?", self.placeholder)


POSTGRES = Dialect(
    "postgresql",
    "%s",
    "id BIGSERIAL PRIMARY KEY",
    "BYTEA",
    " FOR UPDATE SKIP LOCKED",
    None,
)
SQLITE = Dialect(
    "sqlite",
    "?",
    "id INTEGER PRIMARY KEY AUTOINCREMENT",
    "BLOB",
    "",
    "BEGIN IMMEDIATE",
)

_CREATE = """
CREATE TABLE IF NOT EXISTS {t} (
    {id},
    destination TEXT NOT NULL,
    message_key TEXT,
    payload {blob} NOT NULL,
    headers TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    published_at DOUBLE PRECISION
)"""
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS {t}_waiting ON {t} (id) WHERE published_at IS NULL",
    "CREATE INDEX IF NOT EXISTS {t}_key ON {t} (message_key, id) WHERE published_at IS NULL",
    "CREATE INDEX IF NOT EXISTS {t}_published ON {t} (published_at) WHERE published_at IS NOT NULL",
)
_INSERT = (
    "INSERT INTO {t} (destination, message_key, payload, headers, created_at, next_attempt_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_CANDIDATES = (
    "SELECT id, destination, message_key, payload, headers, attempts FROM {t}"
    " WHERE published_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?"
)
_EARLIER = (
    "SELECT message_key, MIN(id) FROM {t} WHERE published_at IS NULL AND message_key IN ({keys})"
    " AND id NOT IN ({ids}) GROUP BY message_key"
)
_PUBLISHED = (
    "UPDATE {t} SET published_at = ?, attempts = attempts + 1, last_error = NULL"
    " WHERE id IN ({ids})"
)
_FAILED = "UPDATE {t} SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?"
_PURGE = "DELETE FROM {t} WHERE published_at IS NOT NULL AND published_at < ?"
_BACKLOG = (
    "SELECT destination, COUNT(*), MIN(created_at) FROM {t} WHERE published_at IS NULL"
    " GROUP BY destination"
)


def dialect_of(connection: Any) -> Dialect:
    """The dialect of a psycopg 3 or sqlite3 connection."""
    module = type(connection).__module__
    if module.startswith("sqlite3"):
        return SQLITE
    if module.startswith("psycopg"):
        return POSTGRES
    raise TypeError(
        "the outbox writes through a psycopg 3 or sqlite3 connection, "
        f"not {type(connection).__name__}"
    )


class OutboxTable:
    """The statements of one outbox table in one dialect; connections are the caller's."""

    def __init__(self, dialect: Dialect, table: str = DEFAULT_TABLE) -> None:
        self.dialect = dialect
        self.table = checked_table(table)

    def _sql(self, text: str) -> str:
        return self.dialect.sql(text, self.table)

    def create(self, connection: Any) -> None:
        """Create the table and its indexes if they do not exist (idempotent)."""
        d = self.dialect
        cursor = connection.cursor()
        cursor.execute(
            _CREATE.replace("{id}", d.id_column)
            .replace("{blob}", d.blob)
            .replace("{t}", self.table)
        )
        for statement in _INDEXES:
            cursor.execute(self._sql(statement))

    def insert(
        self,
        connection: Any,
        destination: str,
        key: str | None,
        payload: bytes,
        headers: dict[str, str],
    ) -> None:
        now = time.time()
        connection.cursor().execute(
            self._sql(_INSERT), (destination, key, payload, json.dumps(headers), now, now)
        )

    def claim(self, connection: Any, limit: int) -> list[Row]:
        """Rows this relay may publish now, in id order; call inside the batch transaction."""
        cursor = connection.cursor()
        cursor.execute(self._sql(_CANDIDATES) + self.dialect.claim_lock, (time.time(), limit))
        candidates = [
            Row(r[0], r[1], r[2], bytes(r[3]), json.loads(r[4]), r[5]) for r in cursor.fetchall()
        ]
        keys = sorted({r.key for r in candidates if r.key is not None})
        if not keys:
            return candidates
        p = self.dialect.placeholder
        query = self._sql(_EARLIER).format(
            keys=", ".join([p] * len(keys)), ids=", ".join([p] * len(candidates))
        )
        cursor.execute(query, (*keys, *(r.id for r in candidates)))
        blocked_from = dict(cursor.fetchall())
        return [r for r in candidates if r.key is None or r.id < blocked_from.get(r.key, r.id + 1)]

    def published(self, connection: Any, row_ids: list[int]) -> None:
        """Mark rows published, in one statement."""
        if row_ids:
            ids = ", ".join([self.dialect.placeholder] * len(row_ids))
            query = self._sql(_PUBLISHED).format(ids=ids)
            connection.cursor().execute(query, (time.time(), *row_ids))

    def failed(self, connection: Any, row_id: int, retry_at: float, error: str) -> None:
        connection.cursor().execute(self._sql(_FAILED), (retry_at, error[:500], row_id))

    def purge(self, connection: Any, published_before: float) -> int:
        cursor = connection.cursor()
        cursor.execute(self._sql(_PURGE), (published_before,))
        return max(cursor.rowcount, 0)

    def backlog(self, connection: Any) -> list[Backlog]:
        cursor = connection.cursor()
        cursor.execute(self._sql(_BACKLOG))
        now = time.time()
        return [
            Backlog(d, int(n), max(0.0, now - float(oldest))) for d, n, oldest in cursor.fetchall()
        ]
