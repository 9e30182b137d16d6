"""The contract's example reaches a handler as its own client library's message.

Each builder makes the native object of one client (built with that client's classes),
so the handler under test reads it with the client's API (``message.body``,
``message.value()``, ``msg.data``...) and the ``@consumer`` decorator recognises it and
continues the trace from the example's ``traceparent``, as in production.
"""

from __future__ import annotations

import json

import aio_pika
import confluent_kafka
from aiokafka.structs import ConsumerRecord
from nats.aio.msg import Msg
from pact import match

from eventscope import MessageContext, consumer
from eventscope.contracts import MessagePact
from eventscope.contracts.headers import EXAMPLE_TRACEPARENT
from eventscope.contracts.messages import (
    BUILDERS,
    aio_pika_message,
    aiokafka_record,
    kafka_message,
    nats_message,
    pika_delivery,
    redis_entry,
    sqs_message,
)
from eventscope.instrumentation.brokers import rabbitmq

ORDER = {"order_id": match.regex("o-000001", regex=r"^o-[0-9]{6}$"), "quantity": match.int(2)}
TRACE_ID = EXAMPLE_TRACEPARENT.split("-")[1]


def expected(tmp_path):
    pact = MessagePact("billing", "orders-service", pacts=tmp_path)
    return pact.expect("an order placed event", destination="orders", body=ORDER)


def test_every_builder_is_listed() -> None:
    assert set(BUILDERS.values()) == {
        aio_pika_message,
        pika_delivery,
        kafka_message,
        aiokafka_record,
        nats_message,
        sqs_message,
        redis_entry,
    }


async def test_aio_pika_handler_reads_body_and_acknowledges(tmp_path, recorded) -> None:
    seen = []

    @consumer(group="billing")
    async def bill(message: aio_pika.abc.AbstractIncomingMessage, ctx: MessageContext) -> None:
        async with message.process():
            seen.append((json.loads(message.body), ctx.trace_id, ctx.destination))

    message = await expected(tmp_path).deliver_async(bill, build=aio_pika_message)
    assert message is None
    assert seen == [({"order_id": "o-000001", "quantity": 2}, TRACE_ID, "orders")]
    (span,) = recorded.spans("process orders:billing")  # semconv 1.44: {exchange}:{queue}
    assert span.attributes["messaging.system"] == "rabbitmq"


def test_pika_callback_gets_its_four_arguments(tmp_path, recorded) -> None:
    seen = []

    def on_message(channel, method, properties, body) -> None:
        seen.append((json.loads(body), properties.headers["traceparent"], method.exchange))
        channel.basic_ack(method.delivery_tag)

    delivered = []

    @consumer(group="billing")
    def handle(delivery: rabbitmq.Delivery) -> None:
        delivered.append(delivery)
        on_message(delivery.channel, delivery.method, delivery.properties, delivery.body)

    expected(tmp_path).deliver(handle, build=pika_delivery)
    assert seen == [({"order_id": "o-000001", "quantity": 2}, EXAMPLE_TRACEPARENT, "orders")]
    assert delivered[0].channel.acknowledged
    (span,) = recorded.spans("process orders:billing")  # semconv 1.44: {exchange}:{queue}
    assert span.attributes["messaging.system"] == "rabbitmq"


def test_confluent_kafka_handler_reads_value_and_topic(tmp_path, recorded) -> None:
    seen = []

    @consumer(group="billing")
    def bill(message: confluent_kafka.Message, ctx: MessageContext) -> None:
        seen.append((json.loads(message.value()), message.topic(), ctx.trace_id))

    expected(tmp_path).deliver(bill, build=kafka_message)
    assert seen == [({"order_id": "o-000001", "quantity": 2}, "orders", TRACE_ID)]
    (span,) = recorded.spans("process orders")
    assert span.attributes["messaging.system"] == "kafka"


async def test_aiokafka_and_nats_handlers(tmp_path, recorded) -> None:
    seen = []

    @consumer(group="billing")
    async def from_kafka(record: ConsumerRecord, ctx: MessageContext) -> None:
        seen.append((json.loads(record.value), record.topic, ctx.trace_id))

    @consumer(group="billing")
    async def from_nats(msg: Msg, ctx: MessageContext) -> None:
        seen.append((json.loads(msg.data), msg.subject, ctx.trace_id))

    await expected(tmp_path).deliver_async(from_kafka, build=aiokafka_record)
    await expected(tmp_path).deliver_async(from_nats, build=nats_message)
    body = {"order_id": "o-000001", "quantity": 2}
    assert seen == [(body, "orders", TRACE_ID), (body, "orders", TRACE_ID)]
    systems = {s.attributes["messaging.system"] for s in recorded.spans("process orders")}
    assert systems == {"kafka", "nats"}


def test_sqs_and_redis_handlers(tmp_path, recorded) -> None:
    seen = []

    @consumer("orders", group="billing", system="aws_sqs")
    def from_sqs(message: dict, ctx: MessageContext) -> None:
        seen.append((json.loads(message["Body"]), ctx.trace_id))

    @consumer("orders", group="billing", system="redis")
    def from_redis(entry: tuple, ctx: MessageContext) -> None:
        seen.append((json.loads(entry[1][b"body"]), ctx.trace_id))

    expected(tmp_path).deliver(from_sqs, build=sqs_message)
    expected(tmp_path).deliver(from_redis, build=redis_entry)
    body = {"order_id": "o-000001", "quantity": 2}
    assert seen == [(body, TRACE_ID), (body, TRACE_ID)]
