"""Writing a message to the outbox, inside the caller's own transaction.

Nothing is sent: the row commits or rolls back with the business change it belongs to.
The write goes through ``@producer`` itself, so the row stores exactly the headers a
direct send would have carried — the trace context of a PRODUCER span that records the
write, a fresh event id and the publish time — and the write is counted as a send of
that destination.  The relay later publishes those stored headers unchanged, so each
consumer's span is a child of the write's span, in the business transaction's trace,
and the event id stays the same however often the relay has to retry.
"""

from __future__ import annotations

from typing import Any

from eventscope.instrumentation.headers import EVENT_ID
from eventscope.instrumentation.producer_decorator import producer
from eventscope.outbox.table import DEFAULT_TABLE, OutboxTable, dialect_of


def _destination(connection: Any, destination: str, *args: Any, **kwargs: Any) -> str:
    return destination


class Outbox:
    """The outbox table of a service that sends through ``system`` (``kafka``, ...).

    ``system`` is the ``messaging.system`` of the broker the relay publishes to: the
    write's span and the send metrics carry it, as they would for a direct send.
    """

    def __init__(self, system: str, *, table: str = DEFAULT_TABLE) -> None:
        self.system = system
        self.table = table
        self._tables: dict[str, OutboxTable] = {}
        self._write = producer(_destination, system=system)(self._insert)

    def _table(self, connection: Any) -> OutboxTable:
        dialect = dialect_of(connection)
        table = self._tables.get(dialect.name)
        if table is None:
            table = self._tables[dialect.name] = OutboxTable(dialect, self.table)
        return table

    def create_table(self, connection: Any) -> None:
        """Create the outbox table and its indexes if missing; commit is the caller's."""
        self._table(connection).create(connection)

    def write(
        self,
        connection: Any,
        destination: str,
        payload: bytes | str,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Store one message in ``connection``'s current transaction; returns its event id.

        ``connection`` is a psycopg 3 or sqlite3 connection in the transaction that
        changes the business state.  ``headers`` are the application's own; eventscope's
        are added to them in place, as ``@producer`` does (an event id already there is
        kept: a resend of the same event).
        """
        body = payload.encode() if isinstance(payload, str) else bytes(payload)
        stored = headers if headers is not None else {}
        self._write(connection, destination, body, key, stored)
        return stored[EVENT_ID]

    def _insert(
        self,
        connection: Any,
        destination: str,
        payload: bytes,
        key: str | None,
        headers: dict[str, str],
    ) -> None:
        self._table(connection).insert(connection, destination, key, payload, headers)
