"""Instrument pika once for the whole process, and take it back.

The one-call counterpart of :func:`eventscope.instrumentation.brokers.rabbitmq.instrument_channel`::

    from eventscope.instrumentation.brokers.pika_instrumentor import PikaInstrumentor

    PikaInstrumentor().instrument(max_attempts=3)   # every channel's publish and consume
    ...
    PikaInstrumentor().uninstrument()               # pika as it was

``instrument()`` replaces ``basic_publish`` and ``basic_consume`` on pika's
``BlockingChannel`` and on its asynchronous ``Channel``, so every channel of the process
(pika's own objects) publishes trace headers and runs its callbacks under a CONSUMER
span with eventscope's settlement (group: the queue's name).  Channels also wrapped by
``instrument_channel`` and callbacks decorated with ``rabbitmq.consumer`` are traced once.
"""

from __future__ import annotations

import functools
import threading
from contextvars import ContextVar
from typing import Any

from pika.adapters.blocking_connection import BlockingChannel
from pika.channel import Channel

from eventscope.instrumentation.brokers import amqp_retry, rabbitmq
from eventscope.instrumentation.brokers.amqp_retry import RetryDelay
from eventscope.instrumentation.brokers.patching import ClassPatches

_CLASSES = (BlockingChannel, Channel)

_consuming: ContextVar[bool] = ContextVar("eventscope_pika_consuming", default=False)
"""Set while an instrumented ``basic_consume`` runs: a ``BlockingChannel`` registers
through its inner ``Channel``, whose callback must not be instrumented a second time."""


class PikaInstrumentor:
    """``instrument()`` / ``uninstrument()`` for every pika channel; one process-wide
    state whichever instance is used, and ``instrument()`` twice is harmless."""

    _lock = threading.Lock()
    _patches: ClassPatches | None = None

    @property
    def is_instrumented(self) -> bool:
        return PikaInstrumentor._patches is not None

    def instrument(
        self,
        *,
        max_attempts: int | None = None,
        deduplicate: int = 0,
        retry_delay: float | RetryDelay | None = None,
    ) -> None:
        """Trace every publish and consumer callback of the process from now on;
        ``retry_delay`` as for :func:`~eventscope.instrumentation.brokers.rabbitmq.consumer`."""
        delay = amqp_retry.retry_delay(retry_delay)
        with self._lock:
            if PikaInstrumentor._patches is not None:
                return
            patches = ClassPatches()
            for cls in _CLASSES:
                patches.replace(cls, "basic_publish", _traced_publish(cls.basic_publish))
                patches.replace(
                    cls,
                    "basic_consume",
                    _traced_consume(cls.basic_consume, max_attempts, deduplicate, delay),
                )
            PikaInstrumentor._patches = patches

    def uninstrument(self) -> None:
        """Put pika's own methods back; consumers already started stay traced."""
        with self._lock:
            patches = PikaInstrumentor._patches
            if patches is None:
                return
            patches.restore()
            PikaInstrumentor._patches = None


class _Unpatched:
    """A channel seen through one of its original methods (what the wrapper calls)."""

    def __init__(self, channel: Any, name: str, original: Any) -> None:
        setattr(self, name, functools.partial(original, channel))
        self.connection = getattr(channel, "connection", None)  # server.address/port


def _traced_publish(publish: Any) -> Any:
    @functools.wraps(publish)
    def basic_publish(channel: Any, exchange: str, routing_key: str, body: bytes, *a, **kw):
        if rabbitmq.publishing():  # an instrument_channel wrapper is on it already
            return publish(channel, exchange, routing_key, body, *a, **kw)
        wrapped = rabbitmq.InstrumentedChannel(_Unpatched(channel, "basic_publish", publish))
        return wrapped.basic_publish(exchange, routing_key, body, *a, **kw)

    return basic_publish


def _traced_consume(
    consume: Any, max_attempts: int | None, deduplicate: int, delay: RetryDelay | None
) -> Any:
    @functools.wraps(consume)
    def basic_consume(channel: Any, queue: str, on_message_callback: Any, *a, **kw):
        if _consuming.get():
            return consume(channel, queue, on_message_callback, *a, **kw)
        token = _consuming.set(True)
        try:
            if isinstance(on_message_callback, rabbitmq.PikaConsumer):  # instrumented already
                return consume(channel, queue, on_message_callback, *a, **kw)
            wrapped = rabbitmq.InstrumentedChannel(
                _Unpatched(channel, "basic_consume", consume),
                max_attempts=max_attempts,
                deduplicate=deduplicate,
                retry_delay=delay,
            )
            return wrapped.basic_consume(queue, on_message_callback, *a, **kw)
        finally:
            _consuming.reset(token)

    return basic_consume
