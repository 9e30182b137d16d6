"""Durable deduplication with real Redis and PostgreSQL, shared by real processes.

Two consumer processes of one group both receive all 1,000 messages (every message
redelivered to the other instance); with the store they share, each message is handled
exactly once.  A store that is down never raises into the handler's path: it follows
its ``when_down`` policy.  Marked inside the handler's own transaction, the mark commits
or rolls back with the work.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
import redis

from eventscope.catalog import Outcome
from eventscope.instrumentation import (
    MessageContext,
    PostgresDedupStore,
    RedisDedupStore,
    consumer,
)
from eventscope.instrumentation.headers import EVENT_ID
from eventscope.instrumentation.propagation import new_event_id

ROOT = Path(__file__).parents[3]
MESSAGES = 1000


@pytest.mark.parametrize("kind", ["redis", "postgresql"])
def test_two_consumer_processes_sharing_a_store_handle_each_redelivered_message_once(
    kind: str, redis_url: str, postgres_dsn: str, client: redis.Redis, stream: str
) -> None:
    ids = [new_event_id() for _ in range(MESSAGES)]
    pipeline = client.pipeline()
    for n, event_id in enumerate(ids):
        pipeline.xadd(stream, {"payload": str(n), EVENT_ID: event_id})
    pipeline.execute()
    store_url = redis_url if kind == "redis" else postgres_dsn
    if kind == "postgresql":
        with psycopg.connect(postgres_dsn) as connection:
            PostgresDedupStore(None).create_table(connection)
    results = f"results-{uuid.uuid4().hex[:10]}"
    command = [sys.executable, "-m", "tests.integration.outbox.workers", "consume"]
    command += [store_url, redis_url, stream, "billing", results]
    workers = [
        subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=300)
        assert worker.returncode == 0, errors
    handled = [v.decode() for v in client.lrange(results, 0, -1)]
    client.delete(results)
    kept = list(client.scan_iter(match=f"dedup-{results}:*"))
    if kind == "redis":
        assert len(kept) == MESSAGES  # the store's own keys, one per id, removed here
    for key in kept:
        client.delete(key)
    assert len(handled) == MESSAGES
    assert set(handled) == set(ids)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("when_down", "runs", "outcome"), [("process", 1, None), ("retry", 0, Outcome.RETRY)]
)
def test_a_store_that_is_down_follows_its_policy_and_never_raises(
    when_down: str, runs: int, outcome: Outcome | None
) -> None:
    down = redis.Redis(port=_closed_port(), socket_connect_timeout=0.5)
    store = RedisDedupStore(down, when_down=when_down)
    calls: list[str] = []
    seen: list[MessageContext] = []

    @consumer("orders", group="billing", system="redis", deduplicate=store, headers=lambda m: m)
    def handle(message: dict, ctx: MessageContext) -> None:
        calls.append(message[EVENT_ID])
        seen.append(ctx)

    handle({EVENT_ID: new_event_id()})
    assert len(calls) == runs
    if seen:
        assert seen[0].outcome is outcome


def test_a_mark_inside_the_handlers_transaction_commits_and_rolls_back_with_it(
    postgres_dsn: str,
) -> None:
    store = PostgresDedupStore(lambda: psycopg.connect(postgres_dsn))
    with psycopg.connect(postgres_dsn) as connection:
        store.create_table(connection)
        connection.execute("CREATE TABLE charges (event_id TEXT)")
    charged: list[str] = []

    @consumer("orders", group="billing", system="redis", headers=lambda m: m)
    def bill(message: dict, ctx: MessageContext) -> None:
        with psycopg.connect(postgres_dsn) as connection, connection.transaction():
            if not store.record(connection, ctx):
                return
            connection.execute("INSERT INTO charges VALUES (%s)", (ctx.event_id,))
            if message.get("fail"):
                raise RuntimeError("payment gateway down")
            charged.append(ctx.event_id)

    event_id = new_event_id()
    with pytest.raises(RuntimeError):
        bill({EVENT_ID: event_id, "fail": "yes"})
    assert not store.handled("billing", event_id)  # rolled back with the work
    bill({EVENT_ID: event_id})
    bill({EVENT_ID: event_id})
    assert charged == [event_id]
    assert store.handled("billing", event_id)
    with psycopg.connect(postgres_dsn) as connection:
        assert connection.execute("SELECT count(*) FROM charges").fetchone() == (1,)
    store.close()


def test_a_failed_handling_releases_its_claim_and_a_finished_one_is_a_duplicate_after(
    client: redis.Redis,
) -> None:
    prefix = f"dedup-{uuid.uuid4().hex[:8]}"
    store = RedisDedupStore(client, prefix=prefix)
    outcomes: list[str] = []

    @consumer("orders", group="billing", system="redis", deduplicate=store, headers=lambda m: m)
    def bill(message: dict) -> None:
        outcomes.append(message["try"])
        if message["try"] == "first":
            raise RuntimeError("gateway timeout")

    event_id = new_event_id()
    with pytest.raises(RuntimeError):
        bill({EVENT_ID: event_id, "try": "first"})
    bill({EVENT_ID: event_id, "try": "redelivered"})
    bill({EVENT_ID: event_id, "try": "third copy"})
    assert outcomes == ["first", "redelivered"]
    assert store.handled("billing", event_id)
    assert store.claim("billing", event_id).name == "DUPLICATE"
    client.delete(*client.keys(f"{prefix}:*"))
