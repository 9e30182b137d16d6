"""The relay: claims waiting outbox rows, publishes them with their stored headers, marks them.

One batch is one database transaction: claim up to ``batch_size`` rows, publish each
through the :class:`Publisher`, flush the client, mark the published rows (and give the
failed ones their next attempt time), commit.  Delivery is at least once: a relay that
dies after publishing and before committing leaves its rows unpublished, and the next
relay publishes them again — with the same event id, which the consumers' deduplication
(``@consumer(deduplicate=...)``) recognises.

A row that fails is retried after a backoff that doubles per attempt (``first_backoff``
up to ``max_backoff``); the rows after it with the same key wait for it, so one key's
messages are never reordered.  Published rows are deleted once ``retention`` seconds
old: they are the record of what was sent, kept for a while for investigation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eventscope.outbox.connection import connect
from eventscope.outbox.metrics import RelayStats
from eventscope.outbox.table import DEFAULT_TABLE, Backlog, OutboxTable, Row

logger = logging.getLogger("eventscope.outbox")

Publish = Callable[[str, str | None, bytes, dict[str, str]], None]
"""``publish(destination, key, payload, headers)``: hand one message to the broker client."""


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Publisher:
    """How the relay reaches one broker: a publish call, and the client's flush and close.

    ``flush`` returns once every message published so far is on the broker, or raises;
    the relay commits a batch only after it returned.  :mod:`eventscope.outbox.publishers`
    builds one for each broker's official client.
    """

    system: str
    """The ``messaging.system`` of the broker (the relay metrics' label)."""
    publish: Publish
    flush: Callable[[], None] = _nothing
    close: Callable[[], None] = _nothing


@dataclass(frozen=True)
class RelayPolicy:
    batch_size: int = 100
    idle_wait: float = 0.2
    """Seconds to wait before looking again when nothing was claimable."""
    first_backoff: float = 0.5
    max_backoff: float = 60.0
    retention: float = 24 * 3600.0
    """Seconds a published row is kept before it is deleted."""
    purge_every: float = 60.0

    def backoff(self, attempts: int) -> float:
        """Seconds before the next attempt of a row that has failed ``attempts`` times."""
        return min(self.max_backoff, self.first_backoff * 2 ** max(0, attempts - 1))


@dataclass
class BatchResult:
    published: int = 0
    failed: int = 0
    rows: list[Row] = field(default_factory=list)


class Relay:
    """Relays one outbox table (``dsn``: ``postgresql://…`` or ``sqlite:///…``) to a broker.

    Run it in a thread of the service (:meth:`start`/:meth:`stop`), in a loop of its own
    (:meth:`run`, what ``eventscope outbox relay`` does), or a batch at a time
    (:meth:`relay_batch`).  Several relays, in any processes, may share a table.
    """

    def __init__(
        self,
        dsn: str,
        publisher: Publisher,
        *,
        table: str = DEFAULT_TABLE,
        policy: RelayPolicy | None = None,
        stats: RelayStats | None = None,
    ) -> None:
        self.dsn = dsn
        self.publisher = publisher
        self.policy = policy or RelayPolicy()
        self._connection, dialect = connect(dsn)
        self.table = OutboxTable(dialect, table)
        self.stats = stats or RelayStats(table, publisher.system)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._purged_at = 0.0

    # --- one batch ----------------------------------------------------------------

    def relay_batch(self) -> BatchResult:
        """Claim, publish, flush, mark and commit one batch; returns what it did."""
        connection, table = self._connection, self.table
        result = BatchResult()
        try:
            if table.dialect.begin:
                connection.execute(table.dialect.begin)
            result.rows = table.claim(connection, self.policy.batch_size)
            published = self._publish(result)
            if published:
                self.publisher.flush()
            table.published(connection, [row.id for row, _ in published])
            connection.commit()
            for row, seconds in published:
                self.stats.published(row.destination, seconds)
        except BaseException:
            self._rollback()
            raise
        result.published = len(published)
        return result

    def _publish(self, result: BatchResult) -> list[tuple[Row, float]]:
        published: list[tuple[Row, float]] = []
        held: set[str] = set()
        for row in result.rows:
            if row.key is not None and row.key in held:
                continue  # an earlier row of its key failed: keep the order
            started = time.perf_counter()
            try:
                self.publisher.publish(row.destination, row.key, row.payload, row.headers)
            except Exception as exc:
                result.failed += 1
                error_type = type(exc).__qualname__
                self.stats.failed(row.destination, error_type)
                retry_at = time.time() + self.policy.backoff(row.attempts + 1)
                self.table.failed(self._connection, row.id, retry_at, f"{error_type}: {exc}")
                if row.key is not None:
                    held.add(row.key)
                logger.warning("outbox row %s to %s failed: %s", row.id, row.destination, exc)
                continue
            published.append((row, time.perf_counter() - started))
        return published

    def _rollback(self) -> None:
        try:
            self._connection.rollback()
        except Exception as exc:
            logger.warning("outbox relay: rollback failed: %s", exc)

    def purge(self) -> int:
        """Delete rows published more than ``retention`` seconds ago; returns how many."""
        try:
            deleted = self.table.purge(self._connection, time.time() - self.policy.retention)
            self._connection.commit()
        except BaseException:
            self._rollback()
            raise
        return deleted

    # --- running --------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> None:
        """Relay until ``stop`` is set (or :meth:`stop` is called)."""
        stopping = stop or self._stopping
        pause = 0.0
        while not stopping.is_set():
            try:
                result = self.relay_batch()
                if time.monotonic() - self._purged_at >= self.policy.purge_every:
                    self._purged_at = time.monotonic()
                    self.purge()
                pause = 0.0
            except Exception as exc:  # the database or the broker client is down
                pause = min(self.policy.max_backoff, max(self.policy.first_backoff, pause * 2))
                logger.warning("outbox relay: %s; retrying in %.1f s", exc, pause)
                stopping.wait(pause)
                continue
            if not result.rows or result.failed == len(result.rows):
                stopping.wait(self.policy.idle_wait)

    def start(self) -> Relay:
        """Run in a daemon thread of this process."""
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self.run, name="eventscope-outbox-relay", daemon=True
        )
        self._thread.start()
        return self

    def drain(self, timeout: float) -> bool:
        """Wait until no row is waiting; ``False`` on timeout.  The relay must be running."""
        backlog = BacklogReader(self.dsn, self.table.table)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if pending(backlog()) == 0:
                    return True
                time.sleep(0.05)
            return False
        finally:
            backlog.close()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def close(self) -> None:
        self.stop()
        try:
            self._connection.close()
        finally:
            self.publisher.close()


class BacklogReader:
    """Reads the backlog on a connection of its own (metrics are scraped from any thread);
    a failed read drops the connection, and the next read opens a new one."""

    def __init__(self, dsn: str, table: str = DEFAULT_TABLE) -> None:
        self.dsn = dsn
        self.table_name = table
        self._lock = threading.Lock()
        self._connection: Any = None
        self._table: OutboxTable | None = None

    def __call__(self) -> list[Backlog]:
        with self._lock:
            if self._connection is None or self._table is None:
                self._connection, dialect = connect(self.dsn)
                self._table = OutboxTable(dialect, self.table_name)
            try:
                readings = self._table.backlog(self._connection)
                self._connection.commit()
                return readings
            except Exception:
                self._close()
                raise

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception as exc:
                logger.debug("outbox backlog connection close failed: %s", exc)

    def close(self) -> None:
        with self._lock:
            self._close()


def pending(readings: list[Backlog]) -> int:
    """Rows waiting in all destinations."""
    return sum(b.waiting for b in readings)
