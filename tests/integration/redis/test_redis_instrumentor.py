"""RedisStreamsInstrumentor against a real Redis: redis-py's own clients, traced and
settling, until ``uninstrument()``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
import redis.asyncio

from eventscope import catalog
from eventscope.catalog import Attr, prometheus_label
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import redis_streams
from eventscope.instrumentation.brokers.redis_instrumentor import RedisStreamsInstrumentor
from eventscope.instrumentation.brokers.redis_streams import StreamEntry
from tests.conftest import Recorded

pytestmark = pytest.mark.redis

OUTCOME = prometheus_label(Attr.OUTCOME)
GROUP = prometheus_label(Attr.CONSUMER_GROUP)
ORIGINAL_XADD = redis.Redis.xadd


def _outcomes(recorded: Recorded, outcome: str, group: str) -> float:
    return recorded.value(catalog.PROCESS_OUTCOMES.series(), **{OUTCOME: outcome, GROUP: group})


@pytest.fixture
def instrumented() -> Iterator[None]:
    RedisStreamsInstrumentor().instrument()
    try:
        yield
    finally:
        RedisStreamsInstrumentor().uninstrument()


def test_a_plain_client_traces_retries_and_dead_letters_with_its_trace(
    recorded: Recorded, instrumented: None, client: redis.Redis, name: str
) -> None:
    client.xgroup_create(name, "billing", id="0", mkstream=True)
    client.xadd(name, {"order": "poison"})  # the fixture's client, made before instrument()
    attempts: list[int] = []

    @redis_streams.consumer("billing", max_attempts=2)
    def bill(entry: StreamEntry, ctx) -> None:
        attempts.append(ctx.attempt)
        raise ValueError("cannot parse the order")

    ((_, entries),) = client.xreadgroup("billing", "w1", {name: ">"}, count=10)
    assert isinstance(client, redis.Redis) and isinstance(entries[0], StreamEntry)
    bill(entries[0])
    assert client.xpending(name, "billing")["pending"] == 1  # a retry stays pending
    for entry in client.xautoclaim(name, "billing", "w2", min_idle_time=0)[1]:
        bill(entry)

    assert attempts == [1, 2]
    assert _outcomes(recorded, "retry", "billing") == 1
    assert _outcomes(recorded, "dead_letter", "billing") == 1
    assert client.xpending(name, "billing")["pending"] == 0
    (send,) = recorded.spans(f"send {name}")  # the dead-letter copy is not a new send
    ((_, fields),) = client.xrange(name + ".dlq")
    assert fields[h.TRACEPARENT].split("-")[1] == f"{send.context.trace_id:032x}"
    assert fields[h.ORIGINAL_DESTINATION] == name


def test_a_client_also_wrapped_by_hand_is_traced_once(
    recorded: Recorded, instrumented: None, client: redis.Redis, name: str
) -> None:
    redis_streams.instrument(client).xadd(name, {"order": "1"})
    (send,) = recorded.spans(f"send {name}")
    ((_, fields),) = client.xrange(name)
    assert fields[h.TRACEPARENT].split("-")[2] == f"{send.context.span_id:016x}"


async def test_the_asyncio_client_too(
    recorded: Recorded, instrumented: None, redis_url: str, name: str
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        await client.xgroup_create(name, "mailer", id="0", mkstream=True)
        await client.xadd(name, {"order": "1"})
        handled: list[str] = []

        @redis_streams.consumer("mailer")
        async def mail(entry: StreamEntry) -> None:
            handled.append(entry.fields["order"])

        ((_, entries),) = await client.xreadgroup("mailer", "w1", {name: ">"})
        await mail(entries[0])
        assert (await client.xpending(name, "mailer"))["pending"] == 0
    finally:
        await client.aclose()
    assert handled == ["1"]
    (send,) = recorded.spans(f"send {name}")
    (process,) = recorded.spans(f"process {name}")
    assert process.parent.span_id == send.context.span_id


def test_uninstrument_gives_redis_py_its_own_commands_back(
    recorded: Recorded, client: redis.Redis, name: str
) -> None:
    instrumentor = RedisStreamsInstrumentor()
    instrumentor.instrument()
    instrumentor.instrument()  # twice is harmless
    assert redis.Redis.xadd is not ORIGINAL_XADD
    instrumentor.uninstrument()
    assert redis.Redis.xadd is ORIGINAL_XADD and "xadd" not in redis.Redis.__dict__
    client.xadd(name, {"order": "1"})
    assert recorded.spans(f"send {name}") == []
    ((_, fields),) = client.xrange(name)
    assert h.TRACEPARENT not in fields
