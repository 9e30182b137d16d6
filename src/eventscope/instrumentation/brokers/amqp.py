"""What pika and aio-pika share: how an AMQP 0-9-1 delivery is described and counted.

Destination.  The metrics' ``messaging.destination.name`` is the exchange; for the
default exchange (``""``), where the routing key *is* the queue name, the queue name is
reported instead of an empty label that would merge every such queue.  Spans follow
semconv 1.44 to the letter (``{exchange}:{routing key}`` on a publish,
``{exchange}:{routing key}:{queue}`` on a delivery): routing keys are not known to be
few, and the conventions give a metric the destination name only when it is.

Attempts.  Retries are plain ``basic.nack(requeue=True)``: the message goes back to its
queue with the same exchange, routing key and headers, so traces and labels stay put.
Quorum queues count deliveries themselves and say so in ``x-delivery-count`` (0 on the
first delivery); that count is the attempt number.  Classic queues count nothing — a
redelivery only has ``redelivered`` set — so eventscope keeps, per consumer, how many
times it asked for each message to be redelivered (bounded; within this process).
Use quorum queues where retries must be counted across consumer restarts.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from eventscope.catalog import Attr
from eventscope.instrumentation import headers as h

DELIVERY_COUNT = "x-delivery-count"
ROUTING_KEY = "messaging.rabbitmq.destination.routing_key"
DELIVERY_TAG = "messaging.rabbitmq.message.delivery_tag"
REMEMBERED_RETRIES = 10_000


DEFAULT_EXCHANGE = "amq.default"


def destination(exchange: str | None, routing_key: str | None) -> str:
    """The metrics' destination label (bounded: no routing key beside an exchange)."""
    return exchange or routing_key or ""


def send_destination(exchange: str | None, routing_key: str | None) -> str:
    """A publish span's destination, semconv 1.44: ``{exchange}:{routing key}``, the one
    that is not empty, or ``amq.default`` (the default exchange and no routing key)."""
    if exchange and routing_key:
        return f"{exchange}:{routing_key}"
    return exchange or routing_key or DEFAULT_EXCHANGE


def process_destination(exchange: str | None, routing_key: str | None, queue: str | None) -> str:
    """A process span's destination, semconv 1.44: ``{exchange}:{routing key}:{queue}``
    without the empty parts, and the routing key once when it is the queue's name."""
    if queue == routing_key:
        queue = None
    if exchange and routing_key:
        return f"{exchange}:{routing_key}:{queue}" if queue else f"{exchange}:{routing_key}"
    first = exchange or routing_key
    if first and queue:
        return f"{first}:{queue}"
    return first or queue or DEFAULT_EXCHANGE


def attributes(
    routing_key: str | None,
    delivery_tag: int | None,
    message_id: str | None = None,
    correlation_id: str | None = None,
) -> dict[str, Any]:
    """A delivery's own span attributes; the AMQP ``message_id`` is the broker-level
    message id and ``correlation_id`` the conversation id (semconv 1.44)."""
    found: dict[str, Any] = {}
    if routing_key:
        found[ROUTING_KEY] = routing_key
    if delivery_tag is not None:
        found[DELIVERY_TAG] = delivery_tag
    if message_id:
        found[Attr.MESSAGE_ID] = message_id
    if correlation_id:
        found[Attr.CONVERSATION_ID] = correlation_id
    return found


def describe_publish(
    span: Any,
    routing_key: str | None,
    properties: Any,
    headers: Mapping[str, Any],
) -> None:
    """A publish span's AMQP attributes: the routing key, and the properties' message
    id (then the message's ``messaging.message.id``; eventscope's own id moves to
    ``eventscope.event.id``) and correlation id (the conversation id)."""
    message_id, correlation_id = properties.message_id, properties.correlation_id
    if not (routing_key or message_id or correlation_id) or not span.is_recording():
        return
    found = attributes(routing_key, None, message_id, correlation_id)
    event_id = headers.get(h.EVENT_ID)
    if message_id and event_id is not None and event_id != message_id:
        found[Attr.EVENT_ID] = event_id
    span.set_attributes(found)


class RetryCounts:
    """Redeliveries eventscope asked for on queues that do not count them (classic)."""

    def __init__(self, size: int = REMEMBERED_RETRIES) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._counts: OrderedDict[tuple[str, str], int] = OrderedDict()

    def attempt(
        self, headers: Mapping[str, Any] | None, redelivered: bool, consumer_tag: str, body: bytes
    ) -> int:
        """The 1-based attempt of this delivery."""
        count = headers.get(DELIVERY_COUNT) if headers else None
        if isinstance(count, int):
            return count + 1
        if not redelivered:
            return 1
        with self._lock:
            # Redelivered but not by us (a consumer crashed): at least the second attempt.
            return self._counts.get(_key(headers, consumer_tag, body), 1) + 1

    def retried(
        self, headers: Mapping[str, Any] | None, consumer_tag: str, body: bytes, attempt: int
    ) -> None:
        """Remember that ``attempt`` failed and a redelivery was requested."""
        if headers and isinstance(headers.get(DELIVERY_COUNT), int):
            return
        with self._lock:
            key = _key(headers, consumer_tag, body)
            self._counts[key] = attempt
            self._counts.move_to_end(key)
            if len(self._counts) > self._size:
                self._counts.popitem(last=False)

    def forget(self, headers: Mapping[str, Any] | None, consumer_tag: str, body: bytes) -> None:
        """The message is done (handled or dead-lettered)."""
        if not self._counts:  # nothing retried: the usual case, no lock, no key
            return
        if headers and isinstance(headers.get(DELIVERY_COUNT), int):
            return
        with self._lock:
            self._counts.pop(_key(headers, consumer_tag, body), None)


def _key(headers: Mapping[str, Any] | None, consumer_tag: str, body: bytes) -> tuple[str, str]:
    event_id = headers.get(h.EVENT_ID) if headers else None
    if isinstance(event_id, bytes):
        event_id = event_id.decode("utf-8", "replace")
    identity = event_id if isinstance(event_id, str) else f"body:{hash(body)}"
    return consumer_tag or "", identity


retry_counts = RetryCounts()
