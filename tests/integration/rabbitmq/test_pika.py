"""pika, instrumented with one line, against the real RabbitMQ: traces, metrics, retries, DLQ."""

from __future__ import annotations

import pika
import pytest
from opentelemetry.trace import SpanKind

from eventscope import catalog
from eventscope.catalog import Attr
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import rabbitmq
from eventscope.instrumentation.brokers.amqp import DELIVERY_TAG, ROUTING_KEY
from tests.conftest import Recorded
from tests.integration.rabbitmq.helpers import (
    DESTINATION,
    declare,
    depth,
    outcomes,
    pump,
    spans_of,
)

pytestmark = pytest.mark.rabbitmq


def test_publisher_and_consumer_share_one_trace_and_count_what_was_sent(
    recorded: Recorded, connection: pika.BlockingConnection, name: str
) -> None:
    channel = rabbitmq.instrument_channel(connection.channel())
    declare(channel, name)
    for i in range(3):
        channel.basic_publish(name, f"eu-{i}", f"order {i}".encode())
    bodies: list[bytes] = []

    def on_message(ch, method, properties, body) -> None:  # an ordinary pika callback
        bodies.append(body)
        ch.basic_ack(delivery_tag=method.delivery_tag)

    channel.basic_consume(name, on_message)
    pump(connection, lambda: len(bodies) == 3)

    producers = {s.attributes[Attr.MESSAGE_ID]: s for s in spans_of(recorded, "send", name)}
    consumers = spans_of(recorded, "process", name)
    assert sorted(bodies) == [b"order 0", b"order 1", b"order 2"]
    assert len(producers) == 3 and len(consumers) == 3
    for span in consumers:
        sent = producers[span.attributes[Attr.MESSAGE_ID]]
        assert span.kind is SpanKind.CONSUMER and sent.kind is SpanKind.PRODUCER
        assert span.context.trace_id == sent.context.trace_id
        assert span.parent.span_id == sent.context.span_id
        assert Attr.CONSUMER_GROUP not in span.attributes  # semconv 1.44: none on RabbitMQ
        assert span.name == f"process {name}:{sent.attributes[ROUTING_KEY]}:{name}"
        assert sent.name == f"send {name}:{sent.attributes[ROUTING_KEY]}"
        assert span.attributes[Attr.SERVER_PORT] == 5672 == sent.attributes[Attr.SERVER_PORT]
        assert span.attributes[ROUTING_KEY] == sent.attributes[ROUTING_KEY]
        assert isinstance(span.attributes[DELIVERY_TAG], int)
    sent_total = recorded.value(catalog.SENT_MESSAGES.series(), **{DESTINATION: name})
    consumed = recorded.value(catalog.CONSUMED_MESSAGES.series(), **{DESTINATION: name})
    assert (sent_total, consumed, outcomes(recorded, "ok", name)) == (3, 3, 3)
    assert depth(channel, name) == 0


@pytest.mark.parametrize("queue_type", ["quorum", "classic"])
def test_a_failing_message_is_retried_then_dead_lettered_with_its_trace(
    recorded: Recorded, connection: pika.BlockingConnection, name: str, queue_type: str
) -> None:
    channel = rabbitmq.instrument_channel(connection.channel(), max_attempts=3)
    declare(channel, name, queue_type)
    channel.basic_publish(name, "", b"poison")
    attempts: list[int] = []

    def on_message(ch, method, properties, body, ctx) -> None:
        attempts.append(ctx.attempt)
        raise ValueError("cannot parse order")

    channel.basic_consume(name, on_message)
    pump(connection, lambda: depth(channel, name + ".dlq") == 1)

    assert attempts == [1, 2, 3]
    assert outcomes(recorded, "retry", name) == 2
    assert outcomes(recorded, "dead_letter", name) == 1
    (sent,) = spans_of(recorded, "send", name)
    method, properties, _ = channel.basic_get(name + ".dlq", auto_ack=True)
    traceparent = properties.headers[h.TRACEPARENT]
    assert traceparent.split("-")[1] == f"{sent.context.trace_id:032x}"
    assert method.routing_key == name + ".dlq"  # through the queue's dead-letter exchange
    assert depth(channel, name) == 0


def test_a_handler_can_dead_letter_without_raising(
    recorded: Recorded, connection: pika.BlockingConnection, name: str
) -> None:
    channel = rabbitmq.instrument_channel(connection.channel())
    declare(channel, name)
    channel.basic_publish(name, "", b"{}")

    @rabbitmq.consumer("audit")
    def on_message(ch, method, properties, body, ctx) -> None:
        ctx.dead_letter("schema mismatch")

    channel.basic_consume(name, on_message)
    pump(connection, lambda: depth(channel, name + ".dlq") == 1)
    assert outcomes(recorded, "dead_letter", "audit") == 1
    reasons = recorded.value(
        catalog.DEAD_LETTER_MESSAGES.series(),
        **{catalog.prometheus_label(Attr.DEAD_LETTER_REASON): "schema mismatch"},
    )
    assert reasons == 1


def test_a_message_with_corrupted_trace_headers_is_still_processed(
    recorded: Recorded, connection: pika.BlockingConnection, name: str
) -> None:
    raw = connection.channel()
    declare(raw, name)
    corrupted = {h.TRACEPARENT: "00-not-a-trace-id-zz", h.TRACESTATE: b"\xff\xfe", "baggage": 7}
    raw.basic_publish(name, "", b"order", pika.BasicProperties(headers=corrupted))
    handled: list[bytes] = []

    @rabbitmq.consumer("billing")
    def on_message(ch, method, properties, body) -> None:
        handled.append(body)
        ch.basic_ack(delivery_tag=method.delivery_tag)

    raw.basic_consume(name, on_message)
    pump(connection, lambda: handled == [b"order"])
    (span,) = spans_of(recorded, "process", name)
    assert span.parent is None  # a new trace starts
    assert outcomes(recorded, "ok", "billing") == 1


def test_a_redelivered_duplicate_is_skipped_and_acknowledged(
    recorded: Recorded, connection: pika.BlockingConnection, name: str
) -> None:
    channel = rabbitmq.instrument_channel(connection.channel(), deduplicate=100)
    declare(channel, name)
    channel.basic_publish(name, "", b"order")
    handled: list[bytes] = []

    def on_message(ch, method, properties, body) -> None:
        handled.append(body)
        ch.basic_ack(delivery_tag=method.delivery_tag)
        if len(handled) == 1:  # the publisher "timed out" and sends the same event again
            headers = {h.EVENT_ID: properties.headers[h.EVENT_ID]}
            channel.basic_publish(name, "", body, pika.BasicProperties(headers=headers))

    channel.basic_consume(name, on_message)
    pump(connection, lambda: outcomes(recorded, "duplicate", name) == 1)
    assert handled == [b"order"]
    pump(connection, lambda: depth(channel, name) == 0)
