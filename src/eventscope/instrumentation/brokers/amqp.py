"""What pika and aio-pika share: how an AMQP 0-9-1 delivery is described and counted.

Destination.  The messaging conventions name a RabbitMQ destination by its exchange;
for the default exchange (``""``), where the routing key *is* the queue name, the queue
name is reported instead of an empty label that would merge every such queue.

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

from eventscope.instrumentation import headers as h

DELIVERY_COUNT = "x-delivery-count"
ROUTING_KEY = "messaging.rabbitmq.destination.routing_key"
DELIVERY_TAG = "messaging.rabbitmq.message.delivery_tag"
REMEMBERED_RETRIES = 10_000


def destination(exchange: str | None, routing_key: str | None) -> str:
    return exchange or routing_key or ""


def attributes(routing_key: str | None, delivery_tag: int | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if routing_key:
        found[ROUTING_KEY] = routing_key
    if delivery_tag is not None:
        found[DELIVERY_TAG] = delivery_tag
    return found


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
