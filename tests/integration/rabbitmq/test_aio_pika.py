"""aio-pika, instrumented with one line, against the real RabbitMQ."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage

from eventscope import catalog, consumer
from eventscope.catalog import Attr
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import aio_pika as instrumented
from eventscope.instrumentation.brokers.amqp import ROUTING_KEY
from tests.conftest import Recorded
from tests.integration.rabbitmq.helpers import DESTINATION, outcomes, spans_of

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
async def connection(amqp_url: str) -> AsyncIterator[aio_pika.abc.AbstractConnection]:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        yield connection


@pytest.fixture
async def channel(connection) -> aio_pika.abc.AbstractChannel:
    return await connection.channel()


async def _depth(connection, queue: str, expected: int) -> None:
    """Wait until ``queue`` holds ``expected`` messages (ready ones: none unacknowledged)."""
    channel = await connection.channel()
    async with asyncio.timeout(10):
        while True:
            declared = await channel.declare_queue(queue, passive=True)
            if declared.declaration_result.message_count == expected:
                break
            await asyncio.sleep(0.05)
    await channel.close()


async def _topology(channel, name: str, queue_type: str = "quorum"):
    exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.FANOUT)
    dlq = await channel.declare_queue(name + ".dlq", durable=True)
    queue = await channel.declare_queue(
        name,
        durable=True,
        arguments={
            "x-queue-type": queue_type,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": name + ".dlq",
        },
    )
    await queue.bind(exchange)
    return exchange, queue, dlq


async def _until(done, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not done():
            await asyncio.sleep(0.02)


async def test_a_consume_callback_continues_the_publishers_trace(
    recorded: Recorded, connection, channel, name: str
) -> None:
    exchange, queue, _ = await _topology(channel, name)
    exchange = instrumented.instrument_exchange(exchange)
    for i in range(4):
        await exchange.publish(aio_pika.Message(f"order {i}".encode()), routing_key="eu")
    received: list[bytes] = []

    async def on_message(message: AbstractIncomingMessage) -> None:
        received.append(message.body)

    tag = await instrumented.instrument_queue(queue).consume(on_message)
    await _until(lambda: outcomes(recorded, "ok", name) == 4)

    producers = {s.attributes[Attr.MESSAGE_ID]: s for s in spans_of(recorded, "send", name)}
    consumers = spans_of(recorded, "process", name)
    assert len(received) == 4 and len(producers) == 4 and len(consumers) == 4
    for span in consumers:
        assert span.parent.span_id == producers[span.attributes[Attr.MESSAGE_ID]].context.span_id
    assert recorded.value(catalog.SENT_MESSAGES.series(), **{DESTINATION: name}) == 4
    assert recorded.value(catalog.CONSUMED_MESSAGES.series(), **{DESTINATION: name}) == 4
    # eventscope acknowledged every message: once the consumer is gone, none comes back.
    await queue.cancel(tag)
    await channel.close()
    await _depth(connection, name, 0)


@pytest.mark.parametrize("queue_type", ["quorum", "classic"])
async def test_a_queue_iterator_handler_retries_then_dead_letters(
    recorded: Recorded, channel, name: str, queue_type: str
) -> None:
    exchange, queue, dlq = await _topology(channel, name, queue_type)
    await instrumented.instrument_exchange(exchange).publish(aio_pika.Message(b"x"), "")
    attempts: list[int] = []

    @instrumented.consumer("billing", max_attempts=3)
    async def handle(message: AbstractIncomingMessage, ctx) -> None:
        attempts.append(ctx.attempt)
        raise ValueError("gateway said no")

    async with queue.iterator() as messages:
        async for message in messages:
            await handle(message)
            if len(attempts) == 3:
                break

    await _until(lambda: outcomes(recorded, "dead_letter", "billing") == 1)
    assert attempts == [1, 2, 3]
    assert outcomes(recorded, "retry", "billing") == 2
    dead = await dlq.get(timeout=5)
    await dead.ack()
    (sent,) = spans_of(recorded, "send", name)
    assert dead.headers[h.TRACEPARENT].split("-")[1] == f"{sent.context.trace_id:032x}"


async def test_a_plain_consumer_decorator_reads_aio_pika_messages(
    recorded: Recorded, connection, channel, name: str
) -> None:
    """Without an eventscope wrapper the message is read, and settling stays the app's."""
    exchange, queue, _ = await _topology(channel, name)
    await instrumented.instrument_exchange(exchange).publish(aio_pika.Message(b"x"), "rk")

    @consumer(group="audit", max_attempts=1)
    async def handle(message: AbstractIncomingMessage) -> None:
        raise ValueError("unreadable")

    message = await queue.get(timeout=5)
    with pytest.raises(ValueError):
        async with message.process():  # the application's own settlement: reject
            await handle(message)

    (span,) = spans_of(recorded, "process", name)
    assert span.attributes[Attr.SYSTEM] == "rabbitmq"
    assert span.attributes[ROUTING_KEY] == "rk"
    assert span.parent.span_id == spans_of(recorded, "send", name)[0].context.span_id
    assert outcomes(recorded, "dead_letter", "audit") == 1
    await _depth(connection, name + ".dlq", 1)
