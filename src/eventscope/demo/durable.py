"""The demo's outbox and shared deduplication store (``--outbox``, ``--dedup-store``).

With ``--outbox DSN`` each order is written to an outbox table in a transaction of its
own — the order system's business transaction — and an in-process relay publishes the
rows through the run's transport.  With ``--dedup-store URL`` every consumer instance of
a group shares one store of handled event ids.  Both use names of their own per run
(a table, a key prefix) and remove them at the end, since the databases are shared.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from eventscope.errors import UsageError
from eventscope.instrumentation import DedupStore, PostgresDedupStore, RedisDedupStore
from eventscope.outbox import (
    BacklogReader,
    Outbox,
    Publisher,
    Relay,
    RelayPolicy,
    connect,
    register_metrics,
    transaction,
)
from eventscope.outbox.relay import pending

DEDUP_WINDOW = 3600.0
"""Seconds the demo's store remembers an id: the run, with room to spare."""


class DemoOutbox:
    """An outbox table of this run, its writer, and a relay publishing through ``transport``."""

    def __init__(self, dsn: str, transport: Any, registry: Any, table: str | None = None) -> None:
        self.table = table or f"eventscope_outbox_demo_{uuid.uuid4().hex[:12]}"
        self.connection, _ = connect(dsn)
        self.outbox = Outbox(transport.system, table=self.table)
        with transaction(self.connection):
            self.outbox.create_table(self.connection)

        def publish(destination: str, key: str | None, payload: bytes, headers: dict) -> None:
            transport.publish(destination, json.loads(payload), key=key, headers=headers)

        policy = RelayPolicy(idle_wait=0.02, first_backoff=0.05, max_backoff=1.0)
        publisher = Publisher(transport.system, publish)
        self.relay = Relay(dsn, publisher, table=self.table, policy=policy)
        self.backlog = BacklogReader(dsn, self.table)
        self.collector = register_metrics(registry, self.table, self.backlog, self.relay.stats)
        self.registry = registry
        self._closing = threading.Event()
        self._switch: threading.Thread | None = None

    def place(self, topic: str, payload: dict, headers: dict[str, str]) -> None:
        """The order's business transaction: the outbox row commits with it."""
        with transaction(self.connection):
            self.outbox.write(
                self.connection,
                topic,
                json.dumps(payload),
                key=payload.get("customer_id"),
                headers=headers,
            )

    def start(self) -> None:
        self.relay.start()

    def stop_relay_during(self, window: tuple[float, float], started: float) -> None:
        """The stopped-relay fault: the relay stops ``window[0]`` seconds after
        ``started`` (rows wait, the backlog's age grows) and runs again at ``window[1]``."""

        def switch() -> None:
            for at, action in ((window[0], self.relay.stop), (window[1], self.relay.start)):
                if self._closing.wait(max(0.0, started + at - time.monotonic())):
                    return
                action()

        self._switch = threading.Thread(target=switch, name="eventscope-demo-relay-fault")
        self._switch.start()

    def drain(self, timeout: float) -> bool:
        return self.relay.drain(timeout)

    def pending(self) -> int:
        return pending(self.backlog())

    def close(self) -> None:
        self._closing.set()
        if self._switch is not None:
            self._switch.join()
        self.relay.close()
        self.registry.unregister(self.collector)
        self.backlog.close()
        with transaction(self.connection):
            self.connection.execute(f"DROP TABLE IF EXISTS {self.table}")
        self.connection.close()


def dedup_store(url: str) -> tuple[DedupStore, Callable[[], None]]:
    """A store for ``url`` (``redis://…`` or ``postgresql://…``) and how to remove what
    this run put in it."""
    run = uuid.uuid4().hex[:12]
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url)
        prefix = f"eventscope:dedup:demo-{run}"
        store = RedisDedupStore(client, window=DEDUP_WINDOW, prefix=prefix)
        _reachable(url, client.ping)

        def forget_keys() -> None:
            for key in client.scan_iter(match=f"{prefix}:*", count=1000):
                client.delete(key)
            client.close()

        return store, forget_keys
    if url.startswith(("postgresql://", "postgres://")):
        import psycopg

        table = f"eventscope_processed_demo_{run}"
        store = PostgresDedupStore(lambda: psycopg.connect(url), table=table, window=DEDUP_WINDOW)
        admin = _reachable(url, lambda: psycopg.connect(url, autocommit=True))
        store.create_table(admin)

        def drop_table() -> None:
            store.close()
            admin.execute(f"DROP TABLE IF EXISTS {table}")
            admin.close()

        return store, drop_table
    raise UsageError(f"--dedup-store {url!r}: give a redis://… or postgresql://… URL")


def _reachable(url: str, attempt: Callable[[], Any]) -> Any:
    try:
        return attempt()
    except Exception as exc:
        raise UsageError(f"--dedup-store {url}: cannot reach it ({exc})") from exc
