"""aiokafka, instrumented with one line per client, against a real broker (Tansu)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from opentelemetry.trace import SpanKind

from eventscope import MessageContext, catalog, consumer
from eventscope.catalog import Attr
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import aiokafka
from eventscope.instrumentation.brokers.kafka_delivery import KAFKA_MESSAGE_KEY
from tests.conftest import Recorded
from tests.integration.kafka.helpers import DESTINATION, outcomes, read_all

pytestmark = pytest.mark.kafka


@pytest.fixture
async def producer(bootstrap: str) -> AsyncIterator[aiokafka.InstrumentedProducer]:
    # linger_ms=0 and one send_and_wait at a time: every record in a batch of its own.
    async with aiokafka.instrument_producer(
        AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    ) as instrumented:
        yield instrumented


def assigned(bootstrap: str, group: str, topic: str, partitions: int = 1) -> AIOKafkaConsumer:
    """A consumer reading ``topic`` from the start by assign(): no group join needed."""
    source = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    source.assign([TopicPartition(topic, p) for p in range(partitions)])
    return source


async def test_producer_and_consumer_share_one_trace(
    recorded: Recorded,
    bootstrap: str,
    new_topic: Callable[..., str],
    producer: aiokafka.InstrumentedProducer,
) -> None:
    topic = new_topic(partitions=2)

    async def place_order(i: int) -> None:  # the application's producer code, unchanged
        await producer.send_and_wait(topic, f"order {i}".encode(), key=f"customer-{i}".encode())

    for i in range(3):
        await place_order(i)

    handled: list[bytes] = []

    @consumer(group="shipping")
    async def ship(record: ConsumerRecord, ctx: MessageContext) -> None:
        await asyncio.sleep(0)
        handled.append(record.value)

    async with aiokafka.instrument_consumer(assigned(bootstrap, "shipping", topic, 2)) as source:
        async for record in source:
            await ship(record)
            if len(handled) == 3:
                break

    assert sorted(handled) == [b"order 0", b"order 1", b"order 2"]
    producers = {s.attributes[Attr.MESSAGE_ID]: s for s in recorded.spans(f"send {topic}")}
    consumers = recorded.spans(f"process {topic}")
    assert len(producers) == 3 and len(consumers) == 3
    for span in consumers:
        parent = producers[span.attributes[Attr.MESSAGE_ID]]
        assert span.kind is SpanKind.CONSUMER
        assert span.parent.span_id == parent.context.span_id
        assert span.context.trace_id == parent.context.trace_id
        assert span.attributes[KAFKA_MESSAGE_KEY] == parent.attributes[KAFKA_MESSAGE_KEY]
    assert recorded.value(catalog.SENT_MESSAGES.series(), **{DESTINATION: topic}) == 3
    assert recorded.value(catalog.CONSUMED_MESSAGES.series(), **{DESTINATION: topic}) == 3
    assert outcomes(recorded, "ok", "shipping") == 3


async def test_a_getmany_batch_is_one_span_linked_to_every_producer(
    recorded: Recorded,
    bootstrap: str,
    new_topic: Callable[..., str],
    producer: aiokafka.InstrumentedProducer,
) -> None:
    topic = new_topic()
    for i in range(4):
        await producer.send_and_wait(topic, f"order {i}".encode(), headers=[("tenant", b"acme")])

    @consumer(group="audit", batch=True)
    async def audit(records: list[ConsumerRecord]) -> int:
        return len(records)

    received: list[ConsumerRecord] = []
    async with aiokafka.instrument_consumer(assigned(bootstrap, "audit", topic)) as source:
        while len(received) < 4:
            batches = await source.getmany(timeout_ms=500)
            received.extend(r for records in batches.values() for r in records)
    assert await audit(received) == 4

    (span,) = recorded.spans(f"process {topic}")
    producer_spans = {s.context.span_id for s in recorded.spans(f"send {topic}")}
    assert {link.context.span_id for link in span.links} == producer_spans
    assert span.attributes[Attr.BATCH_COUNT] == 4
    assert recorded.value(catalog.CONSUMED_MESSAGES.series(), **{DESTINATION: topic}) == 4


async def test_retries_rewind_then_the_record_is_dead_lettered_before_the_commit(
    recorded: Recorded,
    bootstrap: str,
    new_topic: Callable[..., str],
    producer: aiokafka.InstrumentedProducer,
) -> None:
    topic = new_topic(dead_letter=True)
    await producer.send_and_wait(topic, b"poison", key=b"c-1")
    await producer.send_and_wait(topic, b"fine", key=b"c-2")

    attempts: list[tuple[bytes, int]] = []

    @consumer(group="billing", max_attempts=3)
    async def bill(record: ConsumerRecord, ctx: MessageContext) -> None:
        attempts.append((record.value, ctx.attempt))
        if record.value == b"poison":
            raise TimeoutError("payment gateway timed out")

    raw = assigned(bootstrap, "billing", topic)
    tp = TopicPartition(topic, 0)
    commits: list[int | None] = []
    async with aiokafka.instrument_consumer(raw, dead_letter_producer=producer) as source:
        async for record in source:
            await bill(record)
            await source.commit()  # commits the position: never past a pending retry
            commits.append(await raw.committed(tp))
            if len(attempts) == 4:
                break

    assert attempts == [(b"poison", 1), (b"poison", 2), (b"poison", 3), (b"fine", 1)]
    assert commits == [0, 0, 1, 2]
    assert outcomes(recorded, "retry", "billing") == 2
    assert outcomes(recorded, "dead_letter", "billing") == 1
    (dead,) = read_all(bootstrap, topic + ".dlq", 1)
    headers = dict(dead.headers())
    assert dead.value() == b"poison"
    assert headers[h.DEAD_LETTER_REASON] == b"TimeoutError"
    assert headers[h.ORIGINAL_DESTINATION] == topic.encode()
    assert h.TRACEPARENT in headers


async def test_a_record_with_corrupted_trace_headers_is_still_processed(
    recorded: Recorded, bootstrap: str, new_topic: Callable[..., str], caplog
) -> None:
    topic = new_topic()
    plain = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)  # not instrumented
    await plain.start()
    try:
        await plain.send_and_wait(
            topic, b"order", headers=[(h.TRACEPARENT, b"ff-" + b"0" * 60), (h.EVENT_ID, b"\n")]
        )
    finally:
        await plain.stop()

    @consumer(group="billing")
    async def bill(record: ConsumerRecord, ctx: MessageContext) -> bytes:
        assert ctx.event_id is None
        return record.value

    with caplog.at_level(logging.WARNING, logger="eventscope"):
        async with aiokafka.instrument_consumer(assigned(bootstrap, "billing", topic)) as source:
            record = await source.getone()
            assert await bill(record) == b"order"
    (span,) = recorded.spans(f"process {topic}")
    assert span.parent is None
    assert outcomes(recorded, "ok", "billing") == 1
    assert not caplog.records  # nothing inside eventscope failed
