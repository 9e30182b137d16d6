"""AioKafkaInstrumentor against a real broker (Tansu): aiokafka's own clients, traced,
retrying in place and dead-lettering, until ``uninstrument()``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from eventscope import MessageContext, consumer
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import aiokafka
from eventscope.instrumentation.brokers.aiokafka_instrumentor import AioKafkaInstrumentor
from eventscope.instrumentation.brokers.kafka_delivery import KAFKA_MESSAGE_KEY
from tests.conftest import Recorded
from tests.integration.kafka.helpers import outcomes, read_all

pytestmark = pytest.mark.kafka

ORIGINAL_SEND = AIOKafkaProducer.send


@pytest.fixture
async def producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    AioKafkaInstrumentor().instrument(dead_letter_producer=producer)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()
        AioKafkaInstrumentor().uninstrument()


def _assigned(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    source = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id="billing",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    source.assign([TopicPartition(topic, 0)])
    return source


async def test_plain_clients_trace_retry_in_place_and_dead_letter(
    recorded: Recorded, bootstrap: str, new_topic: Callable[..., str], producer
) -> None:
    topic = new_topic(dead_letter=True)
    await producer.send_and_wait(topic, b"poison", key=b"c-1")  # one span, not two
    await producer.send_and_wait(topic, b"fine", key=b"c-2")
    attempts: list[tuple[bytes, int]] = []

    @consumer(group="billing", max_attempts=3)
    async def bill(record: ConsumerRecord, ctx: MessageContext) -> None:
        attempts.append((record.value, ctx.attempt))
        if record.value == b"poison":
            raise TimeoutError("payment gateway timed out")

    source = _assigned(bootstrap, topic)
    tp = TopicPartition(topic, 0)
    commits: list[int | None] = []
    await source.start()
    try:
        async for record in source:  # aiokafka's own consumer
            await bill(record)
            await source.commit()
            commits.append(await source.committed(tp))
            if len(attempts) == 4:
                break
    finally:
        await source.stop()

    assert attempts == [(b"poison", 1), (b"poison", 2), (b"poison", 3), (b"fine", 1)]
    assert commits == [0, 0, 1, 2]  # never past the record waiting for its retry
    assert outcomes(recorded, "retry", "billing") == 2
    assert outcomes(recorded, "dead_letter", "billing") == 1
    sends = recorded.spans(f"send {topic}")
    assert len(sends) == 2
    assert recorded.spans(f"send {topic}.dlq") == []  # the copy keeps its producer's trace
    (dead,) = read_all(bootstrap, topic + ".dlq", 1)
    headers = dict(dead.headers())
    (poison,) = [s for s in sends if s.attributes[KAFKA_MESSAGE_KEY] == "c-1"]
    assert headers[h.TRACEPARENT].decode().split("-")[2] == f"{poison.context.span_id:016x}"
    assert headers[h.ORIGINAL_DESTINATION] == topic.encode()


async def test_a_producer_also_wrapped_by_hand_is_traced_once(
    recorded: Recorded, bootstrap: str, new_topic: Callable[..., str], producer
) -> None:
    topic = new_topic()
    await aiokafka.instrument_producer(producer).send_and_wait(topic, b"order")
    (send,) = recorded.spans(f"send {topic}")
    (record,) = read_all(bootstrap, topic, 1)
    traceparent = dict(record.headers())[h.TRACEPARENT].decode()
    assert traceparent.split("-")[2] == f"{send.context.span_id:016x}"


async def test_uninstrument_gives_aiokafka_its_own_methods_back(
    recorded: Recorded, bootstrap: str, new_topic: Callable[..., str]
) -> None:
    instrumentor = AioKafkaInstrumentor()
    instrumentor.instrument()
    instrumentor.instrument()  # twice is harmless
    assert AIOKafkaProducer.send is not ORIGINAL_SEND
    instrumentor.uninstrument()
    assert AIOKafkaProducer.send is ORIGINAL_SEND and not instrumentor.is_instrumented
    topic = new_topic()
    async with AIOKafkaProducer(bootstrap_servers=bootstrap) as plain:
        await plain.send_and_wait(topic, b"untraced")
    assert recorded.spans(f"send {topic}") == []
    (record,) = read_all(bootstrap, topic, 1)
    assert h.TRACEPARENT not in dict(record.headers() or [])
