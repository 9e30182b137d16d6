"""``AioPikaInstrumentor().instrument()``: the client's own objects, traced, against RabbitMQ.

One call instruments every exchange and queue (no wrappers), a handler that raises is
retried and then dead-lettered as with ``instrument_queue``, objects also wrapped by hand
are traced once, and ``uninstrument()`` gives aio-pika back untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aio_pika
import pytest

from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import aio_pika as instrumented
from eventscope.instrumentation.brokers.aio_pika_instrumentor import AioPikaInstrumentor
from tests.conftest import Recorded
from tests.integration.rabbitmq.helpers import spans_of
from tests.integration.rabbitmq.test_aio_pika import _topology, _until

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
async def connection(amqp_url: str) -> AsyncIterator[aio_pika.abc.AbstractConnection]:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        yield connection


async def _dead_letter(dlq) -> aio_pika.abc.AbstractIncomingMessage:
    """The dead-letter queue's message, once RabbitMQ has routed the rejected one there
    (the span ends as the reject is sent, not when the broker has routed it)."""
    async with asyncio.timeout(10):
        while (message := await dlq.get(fail=False)) is None:
            await asyncio.sleep(0.05)
    return message


@pytest.fixture
def instrumentor():
    instrumentor = AioPikaInstrumentor()
    instrumentor.instrument(max_attempts=2)
    yield instrumentor
    instrumentor.uninstrument()


async def test_plain_aio_pika_objects_are_traced_end_to_end(
    recorded: Recorded, instrumentor, connection, name: str
) -> None:
    channel = await connection.channel()
    exchange, queue, dlq = await _topology(channel, name)
    handled: list[tuple[bytes, str]] = []

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        if message.body == b"poison":
            raise ValueError("cannot bill")
        handled.append((message.body, message.headers[h.TRACEPARENT]))

    await queue.consume(on_message)
    await exchange.publish(aio_pika.Message(b"order 1"), routing_key="")
    await exchange.publish(aio_pika.Message(b"poison"), routing_key="")
    await _until(lambda: len(handled) == 1 and len(spans_of(recorded, "process", name)) == 3)
    dead = await _dead_letter(dlq)
    await dead.ack()

    (send, _) = spans_of(recorded, "send", name)
    process = spans_of(recorded, "process", name)
    ok = next(s for s in process if s.attributes["eventscope.outcome"] == "ok")
    assert ok.context.trace_id == send.context.trace_id  # one trace, producer to consumer
    assert sorted(s.attributes["eventscope.outcome"] for s in process) == [
        "dead_letter",
        "ok",
        "retry",
    ]
    assert dead.body == b"poison"


async def test_wrapped_objects_are_traced_once_and_uninstrument_restores(
    recorded: Recorded, instrumentor, connection, name: str
) -> None:
    channel = await connection.channel()
    exchange, queue, _ = await _topology(channel, name)
    received: list[aio_pika.abc.AbstractIncomingMessage] = []

    async def on_message(message) -> None:
        received.append(message)

    await instrumented.instrument_queue(queue).consume(on_message)
    await instrumented.instrument_exchange(exchange).publish(aio_pika.Message(b"a"), "")
    await _until(lambda: len(received) == 1)
    assert len(spans_of(recorded, "send", name)) == 1
    assert len(spans_of(recorded, "process", name)) == 1

    instrumentor.uninstrument()
    assert not instrumentor.is_instrumented
    await exchange.publish(aio_pika.Message(b"b"), routing_key="")
    await _until(lambda: len(received) == 2)
    assert h.TRACEPARENT not in (received[1].headers or {})
    assert len(spans_of(recorded, "send", name)) == 1
