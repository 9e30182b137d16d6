"""``PikaInstrumentor().instrument()``: pika's own channels, traced, against RabbitMQ."""

from __future__ import annotations

import pika
import pytest

from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import rabbitmq
from eventscope.instrumentation.brokers.pika_instrumentor import PikaInstrumentor
from tests.conftest import Recorded
from tests.integration.rabbitmq.helpers import declare, depth, outcomes, pump, spans_of

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def instrumentor():
    instrumentor = PikaInstrumentor()
    instrumentor.instrument(max_attempts=2)
    yield instrumentor
    instrumentor.uninstrument()


def test_plain_channels_are_traced_retried_and_dead_lettered(
    recorded: Recorded, instrumentor, connection: pika.BlockingConnection, name: str
) -> None:
    channel = connection.channel()  # pika's own BlockingChannel, no wrapper
    declare(channel, name)
    channel.basic_publish(name, "", b"order 1")
    channel.basic_publish(name, "", b"poison")
    handled: list[bytes] = []

    def on_message(ch, method, properties, body) -> None:
        if body == b"poison":
            raise ValueError("cannot bill")
        handled.append(properties.headers[h.TRACEPARENT])
        ch.basic_ack(delivery_tag=method.delivery_tag)

    channel.basic_consume(name, on_message)
    pump(connection, lambda: outcomes(recorded, "dead_letter", name) == 1 and handled)
    pump(connection, lambda: depth(channel, name + ".dlq") == 1)

    (send, _) = spans_of(recorded, "send", name)
    process = spans_of(recorded, "process", name)
    ok = next(s for s in process if s.attributes["eventscope.outcome"] == "ok")
    assert ok.context.trace_id == send.context.trace_id
    assert (outcomes(recorded, "ok", name), outcomes(recorded, "retry", name)) == (1, 1)


def test_wrapped_channels_are_traced_once_and_uninstrument_restores(
    recorded: Recorded, instrumentor, connection: pika.BlockingConnection, name: str
) -> None:
    channel = rabbitmq.instrument_channel(connection.channel())
    declare(channel, name)
    channel.basic_publish(name, "", b"a")
    assert len(spans_of(recorded, "send", name)) == 1
    first: list[bytes] = []

    def take(ch, method, properties, body) -> None:
        first.append(body)
        ch.basic_ack(delivery_tag=method.delivery_tag)
        ch.basic_cancel(method.consumer_tag)

    channel.basic_consume(name, take)
    pump(connection, lambda: first == [b"a"])
    assert len(spans_of(recorded, "process", name)) == 1  # one span, not one per layer

    instrumentor.uninstrument()
    plain = connection.channel()
    plain.basic_publish(name, "", b"b")
    received: list[pika.BasicProperties] = []

    def on_message(ch, method, properties, body) -> None:
        received.append(properties)
        ch.basic_ack(delivery_tag=method.delivery_tag)

    plain.basic_consume(name, on_message)
    pump(connection, lambda: len(received) == 1)
    assert h.TRACEPARENT not in (received[0].headers or {})
    assert len(spans_of(recorded, "send", name)) == 1
    assert len(spans_of(recorded, "process", name)) == 1  # plain consume after uninstrument
