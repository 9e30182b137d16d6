"""Delayed RabbitMQ retries: a delay queue per wait, dead-lettering back to the queue.

``basic.nack(requeue=True)`` puts a failed message straight back at the head of its
queue, so a handler that fails because a dependency is down burns every attempt in
milliseconds.  The standard RabbitMQ answer needs no plugin: publish the message to a
*delay queue* that nobody consumes, whose messages expire after the wait (per-queue
``x-message-ttl``) and are dead-lettered through the default exchange straight back to
the consumer's own queue (``x-dead-letter-routing-key``) — not to the original
exchange, which would hand the retry to every other queue bound to it.  Then the
original delivery is acknowledged.

One delay queue per wait (``<queue>.retry.<ms>ms``), because RabbitMQ expires messages
only at the head of a queue: a 30 s message queued before a 1 s one would hold it back.
Exponential backoff therefore uses one queue per step, a handful in practice.  Each is
declared with ``x-expires`` longer than its wait and redeclared on every retry, so
RabbitMQ deletes the delay queues of consumers that stopped retrying.

What the broker forgets on the way, headers carry: the returning message is a new
delivery (``x-delivery-count`` starts again, its exchange is ``""`` and its routing
key the queue's name), so the copy records the attempt that comes next, the original
destination and routing key, and the queue it returns to.  A delivery is read as a
returned retry only when it arrives from the default exchange with exactly that queue
as its routing key, so the headers mean nothing once the message is dead-lettered
elsewhere.

The delayed-message exchange plugin (``x-delayed-message``) would avoid the delay
queues, but declaring an exchange of a type the broker lacks closes the whole
connection, and the plugin keeps delayed messages on one node only; the TTL pattern
works on every RabbitMQ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import amqp

RETRY_QUEUE = "eventscope-retry-queue"
"""The queue a delayed retry returns to."""
ORIGINAL_ROUTING_KEY = "eventscope-original-routing-key"
EXPIRY_MARGIN_MS = 60_000
"""How much longer than its wait an idle delay queue lives before RabbitMQ deletes it."""


@dataclass(frozen=True, slots=True)
class RetryDelay:
    """How long a retry waits: ``initial`` seconds after the first failed attempt,
    ``factor`` times longer after each further one, never more than ``maximum``.

    ``RetryDelay(5)`` waits 5 s every time; ``RetryDelay(1, factor=2, maximum=60)``
    waits 1, 2, 4, ... 60 s.
    """

    initial: float
    factor: float = 1.0
    maximum: float | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.initial, int | float) and math.isfinite(self.initial)):
            raise ValueError(f"retry delay must be a number of seconds, not {self.initial!r}")
        if self.initial * 1000 < 1:
            raise ValueError(f"retry delay must be at least 1 ms, not {self.initial!r} s")
        if not (isinstance(self.factor, int | float) and 1 <= self.factor < math.inf):
            raise ValueError(f"retry delay factor must be 1 or more, not {self.factor!r}")
        if self.maximum is not None and not self.initial <= self.maximum < math.inf:
            raise ValueError(
                f"retry delay maximum ({self.maximum!r} s) must be at least the initial "
                f"delay ({self.initial!r} s)"
            )

    def milliseconds(self, failed_attempt: int) -> int:
        """The wait after attempt ``failed_attempt`` (1-based) failed."""
        ceiling = math.inf if self.maximum is None else self.maximum
        exponent = min(max(failed_attempt - 1, 0), 1000)  # beyond that the ceiling rules
        try:
            seconds = min(self.initial * self.factor**exponent, ceiling)
        except OverflowError:
            seconds = ceiling
        if math.isinf(seconds):  # no maximum: RabbitMQ's TTL is a 32-bit count of ms
            seconds = 2**31 / 1000
        return max(1, round(seconds * 1000))


def retry_delay(value: float | RetryDelay | None) -> RetryDelay | None:
    """``retry_delay=`` as the consumers accept it: seconds, a :class:`RetryDelay` or None."""
    if value is None or isinstance(value, RetryDelay):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"retry_delay must be seconds or a RetryDelay, not {value!r}")
    return RetryDelay(value)


def delay_queue(queue: str, milliseconds: int) -> str:
    return f"{queue}.retry.{milliseconds}ms"


def delay_queue_arguments(queue: str, milliseconds: int) -> dict[str, Any]:
    """Arguments of the delay queue that sends expired messages back to ``queue``."""
    return {
        "x-message-ttl": milliseconds,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": queue,
        "x-expires": milliseconds + max(milliseconds, EXPIRY_MARGIN_MS),
    }


def returned(
    headers: Mapping[str, Any] | None, exchange: str | None, routing_key: str | None
) -> bool:
    """Whether this delivery is a delayed retry back on the queue it failed on."""
    return (
        bool(headers)
        and not exchange
        and bool(routing_key)
        and _text(headers.get(RETRY_QUEUE)) == routing_key  # type: ignore[union-attr]
    )


def destination(
    headers: Mapping[str, Any] | None, exchange: str | None, routing_key: str | None
) -> str:
    """The destination label: the original one for a returned retry."""
    if returned(headers, exchange, routing_key):
        original = _text(headers.get(h.ORIGINAL_DESTINATION))  # type: ignore[union-attr]
        if original is not None:
            return original
    return amqp.destination(exchange, routing_key)


def original_routing_key(
    headers: Mapping[str, Any] | None, exchange: str | None, key: str | None
) -> str | None:
    """The routing key the message was first published with."""
    if returned(headers, exchange, key):
        original = _text(headers.get(ORIGINAL_ROUTING_KEY))  # type: ignore[union-attr]
        if original is not None:
            return original
    return key


def process_destination(
    headers: Mapping[str, Any] | None, exchange: str, routing_key: str, queue: str | None
) -> str:
    """A delivery's span destination (:func:`amqp.process_destination`), naming where a
    delayed retry was first published rather than the delay queue it came back through."""
    if not returned(headers, exchange, routing_key):
        return amqp.process_destination(exchange, routing_key, queue)
    key = original_routing_key(headers, exchange, routing_key)
    first = destination(headers, exchange, routing_key)
    return amqp.process_destination(first if first != key else "", key, queue)


def earlier_attempts(
    headers: Mapping[str, Any] | None, exchange: str | None, routing_key: str | None
) -> int:
    """Attempts made before the message went through a delay queue (0 if it did not)."""
    if not returned(headers, exchange, routing_key):
        return 0
    value = _text(headers.get(h.ATTEMPT))  # type: ignore[union-attr]
    if value is None or not value.isdigit() or len(value) > 6 or int(value) < 2:
        return 0
    return int(value) - 1


def retry_headers(
    headers: Mapping[str, Any] | None,
    *,
    exchange: str | None,
    routing_key: str | None,
    queue: str,
    failed_attempt: int,
) -> dict[str, Any]:
    """The headers of the copy sent to the delay queue."""
    copy = dict(headers or {})
    copy[h.ATTEMPT] = str(failed_attempt + 1)
    copy[h.ORIGINAL_DESTINATION] = destination(headers, exchange, routing_key)
    original_key = original_routing_key(headers, exchange, routing_key)
    if original_key:
        copy[ORIGINAL_ROUTING_KEY] = original_key
    copy[RETRY_QUEUE] = queue
    return copy


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None
