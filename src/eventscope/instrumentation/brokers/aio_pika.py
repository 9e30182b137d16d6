"""One-line instrumentation for aio-pika, the asyncio RabbitMQ client.

```python
exchange = aio_pika.instrument_exchange(await channel.declare_exchange("orders", "fanout"))
await exchange.publish(Message(body), routing_key="eu")          # PRODUCER span + headers

queue = aio_pika.instrument_queue(await channel.declare_queue("billing"), max_attempts=3)
await queue.consume(on_message)                                   # CONSUMER span per message

@aio_pika.consumer("billing", max_attempts=3)                     # or for a queue iterator:
async def handle(message: AbstractIncomingMessage) -> None: ...
async with queue.iterator() as messages:
    async for message in messages:
        await handle(message)
```

An instrumented handler settles its message afterwards, as ``message.process()``
would: ``ack()`` when handled (or skipped as a duplicate), ``nack(requeue=True)`` for a
retry, ``reject(requeue=False)`` — to the queue's dead-letter exchange — for a
dead-letter.  With a ``retry_delay`` a retry waits in a delay queue instead (see
:mod:`~eventscope.instrumentation.brokers.amqp_retry`).  A message the handler already
settled itself is left alone.  A plain
``@consumer`` also recognises aio-pika's ``IncomingMessage`` (headers, exchange, routing
key, attempt), but then its exception is left to the application's own handling.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractMessage
from opentelemetry import trace

from eventscope.catalog import RABBITMQ, Outcome
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import amqp, amqp_retry, settlement, sources
from eventscope.instrumentation.brokers.amqp_retry import RetryDelay
from eventscope.instrumentation.carriers import MappingCarrier
from eventscope.instrumentation.contrib import suppressed_async
from eventscope.instrumentation.messages import register_message_type
from eventscope.instrumentation.producer_decorator import producer


class _IncomingAdapter:
    system = RABBITMQ.name
    carrier = MappingCarrier

    def headers(self, message: AbstractIncomingMessage) -> Any:
        return message.headers

    def destination(self, message: AbstractIncomingMessage) -> str:
        return amqp_retry.destination(message.headers, message.exchange, message.routing_key)

    def attempt(self, message: AbstractIncomingMessage) -> int:
        return _attempt(message)

    def attributes(self, message: AbstractIncomingMessage) -> dict[str, Any]:
        key = amqp_retry.original_routing_key(
            message.headers, message.exchange, message.routing_key
        )
        return amqp.attributes(
            key, message.delivery_tag, message.message_id, message.correlation_id
        )

    def source(self, message: AbstractIncomingMessage) -> tuple[tuple[str, Any], ...]:
        return channel_source(message.channel)

    def span_destination(self, message: AbstractIncomingMessage, queue: str | None) -> str:
        return amqp_retry.process_destination(
            message.headers, message.exchange or "", message.routing_key or "", queue
        )

    def settle(
        self, message: AbstractIncomingMessage, outcome: Outcome, reason: str | None
    ) -> bool:
        return settlement.record(message, outcome, reason)


def _read_channel(channel: Any) -> tuple[tuple[str, Any], ...]:
    # aio-pika's channels keep their connection private since aiormq 9.1.
    connection = getattr(channel, "_connection", None) or channel.connection
    url = getattr(connection, "url", None) or connection.connection.url
    return sources.server(url.host, url.port or 5672)


channel_source = sources.ConnectionSources(_read_channel)
"""``server.address``/``server.port`` of an aio-pika (or aiormq) channel, read once."""

register_message_type(aio_pika.IncomingMessage, _IncomingAdapter())


def _attempt(message: AbstractIncomingMessage) -> int:
    headers = message.headers
    earlier = amqp_retry.earlier_attempts(headers, message.exchange, message.routing_key)
    return earlier + amqp.retry_counts.attempt(
        headers, bool(message.redelivered), message.consumer_tag or "", message.body
    )


async def carry_out(
    message: AbstractIncomingMessage,
    decision: settlement.Decision | None,
    *,
    delay: RetryDelay | None = None,
    queue: str | None = None,
) -> None:
    """Ack, requeue or dead-letter ``message``, unless it is settled already.

    With a ``delay`` and the ``queue`` it was consumed from, a retry goes through a delay
    queue back to ``queue`` instead of being requeued at once.
    """
    tag, headers, body = message.consumer_tag or "", message.headers, message.body
    retry = decision is not None and decision.outcome is Outcome.RETRY and not message.processed
    if retry and delay and queue:
        await _retry_later(message, delay, queue)
        amqp.retry_counts.forget(headers, tag, body)
        return
    if retry:
        amqp.retry_counts.retried(headers, tag, body, _attempt(message))
        await message.nack(requeue=True)
        return
    amqp.retry_counts.forget(headers, tag, body)
    if message.processed:  # consumed with no_ack, or the handler settled it itself
        return
    if decision is not None and decision.outcome is Outcome.DEAD_LETTER:
        await message.reject(requeue=False)
    else:
        await message.ack()


async def _retry_later(message: AbstractIncomingMessage, delay: RetryDelay, queue: str) -> None:
    """Publish a copy to the delay queue for this attempt, then ack the original.

    Through the channel's own AMQP methods: the copy keeps its producer's trace headers
    and no publish span is made for it.
    """
    failed = _attempt(message)
    milliseconds = delay.milliseconds(failed)
    delay_queue = amqp_retry.delay_queue(queue, milliseconds)
    channel = message.channel
    await channel.queue_declare(
        delay_queue,
        durable=True,
        arguments=amqp_retry.delay_queue_arguments(queue, milliseconds),
    )
    properties = message.properties
    properties.expiration = None  # the delay queue's TTL decides
    properties.headers = amqp_retry.retry_headers(
        message.headers,
        exchange=message.exchange,
        routing_key=message.routing_key,
        queue=queue,
        failed_attempt=failed,
    )
    await channel.basic_publish(
        message.body, exchange="", routing_key=delay_queue, properties=properties
    )
    await message.ack()


Handler = Callable[..., Awaitable[Any]]

_INSTRUMENTED = "__eventscope_instrumented__"
_publishing: ContextVar[bool] = ContextVar("eventscope_aio_pika_publishing", default=False)


def is_instrumented(callback: Any) -> bool:
    """Whether ``callback`` is already an instrumented consumer (not to be wrapped again)."""
    return bool(getattr(callback, _INSTRUMENTED, False))


def publishing() -> bool:
    """Whether an instrumented publish is under way in this task (its inner call to the
    exchange must not be traced a second time)."""
    return _publishing.get()


def consumer(
    group: str | None = None,
    *,
    max_attempts: int | None = None,
    deduplicate: int = 0,
    retry_delay: float | RetryDelay | None = None,
    queue: str | None = None,
) -> Callable[[Handler], Callable[[AbstractIncomingMessage], Awaitable[None]]]:
    """Instrument ``async def fn(message[, ctx])`` and settle each message after it.

    ``retry_delay`` (seconds or a :class:`RetryDelay`) makes retries wait in a delay
    queue that returns them to ``queue`` (default: ``group``, the queue's name when
    consumed through an instrumented queue); without it they are requeued at once.
    """
    delay = amqp_retry.retry_delay(retry_delay)
    back_to = queue or group

    def decorate(fn: Handler) -> Callable[[AbstractIncomingMessage], Awaitable[None]]:
        handle = settlement.handler(
            fn,
            group=group,
            system=RABBITMQ.name,
            max_attempts=max_attempts,
            deduplicate=deduplicate,
            queue=back_to,
        )

        async def on_message(message: AbstractIncomingMessage) -> None:
            with settlement.delivering() as ledger:
                await handle(message)
            await carry_out(
                message, ledger.decision(message, max_attempts), delay=delay, queue=back_to
            )

        on_message.__name__ = fn.__name__
        on_message.__qualname__ = fn.__qualname__
        on_message.__doc__ = fn.__doc__
        setattr(on_message, _INSTRUMENTED, True)
        return on_message

    return decorate


class InstrumentedQueue:
    """An aio-pika queue whose ``consume()`` callbacks are instrumented (group: its name)."""

    def __init__(
        self,
        queue: Any,
        *,
        group: str | None,
        max_attempts: int | None,
        deduplicate: int,
        retry_delay: float | RetryDelay | None = None,
    ) -> None:
        self.queue = queue
        self.group = group
        self.max_attempts = max_attempts
        self.deduplicate = deduplicate
        self.retry_delay = amqp_retry.retry_delay(retry_delay)

    async def consume(self, callback: Handler, *args: Any, **kwargs: Any) -> Any:
        instrumented = consumer(
            self.group or self.queue.name,
            max_attempts=self.max_attempts,
            deduplicate=self.deduplicate,
            retry_delay=self.retry_delay,
            queue=self.queue.name,
        )(callback)
        return await self.queue.consume(instrumented, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.queue, name)


def instrument_queue(
    queue: Any,
    *,
    group: str | None = None,
    max_attempts: int | None = None,
    deduplicate: int = 0,
    retry_delay: float | RetryDelay | None = None,
) -> InstrumentedQueue:
    """Wrap an aio-pika queue: its ``consume()`` callbacks are traced and settled."""
    return InstrumentedQueue(
        queue,
        group=group,
        max_attempts=max_attempts,
        deduplicate=deduplicate,
        retry_delay=retry_delay,
    )


def _publish_destination(exchange: Any, message: Any, routing_key: str, *a: Any, **k: Any) -> str:
    return amqp.destination(exchange.name, routing_key)


def _publish_span_destination(
    exchange: Any, message: Any, routing_key: str, *a: Any, **k: Any
) -> str:
    return amqp.send_destination(exchange.name, routing_key)


def _publish_source(exchange: Any, *a: Any, **k: Any) -> tuple[tuple[str, Any], ...]:
    return channel_source(getattr(exchange, "channel", None))  # None: a stand-in exchange


@producer(
    _publish_destination,
    system=RABBITMQ.name,
    source=_publish_source,
    span_destination=_publish_span_destination,
)
async def _publish(
    exchange: Any, message: AbstractMessage, routing_key: str, headers: dict, **kwargs: Any
) -> Any:
    message.headers = headers
    if message.message_id is None:  # aiormq would make up one the span cannot know
        message.message_id = headers.get(h.EVENT_ID)
    amqp.describe_publish(trace.get_current_span(), routing_key, message, headers)
    # A contrib AioPikaInstrumentor stays out: eventscope's span is the one.
    return await suppressed_async(exchange.publish, message, routing_key, **kwargs)


class InstrumentedExchange:
    """An aio-pika exchange whose ``publish()`` is traced; the rest is the exchange's."""

    def __init__(self, exchange: Any) -> None:
        self.exchange = exchange

    async def publish(self, message: AbstractMessage, routing_key: str, **kwargs: Any) -> Any:
        if message.locked:  # a received message being forwarded: fill in a copy
            message = copy.copy(message)
        # The AMQP timestamp gives the management API a head-message age (lag seconds).
        if message.timestamp is None:
            message.timestamp = datetime.now(tz=UTC)
        headers = dict(message.headers or {})
        token = _publishing.set(True)
        try:
            return await _publish(self.exchange, message, routing_key, headers, **kwargs)
        finally:
            _publishing.reset(token)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.exchange, name)


def instrument_exchange(exchange: Any) -> InstrumentedExchange:
    """Wrap an aio-pika exchange (``channel.default_exchange`` too): the one line to add."""
    return InstrumentedExchange(exchange)
