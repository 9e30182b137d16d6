"""redis-py Streams, instrumented with one line, against a real Redis."""

from __future__ import annotations

import pytest
import redis
import redis.asyncio

from eventscope import catalog
from eventscope.catalog import Attr, prometheus_label
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import redis_streams
from eventscope.instrumentation.brokers.redis_streams import ENTRY_ID, StreamEntry
from tests.conftest import Recorded

pytestmark = pytest.mark.redis

GROUP = prometheus_label(Attr.CONSUMER_GROUP)
OUTCOME = prometheus_label(Attr.OUTCOME)
DESTINATION = prometheus_label(Attr.DESTINATION)


def _outcomes(recorded: Recorded, outcome: str, group: str) -> float:
    return recorded.value(catalog.PROCESS_OUTCOMES.series(), **{OUTCOME: outcome, GROUP: group})


def _assert_children(recorded: Recorded, stream: str) -> None:
    producers = {s.attributes[Attr.MESSAGE_ID]: s for s in recorded.spans(f"send {stream}")}
    for span in recorded.spans(f"process {stream}"):
        sent = producers[span.attributes[Attr.MESSAGE_ID]]
        assert span.context.trace_id == sent.context.trace_id
        assert span.parent.span_id == sent.context.span_id


def test_xadd_and_xreadgroup_share_one_trace_and_entries_are_acknowledged(
    recorded: Recorded, client: redis.Redis, name: str
) -> None:
    r = redis_streams.instrument(client)
    client.xgroup_create(name, "billing", id="0", mkstream=True)
    for i in range(3):
        r.xadd(name, {"order": str(i)})

    @redis_streams.consumer("billing")
    def bill(entry: StreamEntry) -> None:
        assert entry.fields["order"] in {"0", "1", "2"}

    reply = r.xreadgroup("billing", "worker-1", {name: ">"}, count=10)
    ((stream, entries),) = reply
    for entry in entries:
        entry_id, fields = entry  # still the (id, fields) pair redis-py returns
        assert fields["order"] and entry.id == entry_id
        bill(entry)

    assert stream == name and len(entries) == 3
    _assert_children(recorded, name)
    (first, *_) = recorded.spans(f"process {name}")
    assert first.attributes[ENTRY_ID] == entries[0].id
    assert client.xpending(name, "billing")["pending"] == 0
    assert recorded.value(catalog.SENT_MESSAGES.series(), **{DESTINATION: name}) == 3
    assert _outcomes(recorded, "ok", "billing") == 3


async def test_the_asyncio_client_with_a_batch_handler(
    recorded: Recorded, redis_url: str, name: str
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True, protocol=3)
    r = redis_streams.instrument(client)
    await client.xgroup_create(name, "loader", id="0", mkstream=True)
    for i in range(4):
        await r.xadd(name, {"row": str(i)})

    @redis_streams.consumer("loader", batch=True)
    async def load(entries: list[StreamEntry], ctx) -> None:
        assert len(ctx) == 4

    reply = await r.xreadgroup("loader", "worker-1", {name: ">"}, count=10)
    assert isinstance(reply, dict)  # RESP3's shape, kept
    await load(reply[name][0])

    (span,) = recorded.spans(f"process {name}")
    linked = {link.context.span_id for link in span.links}
    assert linked == {s.context.span_id for s in recorded.spans(f"send {name}")}
    assert (await client.xpending(name, "loader"))["pending"] == 0
    await client.aclose()


def test_a_retry_stays_pending_until_claimed_then_dead_letters_with_its_trace(
    recorded: Recorded, client: redis.Redis, name: str
) -> None:
    r = redis_streams.instrument(client)
    client.xgroup_create(name, "billing", id="0", mkstream=True)
    r.xadd(name, {"order": "poison"})
    attempts: list[int] = []

    @redis_streams.consumer("billing", max_attempts=3)
    def bill(entry: StreamEntry, ctx) -> None:
        attempts.append(ctx.attempt)
        raise ValueError("cannot bill")

    for _, entries in r.xreadgroup("billing", "worker-1", {name: ">"}):
        for entry in entries:
            bill(entry)
    while len(attempts) < 3:  # the recovery loop Redis documents: claim idle pending entries
        for entry in r.xautoclaim(name, "billing", "worker-2", min_idle_time=0)[1]:
            bill(entry)

    assert attempts == [1, 2, 3]  # Redis's own delivery count
    assert _outcomes(recorded, "retry", "billing") == 2
    assert _outcomes(recorded, "dead_letter", "billing") == 1
    assert client.xpending(name, "billing")["pending"] == 0
    ((_, fields),) = client.xrange(name + ".dlq")
    (sent,) = recorded.spans(f"send {name}")
    assert fields["order"] == "poison"
    assert fields[h.TRACEPARENT].split("-")[1] == f"{sent.context.trace_id:032x}"
    assert fields[h.DEAD_LETTER_REASON] == "ValueError"
    assert fields[h.ORIGINAL_DESTINATION] == name
    assert client.xlen(name) == 1  # nothing was republished to the stream itself


async def test_an_async_worker_rereads_its_own_pending_entries_with_their_attempt(
    recorded: Recorded, redis_url: str, name: str
) -> None:
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    r = redis_streams.instrument(client)
    await client.xgroup_create(name, "mailer", id="0", mkstream=True)
    await r.xadd(name, {"to": "ann"})
    attempts: list[int] = []

    @redis_streams.consumer("mailer", max_attempts=5)
    async def send(entry: StreamEntry, ctx) -> None:
        attempts.append(ctx.attempt)
        if ctx.attempt < 3:
            ctx.retry("smtp busy")

    for _, entries in await r.xreadgroup("mailer", "w1", {name: ">"}):
        await send(entries[0])
    (entry,) = (await r.xreadgroup("mailer", "w1", {name: "0"}))[0][1]  # its own PEL
    await send(entry)
    (entry,) = (await r.xautoclaim(name, "mailer", "w2", min_idle_time=0))[1]
    await send(entry)

    assert attempts == [1, 2, 3]
    assert _outcomes(recorded, "retry", "mailer") == 2 and _outcomes(recorded, "ok", "mailer") == 1
    assert (await client.xpending(name, "mailer"))["pending"] == 0
    await client.aclose()


def test_an_entry_with_corrupted_trace_fields_is_still_processed(
    recorded: Recorded, client: redis.Redis, name: str
) -> None:
    client.xgroup_create(name, "billing", id="0", mkstream=True)
    client.xadd(name, {"order": "1", h.TRACEPARENT: "00-" + "f" * 40, h.PUBLISHED_AT: "soon"})
    handled: list[str] = []

    @redis_streams.consumer("billing")
    def bill(entry: StreamEntry) -> None:
        handled.append(entry.fields["order"])

    for _, entries in redis_streams.instrument(client).xreadgroup("billing", "w", {name: ">"}):
        for entry in entries:
            bill(entry)
    assert handled == ["1"]
    (span,) = recorded.spans(f"process {name}")
    assert span.parent is None
    assert _outcomes(recorded, "ok", "billing") == 1
