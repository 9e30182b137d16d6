"""A broker client's sending side that records into a :class:`MessageCapture`.

Provider verification checks what the real producer code sends.  Code written against
a client library publishes through that client's objects (an aio-pika exchange, a
confluent-kafka ``Producer``), so a ``@provides`` function hands the code one of these
instead: same method names and arguments, and every message goes to the capture (body,
headers as the ``@producer`` decorator or eventscope's instrumentation wrote them,
destination) rather than to a broker.  Wrap it exactly as production does
(``aio_pika.instrument_exchange(capture_exchange(capture, "orders"))``).
"""

from __future__ import annotations

import json
from typing import Any

from eventscope.contracts.capture import MessageCapture
from eventscope.instrumentation.brokers.amqp import destination


class CapturingExchange:
    """Stands in for an aio-pika ``Exchange``: ``await exchange.publish(message, key)``."""

    def __init__(self, capture: MessageCapture, name: str) -> None:
        self.capture = capture
        self.name = name

    async def publish(self, message: Any, routing_key: str = "", **_: Any) -> None:
        content_type = message.content_type or "application/json"
        self.capture.send(
            destination(self.name, routing_key),
            _decoded(message.body, content_type),
            headers=dict(message.headers or {}),
            content_type=content_type,
        )


class CapturingChannel:
    """Stands in for a pika channel: ``channel.basic_publish(exchange, routing_key, body,
    properties)``."""

    def __init__(self, capture: MessageCapture) -> None:
        self.capture = capture

    def basic_publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: Any = None,
        mandatory: bool = False,
    ) -> None:
        headers = dict(getattr(properties, "headers", None) or {})
        content_type = getattr(properties, "content_type", None) or "application/json"
        where = destination(exchange, routing_key)
        self.capture.send(
            where, _decoded(body, content_type), headers=headers, content_type=content_type
        )


class CapturingProducer:
    """Stands in for a confluent-kafka ``Producer`` (``produce``, ``poll``, ``flush``)."""

    def __init__(self, capture: MessageCapture) -> None:
        self.capture = capture

    def produce(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        *_: Any,
        headers: Any = None,
        **__: Any,
    ) -> None:
        self.capture.send(topic, _decoded(value, "application/json"), headers=headers, key=key)

    def poll(self, timeout: float | None = None) -> int:
        return 0

    def flush(self, timeout: float | None = None) -> int:
        return 0


def _decoded(body: Any, content_type: str) -> Any:
    """A JSON body as its value, so failure reports show it as JSON rather than bytes."""
    if isinstance(body, bytes | bytearray | str) and "json" in content_type:
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def capture_exchange(capture: MessageCapture, name: str) -> CapturingExchange:
    """An aio-pika exchange called ``name`` whose publishes are captured."""
    return CapturingExchange(capture, name)


def capture_channel(capture: MessageCapture) -> CapturingChannel:
    """A pika channel whose ``basic_publish`` calls are captured."""
    return CapturingChannel(capture)


def capture_producer(capture: MessageCapture) -> CapturingProducer:
    """A confluent-kafka producer whose ``produce`` calls are captured."""
    return CapturingProducer(capture)
