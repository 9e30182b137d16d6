"""OpenTelemetry's contrib pika/aio-pika instrumentations and eventscope in one process.

Whichever was instrumented first, each message makes exactly one PRODUCER and one
CONSUMER span (eventscope's, see eventscope.instrumentation.contrib), in one trace, and
eventscope counts it once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import aio_pika
import pika
import pytest
from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor as ContribAioPika
from opentelemetry.instrumentation.pika import PikaInstrumentor as ContribPika
from opentelemetry.trace import SpanKind

from eventscope import catalog
from eventscope.catalog import Attr
from eventscope.instrumentation.brokers import rabbitmq
from eventscope.instrumentation.brokers.aio_pika_instrumentor import AioPikaInstrumentor
from eventscope.instrumentation.brokers.pika_instrumentor import PikaInstrumentor
from tests.conftest import Recorded
from tests.integration.rabbitmq.helpers import DESTINATION, declare, depth, outcomes, pump
from tests.integration.rabbitmq.test_aio_pika import _topology, _until

pytestmark = pytest.mark.rabbitmq
MESSAGES = 3


def _one_span_per_side(recorded: Recorded, name: str) -> None:
    spans = recorded.spans()
    producers = [s for s in spans if s.kind is SpanKind.PRODUCER]
    consumers = [s for s in spans if s.kind is SpanKind.CONSUMER]
    assert (len(producers), len(consumers)) == (MESSAGES, MESSAGES), [s.name for s in spans]
    by_id = {s.context.span_id: s for s in producers}
    for process in consumers:
        sent = by_id[process.parent.span_id]  # the producer's span is the parent
        assert process.name.startswith(f"process {name}")
        assert sent.name.startswith(f"send {name}")
        assert process.attributes[Attr.OPERATION_TYPE] == "process"
        assert process.attributes[Attr.MESSAGE_ID] == sent.attributes[Attr.MESSAGE_ID]
    sent_total = recorded.value(catalog.SENT_MESSAGES.series(), **{DESTINATION: name})
    consumed = recorded.value(catalog.CONSUMED_MESSAGES.series(), **{DESTINATION: name})
    assert (sent_total, consumed, outcomes(recorded, "ok", name)) == (MESSAGES,) * 3


ORDERS = ["contrib first", "eventscope first"]


def _both(order: str, contrib: Any, ours: Any, recorded: Recorded) -> Iterator[None]:
    """The contrib's instrumentor and eventscope's, installed in ``order``."""
    steps = [lambda: contrib.instrument(tracer_provider=recorded.provider), ours.instrument]
    for step in steps if order == "contrib first" else reversed(steps):
        step()
    yield
    ours.uninstrument()
    contrib.uninstrument()


@pytest.fixture(params=ORDERS)
def pika_both(request, recorded: Recorded) -> Iterator[None]:
    yield from _both(request.param, ContribPika(), PikaInstrumentor(), recorded)


def test_pika_with_the_contrib_instrumentor_makes_one_span_per_side(
    recorded: Recorded, pika_both: None, amqp_url: str, name: str
) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()  # instrumented by both
        declare(channel, name)
        for i in range(MESSAGES):
            channel.basic_publish(name, "eu", f"order {i}".encode())
        handled: list[bytes] = []

        def on_message(ch, method, properties, body) -> None:
            handled.append(body)
            ch.basic_ack(delivery_tag=method.delivery_tag)

        channel.basic_consume(name, on_message)
        pump(connection, lambda: outcomes(recorded, "ok", name) == MESSAGES)
        assert len(handled) == MESSAGES and depth(channel, name) == 0
    finally:
        connection.close()
    _one_span_per_side(recorded, name)


def test_a_wrapped_pika_channel_beside_the_contrib_instrumentor_too(
    recorded: Recorded, amqp_url: str, name: str
) -> None:
    contrib = ContribPika()
    contrib.instrument(tracer_provider=recorded.provider)
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = rabbitmq.instrument_channel(connection.channel())
        declare(channel, name)
        for i in range(MESSAGES):
            channel.basic_publish(name, "eu", f"order {i}".encode())
        channel.basic_consume(
            name, lambda ch, method, _p, _b: ch.basic_ack(delivery_tag=method.delivery_tag)
        )
        pump(connection, lambda: outcomes(recorded, "ok", name) == MESSAGES)
    finally:
        connection.close()
        contrib.uninstrument()
    _one_span_per_side(recorded, name)


@pytest.fixture(params=ORDERS)
def aio_pika_both(request, recorded: Recorded) -> Iterator[None]:
    yield from _both(request.param, ContribAioPika(), AioPikaInstrumentor(), recorded)


async def test_aio_pika_with_the_contrib_instrumentor_makes_one_span_per_side(
    recorded: Recorded, aio_pika_both: None, amqp_url: str, name: str
) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange, queue, _ = await _topology(channel, name)
        for i in range(MESSAGES):
            await exchange.publish(aio_pika.Message(f"order {i}".encode()), routing_key="eu")
        handled: list[bytes] = []

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            handled.append(message.body)

        tag = await queue.consume(on_message)
        await _until(lambda: outcomes(recorded, "ok", name) == MESSAGES)
        await queue.cancel(tag)
        await asyncio.sleep(0)  # the contrib's span ends as its wrapper returns
    assert len(handled) == MESSAGES
    _one_span_per_side(recorded, name)
