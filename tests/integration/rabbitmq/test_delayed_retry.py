"""Delayed retries on the real RabbitMQ: a delay queue per wait, back to the failing queue.

The attempt count and the original destination must survive the trip through the
delay queue (the returning message is a new delivery from the default exchange), so the
metrics keep the exchange as destination and the attempt limit still dead-letters.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse

import aio_pika
import pika
import pytest

from eventscope import catalog
from eventscope.catalog import Attr
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import aio_pika as instrumented
from eventscope.instrumentation.brokers import rabbitmq
from eventscope.instrumentation.brokers.aio_pika_instrumentor import AioPikaInstrumentor
from eventscope.instrumentation.brokers.amqp import ROUTING_KEY
from eventscope.instrumentation.brokers.amqp_retry import RetryDelay
from eventscope.instrumentation.brokers.pika_instrumentor import PikaInstrumentor
from tests.conftest import Recorded
from tests.integration.rabbitmq.conftest import management_get
from tests.integration.rabbitmq.helpers import (
    DESTINATION,
    declare,
    depth,
    outcomes,
    pump,
    spans_of,
)

pytestmark = pytest.mark.rabbitmq


def _arguments(vhost: str, queue: str) -> dict:
    path = f"/api/queues/{urllib.parse.quote(vhost, safe='')}/{urllib.parse.quote(queue, safe='')}"
    return management_get(path)["arguments"]


def _destinations(recorded: Recorded, outcome: str) -> set[str]:
    """The destination labels of the outcome counter's samples for ``outcome``."""
    found = set()
    label = catalog.prometheus_label(Attr.OUTCOME)
    for family in recorded.registry.collect():
        for sample in family.samples:
            if (
                sample.name == catalog.PROCESS_OUTCOMES.series()
                and sample.labels.get(label) == outcome
            ):
                found.add(sample.labels[DESTINATION])
    return found


@pytest.mark.parametrize("queue_type", ["quorum", "classic"])
def test_pika_retries_wait_with_backoff_and_the_limit_still_dead_letters(
    recorded: Recorded,
    connection: pika.BlockingConnection,
    name: str,
    vhost: str,
    queue_type: str,
) -> None:
    delay = RetryDelay(0.1, factor=3)
    channel = rabbitmq.instrument_channel(connection.channel(), max_attempts=3, retry_delay=delay)
    declare(channel, name, queue_type)
    channel.basic_publish(name, "eu", b"poison")
    seen: list[tuple[int, str, str]] = []

    def on_message(ch, method, properties, body, ctx) -> None:
        seen.append((ctx.attempt, ctx.destination, method.routing_key))
        raise ValueError("payment service down")

    channel.basic_consume(name, on_message)
    pump(connection, lambda: depth(channel, name + ".dlq") == 1)

    assert [attempt for attempt, _, _ in seen] == [1, 2, 3]
    assert {destination for _, destination, _ in seen} == {name}  # the exchange, every time
    assert [key for _, _, key in seen] == ["eu", name, name]  # back through the delay queue
    for milliseconds in (100, 300):  # one delay queue per wait, returning to the queue
        assert _arguments(vhost, f"{name}.retry.{milliseconds}ms") == {
            "x-message-ttl": milliseconds,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": name,
            "x-expires": milliseconds + 60_000,
        }
    assert outcomes(recorded, "retry", name) == 2
    assert outcomes(recorded, "dead_letter", name) == 1
    assert _destinations(recorded, "retry") == _destinations(recorded, "dead_letter") == {name}
    spans = spans_of(recorded, "process", name)
    assert [s.attributes[ROUTING_KEY] for s in spans] == ["eu", "eu", "eu"]
    assert len({s.context.trace_id for s in spans}) == 1  # one trace through the delays
    (sent,) = spans_of(recorded, "send", name)  # the copies were not traced as new sends
    assert spans[0].context.trace_id == sent.context.trace_id
    _, properties, body = channel.basic_get(name + ".dlq", auto_ack=True)
    assert body == b"poison"
    assert properties.headers[h.ATTEMPT] == "3"
    assert properties.headers[h.ORIGINAL_DESTINATION] == name
    assert depth(channel, name) == 0


def test_a_retry_waits_in_the_delay_queue_not_in_the_queue(
    recorded: Recorded, connection: pika.BlockingConnection, name: str
) -> None:
    channel = connection.channel()
    declare(channel, name)
    channel.basic_publish(name, "", b"order")
    attempts: list[int] = []

    @rabbitmq.consumer(name, max_attempts=2, retry_delay=5)
    def on_message(ch, method, properties, body, ctx) -> None:
        attempts.append(ctx.attempt)
        if ctx.attempt == 1:
            ctx.retry("inventory locked")
        else:
            ch.basic_ack(delivery_tag=method.delivery_tag)

    channel.basic_consume(name, on_message)  # a plain channel: the group names the queue
    pump(connection, lambda: attempts == [1])
    # Parked for 5 s in the delay queue, not in the queue.  The broker's count can lag the
    # publish by a moment, so it is polled, well within the wait.
    deadline = time.monotonic() + 4
    while depth(channel, f"{name}.retry.5000ms") != 1:
        assert time.monotonic() < deadline, "the retry never reached its delay queue"
        time.sleep(0.01)
    assert depth(channel, name) == 0
    assert attempts == [1]
    pump(connection, lambda: attempts == [1, 2])
    assert outcomes(recorded, "retry", name) == 1
    assert outcomes(recorded, "ok", name) == 1
    assert depth(channel, f"{name}.retry.5000ms") == 0


def test_the_pika_instrumentor_takes_a_retry_delay(
    recorded: Recorded, connection: pika.BlockingConnection, name: str
) -> None:
    PikaInstrumentor().instrument(max_attempts=2, retry_delay=0.05)
    try:
        channel = connection.channel()
        declare(channel, name)
        channel.basic_publish(name, "", b"order")
        attempts: list[int] = []

        def on_message(ch, method, properties, body, ctx) -> None:
            attempts.append(ctx.attempt)
            raise TimeoutError

        channel.basic_consume(name, on_message)
        pump(connection, lambda: depth(channel, name + ".dlq") == 1)
    finally:
        PikaInstrumentor().uninstrument()
    assert attempts == [1, 2]
    assert len(spans_of(recorded, "send", name)) == 1
    assert depth(channel, f"{name}.retry.50ms") == 0


async def test_aio_pika_retries_wait_and_keep_their_destination(
    recorded: Recorded, amqp_url: str, name: str, vhost: str
) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(name, aio_pika.ExchangeType.FANOUT)
        await channel.declare_queue(name + ".dlq", durable=True)
        queue = await channel.declare_queue(
            name,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": name + ".dlq",
            },
        )
        await queue.bind(exchange)
        await instrumented.instrument_exchange(exchange).publish(
            aio_pika.Message(b"poison"), routing_key="eu"
        )
        seen: list[tuple[int, str]] = []
        done = asyncio.Event()

        async def on_message(message, ctx) -> None:
            seen.append((ctx.attempt, ctx.destination))
            if ctx.attempt == 3:
                done.set()
            raise ValueError("payment service down")

        await instrumented.instrument_queue(
            queue, max_attempts=3, retry_delay=RetryDelay(0.1, factor=2, maximum=0.15)
        ).consume(on_message)
        async with asyncio.timeout(15):
            await done.wait()
            dlq = await channel.declare_queue(name + ".dlq", passive=True)
            while (dead := await dlq.get(fail=False, no_ack=True)) is None:
                await asyncio.sleep(0.05)

    assert seen == [(1, name), (2, name), (3, name)]
    assert dead.body == b"poison"
    assert dead.headers[h.ATTEMPT] == "3"
    assert dead.headers[h.ORIGINAL_DESTINATION] == name
    assert _arguments(vhost, f"{name}.retry.150ms")["x-message-ttl"] == 150  # the maximum
    assert outcomes(recorded, "retry", name) == 2
    assert outcomes(recorded, "dead_letter", name) == 1
    assert _destinations(recorded, "retry") == {name}
    spans = spans_of(recorded, "process", name)
    assert [s.attributes[ROUTING_KEY] for s in spans] == ["eu", "eu", "eu"]
    assert len(spans_of(recorded, "send", name)) == 1


async def test_the_aio_pika_instrumentor_takes_a_retry_delay(
    recorded: Recorded, amqp_url: str, name: str
) -> None:
    AioPikaInstrumentor().instrument(max_attempts=2, retry_delay=0.05)
    try:
        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()  # aio-pika's own objects
            await channel.declare_queue(name + ".dlq", durable=True)
            queue = await channel.declare_queue(
                name,
                durable=True,
                arguments={
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": name + ".dlq",
                },
            )
            await channel.default_exchange.publish(aio_pika.Message(b"order"), routing_key=name)
            attempts: list[int] = []

            async def on_message(message, ctx) -> None:
                attempts.append(ctx.attempt)
                raise TimeoutError

            await queue.consume(on_message)
            async with asyncio.timeout(15):
                dlq = await channel.declare_queue(name + ".dlq", passive=True)
                while (dead := await dlq.get(fail=False, no_ack=True)) is None:
                    await asyncio.sleep(0.05)
            retry_queue = await channel.declare_queue(f"{name}.retry.50ms", passive=True)
            assert retry_queue.declaration_result.message_count == 0
    finally:
        AioPikaInstrumentor().uninstrument()
    assert attempts == [1, 2]  # classic queue: the attempt came back in the headers
    assert dead.headers[h.ATTEMPT] == "2"
    assert outcomes(recorded, "retry", name) == 1
    assert outcomes(recorded, "dead_letter", name) == 1
    assert len(spans_of(recorded, "send", name)) == 1
