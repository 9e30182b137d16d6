"""nats-py, instrumented with one line, against a real NATS server with JetStream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from nats.aio.msg import Msg

from eventscope import catalog
from eventscope.catalog import Attr, prometheus_label
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import nats as instrumented
from tests.conftest import Recorded

pytestmark = pytest.mark.nats

GROUP = prometheus_label(Attr.CONSUMER_GROUP)
OUTCOME = prometheus_label(Attr.OUTCOME)
DESTINATION = prometheus_label(Attr.DESTINATION)


def _outcomes(recorded: Recorded, outcome: str, group: str) -> float:
    return recorded.value(catalog.PROCESS_OUTCOMES.series(), **{OUTCOME: outcome, GROUP: group})


async def _until(done, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not done():
            await asyncio.sleep(0.02)


@pytest.fixture
async def stream(nc, name: str) -> AsyncIterator[str]:
    """A stream named ``name`` capturing subject ``name`` and ``name.dlq``."""
    js = nc.jetstream()
    await js.add_stream(name=name, subjects=[name, name + ".dlq"])
    yield name
    await js.delete_stream(name)


def _parents(recorded: Recorded, subject: str) -> dict[str, object]:
    return {s.attributes[Attr.MESSAGE_ID]: s for s in recorded.spans(f"send {subject}")}


async def test_core_publish_and_subscribe_share_one_trace(
    recorded: Recorded, nc, name: str
) -> None:
    client = instrumented.instrument(nc)
    received: list[bytes] = []

    @instrumented.consumer("audit")
    async def on_msg(msg: Msg) -> None:
        received.append(msg.data)

    await nc.subscribe(name, cb=on_msg)
    for i in range(3):
        await client.publish(name, f"event {i}".encode())
    await _until(lambda: len(received) == 3)

    producers = _parents(recorded, name)
    consumers = recorded.spans(f"process {name}")
    assert len(producers) == 3 and len(consumers) == 3
    for span in consumers:
        assert span.parent.span_id == producers[span.attributes[Attr.MESSAGE_ID]].context.span_id
        assert span.attributes[Attr.SYSTEM] == "nats"
    assert recorded.value(catalog.SENT_MESSAGES.series(), **{DESTINATION: name}) == 3
    assert recorded.value(catalog.CONSUMED_MESSAGES.series(), **{DESTINATION: name}) == 3


async def test_a_jetstream_push_consumer_continues_the_trace_and_acks(
    recorded: Recorded, nc, stream: str
) -> None:
    js = instrumented.instrument(nc).jetstream()
    for i in range(3):
        await js.publish(stream, f"order {i}".encode())

    @instrumented.consumer("billing")
    async def on_order(msg: Msg) -> None:
        assert msg.data.startswith(b"order")

    await js.subscribe(stream, durable="billing", cb=on_order, manual_ack=True)
    await _until(lambda: _outcomes(recorded, "ok", "billing") == 3)

    producers = _parents(recorded, stream)
    for span in recorded.spans(f"process {stream}"):
        assert span.parent.span_id == producers[span.attributes[Attr.MESSAGE_ID]].context.span_id
        assert span.attributes[instrumented.STREAM] == stream
        assert span.attributes[instrumented.SUBSCRIPTION] == "billing"
    await _all_acknowledged(nc, stream, "billing")


async def _all_acknowledged(nc, stream: str, durable: str) -> None:
    """Wait until the consumer has nothing pending and nothing awaiting an ack."""
    async with asyncio.timeout(5):
        while True:
            info = await nc.jetstream().consumer_info(stream, durable)
            if (info.num_pending, info.num_ack_pending) == (0, 0):
                return
            await asyncio.sleep(0.02)


async def test_a_pull_batch_is_one_span_linked_to_every_producer(
    recorded: Recorded, nc, stream: str
) -> None:
    js = instrumented.instrument(nc).jetstream()
    for i in range(5):
        await js.publish(stream, str(i).encode())
    pull = await nc.jetstream().pull_subscribe(stream, "loader")

    @instrumented.consumer("loader", batch=True)
    async def load(msgs: list[Msg], ctx) -> None:
        assert len(ctx) == 5

    await load(await pull.fetch(5, timeout=5))

    (span,) = recorded.spans(f"process {stream}")
    linked = {link.context.span_id for link in span.links}
    assert linked == {s.context.span_id for s in recorded.spans(f"send {stream}")}
    assert span.attributes[Attr.BATCH_COUNT] == 5
    assert _outcomes(recorded, "ok", "loader") == 5
    await _all_acknowledged(nc, stream, "loader")


async def test_jetstream_retries_count_deliveries_then_dead_letter_to_the_dlq_subject(
    recorded: Recorded, nc, stream: str
) -> None:
    js = instrumented.instrument(nc).jetstream()
    await js.publish(stream, b"poison")
    pull = await nc.jetstream().pull_subscribe(stream, "billing")
    attempts: list[int] = []

    @instrumented.consumer("billing", max_attempts=3)
    async def bill(msg: Msg, ctx) -> None:
        attempts.append(ctx.attempt)
        raise ValueError("card declined")

    while len(attempts) < 3:
        for msg in await pull.fetch(1, timeout=5):
            await bill(msg)

    assert attempts == [1, 2, 3]  # JetStream's num_delivered
    assert _outcomes(recorded, "retry", "billing") == 2
    assert _outcomes(recorded, "dead_letter", "billing") == 1
    dead = await nc.jetstream().get_last_msg(stream, stream + ".dlq")
    (sent,) = recorded.spans(f"send {stream}")
    assert dead.data == b"poison"
    assert dead.headers[h.TRACEPARENT].split("-")[1] == f"{sent.context.trace_id:032x}"
    assert dead.headers[h.DEAD_LETTER_REASON] == "ValueError"
    assert dead.headers[h.ORIGINAL_DESTINATION] == stream
    await _all_acknowledged(nc, stream, "billing")  # terminated, not redelivered


async def test_core_nats_retries_in_place_then_dead_letters(
    recorded: Recorded, nc, name: str
) -> None:
    client = instrumented.instrument(nc)
    dead: list[Msg] = []

    async def collect(msg: Msg) -> None:
        dead.append(msg)

    await nc.subscribe(name + ".dlq", cb=collect)
    attempts: list[int] = []

    @instrumented.consumer("mailer", max_attempts=3)
    async def send_mail(msg: Msg, ctx) -> None:
        attempts.append(ctx.attempt)
        raise ConnectionError("smtp down")

    await nc.subscribe(name, cb=send_mail)
    await client.publish(name, b"welcome")
    await _until(lambda: len(dead) == 1)
    assert attempts == [1, 2, 3]
    assert dead[0].headers[h.DEAD_LETTER_REASON] == "ConnectionError"
    assert _outcomes(recorded, "dead_letter", "mailer") == 1


async def test_a_message_with_corrupted_trace_headers_is_still_processed(
    recorded: Recorded, nc, stream: str
) -> None:
    await nc.jetstream().publish(
        stream, b"order", headers={h.TRACEPARENT: "00-zz-zz-01", h.BAGGAGE: "=;=;=" * 3000}
    )

    @instrumented.consumer("billing")
    async def bill(msg: Msg) -> None:
        pass

    pull = await nc.jetstream().pull_subscribe(stream, "billing")
    await bill((await pull.fetch(1, timeout=5))[0])
    (span,) = recorded.spans(f"process {stream}")
    assert span.parent is None
    assert _outcomes(recorded, "ok", "billing") == 1
