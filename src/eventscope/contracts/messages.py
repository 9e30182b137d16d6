"""The contract's example as each client library's own message, for ``deliver(build=...)``.

A consumer test must call the real handler with what the real client hands it: an
aio-pika handler reads ``message.body`` and calls ``message.process()``, a
confluent-kafka one ``message.value()``.  Each builder takes the example's body, headers
and destination and returns that client's native message object (the same type the
``@consumer`` decorator recognises in production), built with the client's own
classes; the client (and eventscope's integration of it, which teaches the decorator
its type) is imported only when its builder is used.

Bodies are sent as the producer would put them on the wire: bytes and text as they
are, anything else as JSON.  Acknowledgements go to a :class:`SettlementLog` (the
message's channel or client), so a test can assert that the handler acknowledged, or
asked for a retry or the dead-letter queue.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def wire_body(body: Any) -> bytes:
    """The body as bytes on the wire: bytes and text as they are, the rest as JSON."""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


@dataclass
class SettlementLog:
    """Stands in for the channel (AMQP) or client that settles a delivered message.

    Every call is kept in :attr:`calls` as ``(method, args...)``: ``("basic_ack", 1)``,
    ``("basic_nack", 1, False)`` for a message sent to the dead-letter exchange...
    """

    calls: list[tuple[Any, ...]] = field(default_factory=list)
    is_closed: bool = False

    @property
    def acknowledged(self) -> bool:
        return any(call[0] == "basic_ack" for call in self.calls)

    # pika (blocking) and aiormq (async) name their settlement methods alike.
    def basic_ack(self, delivery_tag: int = 0, multiple: bool = False) -> Any:
        return self._note("basic_ack", delivery_tag)

    def basic_nack(self, delivery_tag: int = 0, multiple: bool = False, requeue: bool = True):
        return self._note("basic_nack", delivery_tag, requeue)

    def basic_reject(self, delivery_tag: int = 0, requeue: bool = True) -> Any:
        return self._note("basic_reject", delivery_tag, requeue)

    def _note(self, *call: Any) -> Any:
        self.calls.append(call)
        return _Done()


class _Done:
    """Both a finished call (pika ignores the result) and an awaitable (aiormq awaits it)."""

    def __await__(self):
        return iter(())


def aio_pika_message(body: Any, headers: dict[str, str], destination: str) -> Any:
    """An ``aio_pika.IncomingMessage`` delivered from exchange ``destination``.

    ``message.channel`` is a :class:`SettlementLog`: ``async with message.process()``
    acknowledges into it.
    """
    import aio_pika
    from aiormq.abc import DeliveredMessage
    from pamqp import commands
    from pamqp.header import ContentHeader

    import eventscope.instrumentation.brokers.aio_pika  # noqa: F401  (the decorator knows it)

    payload = wire_body(body)
    properties = commands.Basic.Properties(
        headers=dict(headers),
        content_type=None if isinstance(body, bytes | str) else "application/json",
        timestamp=datetime.now(UTC).replace(microsecond=0),
    )
    deliver = commands.Basic.Deliver(
        consumer_tag="eventscope-contract",
        delivery_tag=1,
        redelivered=False,
        exchange=destination,
        routing_key="",
    )
    delivered = DeliveredMessage(
        delivery=deliver,
        header=ContentHeader(properties=properties, body_size=len(payload)),
        body=payload,
        channel=SettlementLog(),  # type: ignore[arg-type]
    )
    return aio_pika.IncomingMessage(delivered, no_ack=False)


def pika_delivery(body: Any, headers: dict[str, str], destination: str) -> Any:
    """pika's four callback arguments as one ``Delivery`` (``channel``, ``method``,
    ``properties``, ``body``); ``delivery.channel`` is a :class:`SettlementLog`.

    Call a pika callback with them:
    ``expected.deliver(lambda d: on_message(d.channel, d.method, d.properties, d.body),
    build=pika_delivery)``.
    """
    import pika

    from eventscope.instrumentation.brokers.rabbitmq import Delivery

    method = pika.spec.Basic.Deliver(
        consumer_tag="eventscope-contract",
        delivery_tag=1,
        redelivered=False,
        exchange=destination,
        routing_key="",
    )
    properties = pika.BasicProperties(headers=dict(headers), timestamp=_now())
    return Delivery(SettlementLog(), method, properties, wire_body(body))


def kafka_message(body: Any, headers: dict[str, str], destination: str) -> Any:
    """A ``confluent_kafka.Message`` on topic ``destination``, partition 0, offset 0."""
    import confluent_kafka

    import eventscope.instrumentation.brokers.kafka  # noqa: F401  (the decorator knows it)

    return confluent_kafka.Message(
        topic=destination,
        partition=0,
        offset=0,
        value=wire_body(body),
        headers=[(k, v.encode()) for k, v in headers.items()],
        timestamp=(confluent_kafka.TIMESTAMP_CREATE_TIME, _now() * 1000),
    )


def aiokafka_record(body: Any, headers: dict[str, str], destination: str) -> Any:
    """An ``aiokafka.structs.ConsumerRecord`` on topic ``destination``, partition 0."""
    from aiokafka.structs import ConsumerRecord

    import eventscope.instrumentation.brokers.aiokafka  # noqa: F401  (the decorator knows it)

    value = wire_body(body)
    return ConsumerRecord(
        topic=destination,
        partition=0,
        offset=0,
        timestamp=_now() * 1000,
        timestamp_type=0,
        key=None,
        value=value,
        checksum=None,
        serialized_key_size=-1,
        serialized_value_size=len(value),
        headers=tuple((k, v.encode()) for k, v in headers.items()),
    )


def nats_message(body: Any, headers: dict[str, str], destination: str) -> Any:
    """A core ``nats.aio.msg.Msg`` on subject ``destination`` (no reply subject)."""
    from nats.aio.msg import Msg

    import eventscope.instrumentation.brokers.nats  # noqa: F401  (the decorator knows it)

    return Msg(_client=None, subject=destination, data=wire_body(body), headers=dict(headers))


def sqs_message(body: Any, headers: dict[str, str], destination: str) -> dict[str, Any]:
    """A message as boto3's ``receive_message`` returns it: headers as string attributes."""
    payload = wire_body(body).decode()
    return {
        "MessageId": "eventscope-contract",
        "ReceiptHandle": "eventscope-contract",
        "Body": payload,
        "Attributes": {"ApproximateReceiveCount": "1"},
        "MessageAttributes": {
            k: {"DataType": "String", "StringValue": v} for k, v in headers.items()
        },
    }


def redis_entry(
    body: Any, headers: dict[str, str], destination: str, *, body_field: str = "body"
) -> tuple[bytes, dict[bytes, bytes]]:
    """A Redis Streams entry ``(id, fields)`` as redis-py returns it: the headers are
    fields, the body is the ``body_field`` field (``functools.partial`` to rename it)."""
    fields = {k.encode(): v.encode() for k, v in headers.items()}
    fields[body_field.encode()] = wire_body(body)
    return (f"{_now() * 1000}-0".encode(), fields)


def _now() -> int:
    return int(time.time())


BUILDERS = {
    "aio-pika": aio_pika_message,
    "pika": pika_delivery,
    "confluent-kafka": kafka_message,
    "aiokafka": aiokafka_record,
    "nats-py": nats_message,
    "boto3 (SQS)": sqs_message,
    "redis-py (Streams)": redis_entry,
}
"""Client library → its builder (the docs' table, and what the tests go through)."""
