"""Instrument aio-pika once for the whole process, and take it back.

The wrappers of :mod:`eventscope.instrumentation.brokers.aio_pika` instrument one
exchange or queue at a time; teams used to OpenTelemetry's contrib packages expect one
call at start-up instead::

    from eventscope.instrumentation.brokers.aio_pika_instrumentor import AioPikaInstrumentor

    AioPikaInstrumentor().instrument(max_attempts=3)   # every Exchange.publish / Queue.consume
    ...
    AioPikaInstrumentor().uninstrument()               # aio-pika as it was

``instrument()`` replaces ``aio_pika.Exchange.publish`` and ``aio_pika.Queue.consume`` on
the classes, so every exchange and queue of the process (the client's own types, not
wrappers) publishes trace headers and runs its consume callbacks under a CONSUMER span,
with the same settlement as ``instrument_queue`` (group: the queue's name).  Objects
already wrapped by ``instrument_exchange``/``instrument_queue`` are not instrumented
twice.  Messages read with ``queue.iterator()`` or ``queue.get()`` go through no
callback: decorate their handler with ``aio_pika.consumer(...)``.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import aio_pika

from eventscope.instrumentation.brokers import aio_pika as wrappers
from eventscope.instrumentation.brokers import amqp_retry
from eventscope.instrumentation.brokers.amqp_retry import RetryDelay
from eventscope.instrumentation.brokers.patching import ClassPatches, OriginalMethods
from eventscope.instrumentation.contrib import wrap_inside


class AioPikaInstrumentor:
    """``instrument()`` / ``uninstrument()`` for every aio-pika exchange and queue.

    One process-wide state, whichever instance is used (as OpenTelemetry's
    instrumentors behave); calling ``instrument()`` twice is harmless.
    """

    _lock = threading.Lock()
    _patches: ClassPatches | None = None

    @property
    def is_instrumented(self) -> bool:
        return AioPikaInstrumentor._patches is not None

    def instrument(
        self,
        *,
        max_attempts: int | None = None,
        deduplicate: int = 0,
        retry_delay: float | RetryDelay | None = None,
    ) -> None:
        """Trace every publish and consume of the process from now on; ``retry_delay``
        as for :func:`~eventscope.instrumentation.brokers.aio_pika.consumer`."""
        delay = amqp_retry.retry_delay(retry_delay)
        with self._lock:
            if AioPikaInstrumentor._patches is not None:
                return
            publish, consume = aio_pika.Exchange.publish, aio_pika.Queue.consume

            @functools.wraps(publish)
            async def traced_publish(exchange: Any, message: Any, routing_key: str, **kw: Any):
                if wrappers.publishing():  # an instrument_exchange wrapper is on it already
                    return await publish(exchange, message, routing_key, **kw)
                instrumented = wrappers.InstrumentedExchange(
                    OriginalMethods(exchange, {"publish": publish})
                )
                return await instrumented.publish(message, routing_key, **kw)

            @functools.wraps(consume)
            async def traced_consume(queue: Any, callback: Any, *args: Any, **kw: Any):
                if not wrappers.is_instrumented(callback):
                    callback = wrap_inside(
                        callback,
                        wrappers.consumer(
                            queue.name,
                            max_attempts=max_attempts,
                            deduplicate=deduplicate,
                            retry_delay=delay,
                        ),
                    )
                return await consume(queue, callback, *args, **kw)

            patches = ClassPatches()
            patches.replace(aio_pika.Exchange, "publish", traced_publish)
            patches.replace(aio_pika.Queue, "consume", traced_consume)
            AioPikaInstrumentor._patches = patches

    def uninstrument(self) -> None:
        """Put aio-pika's own methods back; consumers already started stay traced."""
        with self._lock:
            patches = AioPikaInstrumentor._patches
            if patches is None:
                return
            patches.restore()
            AioPikaInstrumentor._patches = None
