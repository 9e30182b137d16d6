"""Instrument aiokafka once for the whole process, and take it back.

The one-call counterpart of :func:`~eventscope.instrumentation.brokers.aiokafka.instrument_producer`
and :func:`~eventscope.instrumentation.brokers.aiokafka.instrument_consumer`::

    from eventscope.instrumentation.brokers.aiokafka_instrumentor import AioKafkaInstrumentor

    producer = AIOKafkaProducer(bootstrap_servers=servers)
    AioKafkaInstrumentor().instrument(dead_letter_producer=producer)
    await producer.send_and_wait("orders", value)      # PRODUCER span
    async for record in consumer:                      # retries rewind, dead letters
        await bill(record)                             # go to <topic>.dlq via producer
        await consumer.commit()
    ...
    AioKafkaInstrumentor().uninstrument()

``instrument()`` replaces ``send``/``send_and_wait`` on ``AIOKafkaProducer`` and
``getone``/``getmany``/``__anext__``/``commit``/``stop`` on ``AIOKafkaConsumer``, so
every client of the process (aiokafka's own objects, made before or after) behaves
like one wrapped by hand: each consumer keeps its own retry bookkeeping.  Without a
``dead_letter_producer`` a dead-letter outcome re-raises the handler's exception to
the loop, as the wrapper does.  A client also wrapped by hand is traced once.
"""

from __future__ import annotations

import functools
import threading
import weakref
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from eventscope.instrumentation.brokers import aiokafka as wrappers
from eventscope.instrumentation.brokers.patching import ClassPatches, OriginalMethods

_PRODUCER_METHODS = ("send", "send_and_wait")
_CONSUMER_METHODS = ("getone", "getmany", "__anext__", "commit", "stop")


def _producer_methods(originals: dict[str, Any]) -> dict[str, Any]:
    def method(name: str) -> Any:
        @functools.wraps(originals[name])
        async def traced(producer: Any, *args: Any, **kwargs: Any) -> Any:
            if wrappers.publishing():  # a wrapper or eventscope itself is sending
                return await originals[name](producer, *args, **kwargs)
            wrapped = wrappers.InstrumentedProducer(OriginalMethods(producer, originals))
            return await getattr(wrapped, name)(*args, **kwargs)

        return traced

    return {name: method(name) for name in _PRODUCER_METHODS}


def _consumer_methods(originals: dict[str, Any], dead_letter_producer: Any) -> dict[str, Any]:
    states: weakref.WeakKeyDictionary[Any, wrappers.InstrumentedConsumer] = (
        weakref.WeakKeyDictionary()
    )

    def state(consumer: Any) -> wrappers.InstrumentedConsumer:
        found = states.get(consumer)
        if found is None:
            found = states[consumer] = wrappers.InstrumentedConsumer(
                OriginalMethods(consumer, originals), dead_letter_producer
            )
        return found

    def method(name: str) -> Any:
        @functools.wraps(originals[name])
        async def settling(consumer: Any, *args: Any, **kwargs: Any) -> Any:
            return await getattr(state(consumer), name)(*args, **kwargs)

        return settling

    return {name: method(name) for name in _CONSUMER_METHODS}


class AioKafkaInstrumentor:
    """``instrument()`` / ``uninstrument()`` for every aiokafka producer and consumer;
    one process-wide state whichever instance is used, and ``instrument()`` twice is
    harmless."""

    _lock = threading.Lock()
    _patches: ClassPatches | None = None

    @property
    def is_instrumented(self) -> bool:
        return AioKafkaInstrumentor._patches is not None

    def instrument(self, *, dead_letter_producer: Any = None) -> None:
        """Trace every send and settle every consumed record from now on; dead letters
        go through ``dead_letter_producer`` (an ``AIOKafkaProducer``), if given."""
        with self._lock:
            if AioKafkaInstrumentor._patches is not None:
                return
            producer = {name: AIOKafkaProducer.__dict__[name] for name in _PRODUCER_METHODS}
            consumer = {name: AIOKafkaConsumer.__dict__[name] for name in _CONSUMER_METHODS}
            patched = {
                AIOKafkaProducer: _producer_methods(producer),
                AIOKafkaConsumer: _consumer_methods(consumer, dead_letter_producer),
            }
            patches = ClassPatches()
            for cls, methods in patched.items():
                for name, method in methods.items():
                    patches.replace(cls, name, method)
            AioKafkaInstrumentor._patches = patches

    def uninstrument(self) -> None:
        """Put aiokafka's own methods back."""
        with self._lock:
            patches = AioKafkaInstrumentor._patches
            if patches is None:
                return
            patches.restore()
            AioKafkaInstrumentor._patches = None
