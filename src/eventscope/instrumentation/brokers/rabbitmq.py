"""One-line instrumentation for pika, RabbitMQ's Python client (blocking and async channels).

```python
channel = rabbitmq.instrument_channel(connection.channel(), max_attempts=3)
channel.basic_publish("orders", "eu", body)        # a PRODUCER span, trace headers added
channel.basic_consume("billing", on_message)       # a CONSUMER span per delivery
```

pika hands a consumer four arguments ``(channel, method, properties, body)`` rather
than one message object, so eventscope bundles them into a :class:`Delivery` — the
object its adapter recognises — and calls the callback with the four arguments as
before.  The callback keeps acknowledging successes itself; eventscope carries out what
the decorator decided otherwise: a retry is ``basic_nack(requeue=True)``, a dead-letter
``basic_nack(requeue=False)``, which RabbitMQ routes to the queue's dead-letter exchange
(``x-dead-letter-exchange``; without one the message is dropped).  With a
``retry_delay`` a retry waits in a delay queue instead (see
:mod:`~eventscope.instrumentation.brokers.amqp_retry`).  A delivery skipped
as a duplicate is acknowledged, since the callback never ran.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import pika
from opentelemetry import trace

from eventscope.catalog import RABBITMQ, Outcome
from eventscope.instrumentation.brokers import amqp, amqp_retry, settlement, sources
from eventscope.instrumentation.brokers.amqp_retry import RetryDelay
from eventscope.instrumentation.carriers import MappingCarrier
from eventscope.instrumentation.contrib import suppressed
from eventscope.instrumentation.messages import register_message_type
from eventscope.instrumentation.producer_decorator import producer

_publishing: ContextVar[bool] = ContextVar("eventscope_pika_publishing", default=False)


def publishing() -> bool:
    """Whether an instrumented publish is under way here (its inner call to the channel
    must not be traced a second time)."""
    return _publishing.get()


class Delivery:
    """One pika delivery as a single object (what the adapter reads and settles)."""

    __slots__ = ("body", "channel", "method", "properties")

    def __init__(
        self, channel: Any, method: Any, properties: pika.BasicProperties, body: bytes
    ) -> None:
        self.channel = channel
        self.method = method
        self.properties = properties
        self.body = body

    @property
    def attempt(self) -> int:
        method, headers = self.method, self.properties.headers
        earlier = amqp_retry.earlier_attempts(headers, method.exchange, method.routing_key)
        return earlier + amqp.retry_counts.attempt(
            headers, method.redelivered, method.consumer_tag, self.body
        )


class _DeliveryAdapter:
    system = RABBITMQ.name
    carrier = MappingCarrier

    def headers(self, delivery: Delivery) -> Any:
        return delivery.properties.headers

    def destination(self, delivery: Delivery) -> str:
        method = delivery.method
        return amqp_retry.destination(
            delivery.properties.headers, method.exchange, method.routing_key
        )

    def attempt(self, delivery: Delivery) -> int:
        return delivery.attempt

    def attributes(self, delivery: Delivery) -> dict[str, Any]:
        method, properties = delivery.method, delivery.properties
        key = amqp_retry.original_routing_key(
            properties.headers, method.exchange, method.routing_key
        )
        return amqp.attributes(
            key, method.delivery_tag, properties.message_id, properties.correlation_id
        )

    def source(self, delivery: Delivery) -> tuple[tuple[str, Any], ...]:
        return connection_source(getattr(delivery.channel, "connection", None))

    def span_destination(self, delivery: Delivery, queue: str | None) -> str:
        method = delivery.method
        return amqp_retry.process_destination(
            delivery.properties.headers, method.exchange, method.routing_key, queue
        )

    def settle(self, delivery: Delivery, outcome: Outcome, reason: str | None) -> bool:
        return settlement.record(delivery, outcome, reason)


def _read_connection(connection: Any) -> tuple[tuple[str, Any], ...]:
    # pika's Connection has the parameters; a BlockingConnection keeps its Connection.
    params = getattr(connection, "params", None) or connection._impl.params
    return sources.server(params.host, params.port)


connection_source = sources.ConnectionSources(_read_connection)
"""``server.address``/``server.port`` of a pika connection (blocking or not), read once."""

register_message_type(Delivery, _DeliveryAdapter())


def carry_out(
    delivery: Delivery,
    decision: settlement.Decision | None,
    *,
    ack: bool,
    delay: RetryDelay | None = None,
    queue: str | None = None,
) -> None:
    """Settle ``delivery`` on its channel: nack for a retry or dead-letter, else ack if asked.

    With a ``delay`` and the ``queue`` it was consumed from, a retry goes through a delay
    queue back to ``queue`` instead of being requeued at once.
    """
    method, headers = delivery.method, delivery.properties.headers
    tag = method.delivery_tag
    if decision is not None and decision.outcome is Outcome.RETRY and delay and queue:
        _retry_later(delivery, delay, queue)
        amqp.retry_counts.forget(headers, method.consumer_tag, delivery.body)
        return
    if decision is not None and decision.outcome is Outcome.RETRY:
        amqp.retry_counts.retried(headers, method.consumer_tag, delivery.body, delivery.attempt)
        delivery.channel.basic_nack(delivery_tag=tag, requeue=True)
        return
    amqp.retry_counts.forget(headers, method.consumer_tag, delivery.body)
    if decision is not None and decision.outcome is Outcome.DEAD_LETTER:
        delivery.channel.basic_nack(delivery_tag=tag, requeue=False)
    elif ack:
        delivery.channel.basic_ack(delivery_tag=tag)


def _retry_later(delivery: Delivery, delay: RetryDelay, queue: str) -> None:
    """Publish a copy to the delay queue for this attempt, then ack the original."""
    method, channel = delivery.method, delivery.channel
    failed = delivery.attempt
    milliseconds = delay.milliseconds(failed)
    delay_queue = amqp_retry.delay_queue(queue, milliseconds)
    channel.queue_declare(
        queue=delay_queue,
        durable=True,
        arguments=amqp_retry.delay_queue_arguments(queue, milliseconds),
    )
    properties = copy.copy(delivery.properties)
    properties.expiration = None  # the delay queue's TTL decides
    properties.headers = amqp_retry.retry_headers(
        delivery.properties.headers,
        exchange=method.exchange,
        routing_key=method.routing_key,
        queue=queue,
        failed_attempt=failed,
    )
    token = _publishing.set(True)  # the copy keeps its producer's trace headers
    try:
        channel.basic_publish("", delay_queue, delivery.body, properties)
    finally:
        _publishing.reset(token)
    channel.basic_ack(delivery_tag=method.delivery_tag)


class PikaConsumer:
    """A pika ``on_message_callback`` under ``@consumer``; call it as pika does."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        group: str | None,
        max_attempts: int | None,
        deduplicate: int,
        retry_delay: float | RetryDelay | None = None,
        queue: str | None = None,
        auto_ack: bool = False,
    ) -> None:
        self.fn = fn
        self.group = group
        self.max_attempts = max_attempts
        self.deduplicate = deduplicate
        self.retry_delay = amqp_retry.retry_delay(retry_delay)
        self.queue = queue
        self.auto_ack = auto_ack
        self._handle = settlement.handler(
            fn,
            _call_pika,
            group=group,
            system=RABBITMQ.name,
            max_attempts=max_attempts,
            deduplicate=deduplicate,
            queue=queue,
        )

    def consuming(self, queue: str, *, auto_ack: bool) -> PikaConsumer:
        """This consumer as ``basic_consume(queue, ..., auto_ack=...)`` uses it."""
        if auto_ack == self.auto_ack and self.group is not None and self.queue == queue:
            return self
        return PikaConsumer(
            self.fn,
            group=self.group or queue,
            max_attempts=self.max_attempts,
            deduplicate=self.deduplicate,
            retry_delay=self.retry_delay,
            queue=queue,
            auto_ack=auto_ack,
        )

    def __call__(
        self, channel: Any, method: Any, properties: pika.BasicProperties, body: bytes
    ) -> None:
        delivery = Delivery(channel, method, properties, body)
        with settlement.delivering() as ledger:
            self._handle(delivery)
        if self.auto_ack:
            return  # the broker considered it delivered already; nothing to settle
        carry_out(
            delivery,
            ledger.decision(delivery, self.max_attempts),
            ack=not ledger.handled(delivery),
            delay=self.retry_delay,
            queue=self.queue or self.group,
        )


def _call_pika(fn: Callable[..., Any], delivery: Delivery, extra: dict[str, Any]) -> Any:
    return fn(delivery.channel, delivery.method, delivery.properties, delivery.body, **extra)


def consumer(
    group: str | None = None,
    *,
    max_attempts: int | None = None,
    deduplicate: int = 0,
    retry_delay: float | RetryDelay | None = None,
) -> Callable[[Callable[..., Any]], PikaConsumer]:
    """Instrument a pika callback ``fn(channel, method, properties, body[, ctx])``.

    ``group`` defaults to the queue name when consumed through an instrumented channel,
    else to the function's name.  ``retry_delay`` (seconds or a :class:`RetryDelay`)
    makes retries wait in a delay queue that returns them to the queue consumed from
    (``group`` when the channel is not instrumented); without it they are requeued at once.
    """
    delay = amqp_retry.retry_delay(retry_delay)

    def decorate(fn: Callable[..., Any]) -> PikaConsumer:
        return PikaConsumer(
            fn,
            group=group,
            max_attempts=max_attempts,
            deduplicate=deduplicate,
            retry_delay=delay,
        )

    return decorate


def _publish_destination(
    channel: Any, exchange: str, routing_key: str, *args: Any, **kwargs: Any
) -> str:
    return amqp.destination(exchange, routing_key)


def _publish_span_destination(
    channel: Any, exchange: str, routing_key: str, *args: Any, **kwargs: Any
) -> str:
    return amqp.send_destination(exchange, routing_key)


def _publish_source(channel: Any, *args: Any, **kwargs: Any) -> tuple[tuple[str, Any], ...]:
    return connection_source(getattr(channel, "connection", None))


@producer(
    _publish_destination,
    system=RABBITMQ.name,
    source=_publish_source,
    span_destination=_publish_span_destination,
)
def _publish(
    channel: Any,
    exchange: str,
    routing_key: str,
    body: bytes,
    properties: pika.BasicProperties,
    mandatory: bool,
    headers: dict[str, Any],
) -> Any:
    properties.headers = headers
    amqp.describe_publish(trace.get_current_span(), routing_key, properties, headers)
    # A contrib PikaInstrumentor on this channel stays out: eventscope's span is the one.
    return suppressed(channel.basic_publish, exchange, routing_key, body, properties, mandatory)


def publish_properties(properties: pika.BasicProperties | None) -> pika.BasicProperties:
    """A copy to fill in (callers reuse theirs), stamped with the publish time.

    The AMQP ``timestamp`` lets the management API report the age of a queue's head
    message, which the lag collector turns into lag in seconds.
    """
    properties = copy.copy(properties) if properties is not None else pika.BasicProperties()
    if properties.timestamp is None:
        properties.timestamp = int(time.time())
    return properties


class InstrumentedChannel:
    """A pika channel whose publishes and consumer callbacks are instrumented.

    Everything else is the wrapped channel's own attribute.
    """

    def __init__(
        self,
        channel: Any,
        *,
        max_attempts: int | None = None,
        deduplicate: int = 0,
        retry_delay: float | RetryDelay | None = None,
    ) -> None:
        self.channel = channel
        self.max_attempts = max_attempts
        self.deduplicate = deduplicate
        self.retry_delay = amqp_retry.retry_delay(retry_delay)

    def basic_publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        properties: pika.BasicProperties | None = None,
        mandatory: bool = False,
    ) -> Any:
        properties = publish_properties(properties)
        headers = dict(properties.headers or {})
        token = _publishing.set(True)
        try:
            return _publish(
                self.channel, exchange, routing_key, body, properties, mandatory, headers
            )
        finally:
            _publishing.reset(token)

    def basic_consume(
        self,
        queue: str,
        on_message_callback: Callable[..., Any],
        auto_ack: bool = False,
        **kwargs: Any,
    ) -> Any:
        """``basic_consume`` with the callback instrumented (group: the queue name)."""
        callback = on_message_callback
        if not isinstance(callback, PikaConsumer):
            callback = PikaConsumer(
                callback,
                group=queue,
                max_attempts=self.max_attempts,
                deduplicate=self.deduplicate,
                retry_delay=self.retry_delay,
            )
        callback = callback.consuming(queue, auto_ack=auto_ack)
        return self.channel.basic_consume(queue, callback, auto_ack=auto_ack, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.channel, name)


def instrument_channel(
    channel: Any,
    *,
    max_attempts: int | None = None,
    deduplicate: int = 0,
    retry_delay: float | RetryDelay | None = None,
) -> InstrumentedChannel:
    """Wrap a pika channel (``BlockingChannel`` or ``Channel``): the one line to add.

    ``max_attempts``, ``deduplicate`` and ``retry_delay`` apply to callbacks consumed
    through it that are not already decorated with :func:`consumer`.
    """
    return InstrumentedChannel(
        channel, max_attempts=max_attempts, deduplicate=deduplicate, retry_delay=retry_delay
    )
