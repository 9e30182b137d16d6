"""Durable deduplication: which event ids a consumer group has handled, shared by its instances.

``@consumer(deduplicate=N)`` remembers ids in one process; a group runs several
instances and restarts, so a redelivered message would be handled again.  A store
(Redis, PostgreSQL) remembers for the whole group, in two steps:

1. before the handler, the instance *claims* the id: a short lease, taken only if nobody
   holds one and the id is not already done;
2. after it, the id is *confirmed* (kept for ``window`` seconds) when the handling is
   final — ``ok``, ``dead_letter`` or the handler's own ``duplicate`` — or *released*
   on ``error``/``retry``, so the redelivery is handled.

A message whose id is done gets the ``duplicate`` outcome and its handler never runs.
One whose id another instance is handling right now waits for that instance (polling
the store, up to ``lease`` seconds): then it is a duplicate if the other finished, or
this instance's to handle if the other failed and released it.  Waiting rather than
asking the broker for a retry keeps a redelivery race from spending one of the
message's attempts (on the last one, a retry would dead-letter it).  Only a claim
still held after ``lease`` — its holder crashed or hangs — gets ``retry``.

A store that cannot be reached follows its ``when_down`` policy, never an exception
into the handler's path: ``process`` (the default) handles the message anyway — at
least once, as without a store — and ``retry`` asks the broker to deliver it later.
"""

from __future__ import annotations

import enum
import time
from typing import TYPE_CHECKING, Any, Protocol

from eventscope.catalog import Outcome
from eventscope.instrumentation import telemetry

if TYPE_CHECKING:
    from eventscope.instrumentation.context import MessageContext

PROCESS = "process"
RETRY = "retry"
WHEN_DOWN = (PROCESS, RETRY)
DEFAULT_WINDOW = 7 * 24 * 3600.0
"""Seconds a handled id is remembered: as long as a redelivery can plausibly arrive."""
DEFAULT_LEASE = 60.0
"""Seconds a claim holds while its handler runs; longer than the slowest handler."""
_DONE = (Outcome.OK, Outcome.DEAD_LETTER, Outcome.DUPLICATE)
_FAILED = (Outcome.ERROR, Outcome.RETRY)


class Claim(enum.Enum):
    NEW = "new"
    """This instance holds the claim: run the handler."""
    DUPLICATE = "duplicate"
    """Handled before: skip."""
    BUSY = "busy"
    """Another instance holds the claim right now: deliver again later."""


class DedupStore(Protocol):
    """Where a consumer group's handled event ids live (any object with these members)."""

    when_down: str
    """``process`` or ``retry``: what a message gets while the store is unreachable."""
    lease: float
    """Seconds a claim holds: how long another instance waits for it at most."""

    def claim(self, group: str, event_id: str) -> Claim: ...

    def confirm(self, group: str, event_id: str) -> None: ...

    def release(self, group: str, event_id: str) -> None: ...


def checked_policy(when_down: str, window: float, lease: float) -> None:
    if when_down not in WHEN_DOWN:
        raise ValueError(f"when_down must be one of {WHEN_DOWN}, not {when_down!r}")
    if not (window > 0 and lease > 0):
        raise ValueError("window and lease must be positive numbers of seconds")


class StoreFilter:
    """What ``@consumer`` does with a store, around each message of one group."""

    __slots__ = ("group", "store")

    def __init__(self, store: DedupStore, group: str) -> None:
        if store.when_down not in WHEN_DOWN:
            raise ValueError(f"when_down must be one of {WHEN_DOWN}, not {store.when_down!r}")
        self.store = store
        self.group = group

    def admit(self, ctx: MessageContext) -> None:
        """Claim the message's id; mark ``ctx`` to skip the handler when it must not run."""
        if ctx.event_id is None:
            return  # nothing to recognise it by: handled, as without deduplication
        try:
            claim = self._claim(ctx.event_id)
        except Exception:
            telemetry.swallowed("deduplication.claim")
            if self.store.when_down == RETRY:
                _later(ctx, "deduplication store unavailable")
            return
        if claim is Claim.DUPLICATE:
            ctx._skip = True
        elif claim is Claim.BUSY:
            _later(ctx, "still being handled by another instance after the lease")

    def _claim(self, event_id: str) -> Claim:
        """A claim, waiting while another instance holds it (at most ``lease`` seconds)."""
        claim = self.store.claim(self.group, event_id)
        if claim is not Claim.BUSY:
            return claim
        deadline = time.monotonic() + self.store.lease
        pause = 0.005
        while claim is Claim.BUSY and time.monotonic() < deadline:
            time.sleep(pause)
            pause = min(2 * pause, 0.25)
            claim = self.store.claim(self.group, event_id)
        return claim

    def settled(self, ctx: MessageContext, outcome: Outcome) -> None:
        """Confirm or release the claim this instance took for ``ctx``."""
        if ctx._skip or ctx.event_id is None:
            return  # no claim of ours
        try:
            if outcome in _DONE:
                self.store.confirm(self.group, ctx.event_id)
            elif outcome in _FAILED:
                self.store.release(self.group, ctx.event_id)
        except Exception:
            telemetry.swallowed("deduplication.settle")


def _later(ctx: MessageContext, reason: str) -> None:
    ctx._skip = True
    ctx._outcome, ctx._reason = Outcome.RETRY, reason


# --- Redis ------------------------------------------------------------------------------

_PENDING = b"pending"
_DONE_MARK = b"done"
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisDedupStore:
    """Claims with ``SET key pending NX PX lease``; done ids are kept ``window`` seconds.

    ``client`` is a ``redis.Redis`` (redis-py) the application made; keys are
    ``<prefix>:<group>:<event id>``.
    """

    def __init__(
        self,
        client: Any,
        *,
        window: float = DEFAULT_WINDOW,
        lease: float = DEFAULT_LEASE,
        prefix: str = "eventscope:dedup",
        when_down: str = PROCESS,
    ) -> None:
        checked_policy(when_down, window, lease)
        self.client = client
        self.lease = lease
        self.window_ms = int(window * 1000)
        self.lease_ms = int(lease * 1000)
        self.prefix = prefix
        self.when_down = when_down
        self._release = client.register_script(_RELEASE)

    def _key(self, group: str, event_id: str) -> str:
        return f"{self.prefix}:{group}:{event_id}"

    def claim(self, group: str, event_id: str) -> Claim:
        key = self._key(group, event_id)
        for _ in range(3):  # the key may expire between SET and GET
            if self.client.set(key, _PENDING, nx=True, px=self.lease_ms):
                return Claim.NEW
            state = self.client.get(key)
            if state == _DONE_MARK:
                return Claim.DUPLICATE
            if state is not None:
                return Claim.BUSY
        return Claim.BUSY

    def confirm(self, group: str, event_id: str) -> None:
        self.client.set(self._key(group, event_id), _DONE_MARK, px=self.window_ms)

    def release(self, group: str, event_id: str) -> None:
        self._release(keys=[self._key(group, event_id)], args=[_PENDING])

    def handled(self, group: str, event_id: str) -> bool:
        """Whether ``group`` has finished handling ``event_id`` (within the window)."""
        return self.client.get(self._key(group, event_id)) == _DONE_MARK


# --- PostgreSQL -------------------------------------------------------------------------

_TABLE = """
CREATE TABLE IF NOT EXISTS {t} (
    consumer_group TEXT NOT NULL,
    event_id TEXT NOT NULL,
    done BOOLEAN NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (consumer_group, event_id)
)"""
_CLAIM = """
INSERT INTO {t} AS p (consumer_group, event_id, done, expires_at) VALUES (%s, %s, false, %s)
ON CONFLICT (consumer_group, event_id)
DO UPDATE SET done = false, expires_at = EXCLUDED.expires_at
WHERE p.expires_at < %s
RETURNING done"""
_STATE = "SELECT done FROM {t} WHERE consumer_group = %s AND event_id = %s"
_HANDLED = _STATE + " AND done AND expires_at >= %s"
_CONFIRM = """
INSERT INTO {t} AS p (consumer_group, event_id, done, expires_at) VALUES (%s, %s, true, %s)
ON CONFLICT (consumer_group, event_id)
DO UPDATE SET done = true, expires_at = EXCLUDED.expires_at"""
_RECORD = """
INSERT INTO {t} AS p (consumer_group, event_id, done, expires_at) VALUES (%s, %s, true, %s)
ON CONFLICT (consumer_group, event_id)
DO UPDATE SET done = true, expires_at = EXCLUDED.expires_at
WHERE NOT p.done OR p.expires_at < %s
RETURNING done"""
_RELEASE_ROW = "DELETE FROM {t} WHERE consumer_group = %s AND event_id = %s AND NOT done"
_EXPIRE = "DELETE FROM {t} WHERE expires_at < %s"


class PostgresDedupStore:
    """A processed-events table in PostgreSQL (psycopg 3), one row per group and id.

    ``connect`` returns a new psycopg connection (``lambda: psycopg.connect(dsn)``, or a
    pool's ``getconn``); the store keeps one, in autocommit, and opens another after a
    failure.  :meth:`record` marks an id *inside the handler's own transaction* instead,
    so the mark and the work commit (or roll back) together.
    """

    def __init__(
        self,
        connect: Any,
        *,
        table: str = "eventscope_processed_events",
        window: float = DEFAULT_WINDOW,
        lease: float = DEFAULT_LEASE,
        when_down: str = PROCESS,
    ) -> None:
        checked_policy(when_down, window, lease)
        if not table.replace("_", "").isalnum() or table[0].isdigit():
            raise ValueError(f"table {table!r} is not a plain SQL identifier")
        self._connect = connect
        self.table = table
        self.window = window
        self.lease = lease
        self.when_down = when_down
        self._connection: Any = None
        self._claims = 0

    def _sql(self, text: str) -> str:
        return text.replace("{t}", self.table)

    def create_table(self, connection: Any) -> None:
        """Create the table if missing (commit is the caller's)."""
        connection.execute(self._sql(_TABLE))

    def _execute(self, text: str, params: tuple) -> Any:
        if self._connection is None or self._connection.closed:
            self._connection = self._connect()
            self._connection.autocommit = True
        try:
            return self._connection.execute(self._sql(text), params)
        except Exception:
            connection, self._connection = self._connection, None
            connection.close()
            raise

    def close(self) -> None:
        """Close the store's own connection (the next call opens another)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def claim(self, group: str, event_id: str) -> Claim:
        now = time.time()
        self._claims += 1
        if self._claims % 1000 == 0:
            self._execute(_EXPIRE, (now,))
        if self._execute(_CLAIM, (group, event_id, now + self.lease, now)).fetchone():
            return Claim.NEW
        row = self._execute(_STATE, (group, event_id)).fetchone()
        if row is None:
            return self.claim(group, event_id)  # expired and deleted between the two
        return Claim.DUPLICATE if row[0] else Claim.BUSY

    def confirm(self, group: str, event_id: str) -> None:
        self._execute(_CONFIRM, (group, event_id, time.time() + self.window))

    def release(self, group: str, event_id: str) -> None:
        self._execute(_RELEASE_ROW, (group, event_id))

    def handled(self, group: str, event_id: str) -> bool:
        """Whether ``group`` has finished handling ``event_id`` (within the window)."""
        row = self._execute(_HANDLED, (group, event_id, time.time())).fetchone()
        return row is not None

    def record(self, connection: Any, ctx: MessageContext) -> bool:
        """Mark ``ctx``'s event id done in ``connection``'s open transaction.

        Returns ``False`` — and gives the message the ``duplicate`` outcome — when the
        id was already done: the handler then rolls its transaction back.  A second
        instance doing the same concurrently waits on the row until the first commits.
        """
        if ctx.event_id is None:
            return True
        now = time.time()
        row = connection.execute(
            self._sql(_RECORD), (ctx.group, ctx.event_id, now + self.window, now)
        ).fetchone()
        if row is None:
            ctx.duplicate()
            return False
        return True
