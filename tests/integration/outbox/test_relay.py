"""The outbox on real PostgreSQL, relayed to real Redis Streams.

What commits is delivered, what rolls back is not; the consumer joins the trace of the
transaction that wrote the row; and with a relay killed (SIGKILL) in the middle of a
batch and two others racing for the rest, every row reaches each consumer group exactly
once — the broker sees the killed relay's rows twice, the groups' shared
deduplication store catches the copies — and each key's rows arrive in order.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry

from eventscope.instrumentation import RedisDedupStore, configure, consumer, telemetry
from eventscope.instrumentation.headers import EVENT_ID, TRACEPARENT
from eventscope.outbox import BacklogReader, Outbox, Relay, redis_publisher

ROOT = Path(__file__).parents[3]
ROWS = 200
KEYS = 10


def _fields(entry: tuple) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in entry[1].items()}


def _relay_everything(dsn: str, client: redis.Redis) -> None:
    relay = Relay(dsn, redis_publisher(client))
    try:
        while relay.relay_batch().rows:
            pass
    finally:
        relay._connection.close()


@pytest.fixture
def outbox(postgres_dsn: str) -> Outbox:
    outbox = Outbox("redis")
    with psycopg.connect(postgres_dsn) as connection:
        outbox.create_table(connection)
    return outbox


def test_a_rolled_back_transaction_publishes_nothing(
    postgres_dsn: str, outbox: Outbox, client: redis.Redis, stream: str
) -> None:
    with psycopg.connect(postgres_dsn) as connection:
        with connection.transaction():
            committed = outbox.write(connection, stream, b"kept", key="a")
        with pytest.raises(ZeroDivisionError), connection.transaction():
            outbox.write(connection, stream, b"rolled back", key="a")
            1 / 0  # noqa: B018 - the business change fails after the write
    _relay_everything(postgres_dsn, client)
    entries = [_fields(e) for e in client.xrange(stream)]
    assert [(e["payload"], e[EVENT_ID]) for e in entries] == [("kept", committed)]


def test_the_consumer_span_joins_the_trace_of_the_writing_transaction(
    postgres_dsn: str, outbox: Outbox, client: redis.Redis, stream: str
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    configure(registry=CollectorRegistry(), tracer_provider=provider, set_global=False, otlp=False)
    try:
        tracer = provider.get_tracer("shop")
        with (
            psycopg.connect(postgres_dsn) as connection,
            tracer.start_as_current_span("checkout") as checkout,
            connection.transaction(),
        ):
            connection.execute("CREATE TABLE orders (id TEXT)")
            connection.execute("INSERT INTO orders VALUES ('o-1')")
            outbox.write(connection, stream, json.dumps({"order": "o-1"}), key="c-1")
        _relay_everything(postgres_dsn, client)

        @consumer(stream, group="billing", system="redis", headers=lambda fields: fields)
        def bill(fields: dict) -> None:
            pass

        (entry,) = client.xrange(stream)
        assert TRACEPARENT in _fields(entry)
        bill(_fields(entry))
    finally:
        telemetry.reset()
    spans = exporter.get_finished_spans()
    (write,) = [s for s in spans if s.kind is SpanKind.PRODUCER]
    (process,) = [s for s in spans if s.kind is SpanKind.CONSUMER]
    trace_id = checkout.get_span_context().trace_id
    assert write.context.trace_id == process.context.trace_id == trace_id
    assert write.parent is not None and write.parent.span_id == checkout.get_span_context().span_id
    assert process.parent is not None and process.parent.span_id == write.context.span_id


def _start(*command: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def test_two_relays_and_one_killed_mid_batch_deliver_each_row_once_per_group_in_key_order(
    postgres_dsn: str,
    redis_url: str,
    outbox: Outbox,
    client: redis.Redis,
    stream: str,
    processes: list[subprocess.Popen],
) -> None:
    with psycopg.connect(postgres_dsn) as connection, connection.transaction():
        for seq in range(ROWS):
            outbox.write(connection, stream, str(seq), key=f"k{seq % KEYS}")

    killed = _start(
        "-m", "tests.integration.outbox.workers", "relay", postgres_dsn, redis_url, "0.02"
    )
    processes.append(killed)
    assert killed.stdout is not None
    published_before_kill = [killed.stdout.readline() for _ in range(5)]
    assert all(line.startswith("published ") for line in published_before_kill), (
        published_before_kill
    )
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)

    relay = ["-m", "eventscope.cli", "outbox", "relay", "--dsn", postgres_dsn]
    relay += ["--broker", "redis", "--url", redis_url, "--batch-size", "20"]
    relays = [_start(*relay), _start(*relay)]
    processes.extend(relays)
    for process in relays:  # both running before the race starts (and SIGTERM is handled)
        assert process.stderr is not None
        while "relaying outbox table" not in (line := process.stderr.readline()):
            assert line, "the relay exited before it started relaying"
    backlog = BacklogReader(postgres_dsn)
    deadline = time.monotonic() + 120
    while sum(b.waiting for b in backlog()) and time.monotonic() < deadline:
        time.sleep(0.1)
    backlog.close()
    for process in relays:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)
        assert process.returncode == 0, errors

    entries = [_fields(e) for e in client.xrange(stream)]
    assert len(entries) > ROWS, "the killed relay's uncommitted rows were published again"
    firsts: dict[str, list[int]] = {}
    seen: set[str] = set()
    for fields in entries:
        if fields[EVENT_ID] not in seen:
            seen.add(fields[EVENT_ID])
            firsts.setdefault(str(int(fields["payload"]) % KEYS), []).append(int(fields["payload"]))
    assert all(seqs == sorted(seqs) for seqs in firsts.values()), firsts

    prefix = f"dedup-{uuid.uuid4().hex[:8]}"
    for group in ("billing", "shipping"):
        handled: list[int] = []

        @consumer(
            stream,
            group=group,
            system="redis",
            deduplicate=RedisDedupStore(client, prefix=prefix),
            headers=lambda fields: fields,
        )
        def handle(fields: dict) -> None:
            handled.append(int(fields["payload"]))  # noqa: B023 - called inside the loop

        for fields in entries:
            handle(fields)
        assert sorted(handled) == list(range(ROWS)), group
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
