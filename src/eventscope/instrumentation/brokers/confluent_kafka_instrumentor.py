"""Instrument confluent-kafka once for the whole process, and take it back.

The one-call counterpart of :func:`~eventscope.instrumentation.brokers.kafka.instrument_producer`
and :func:`~eventscope.instrumentation.brokers.kafka.instrument_consumer`::

    from eventscope.instrumentation.brokers.confluent_kafka_instrumentor import (
        ConfluentKafkaInstrumentor,
    )

    ConfluentKafkaInstrumentor().instrument()
    producer = confluent_kafka.Producer(conf)   # produce() traced
    consumer = confluent_kafka.Consumer(conf)   # retries rewind, dead letters to <topic>.dlq
    ...
    ConfluentKafkaInstrumentor().uninstrument()

confluent-kafka's ``Producer`` and ``Consumer`` are C types whose methods cannot be
replaced, so — as OpenTelemetry's contrib ``ConfluentKafkaInstrumentor`` does — the
module attributes ``confluent_kafka.Producer`` and ``confluent_kafka.Consumer`` are
replaced by subclasses.  Clients made through them afterwards are still instances of
confluent-kafka's own types; clients made before, or through a name imported with
``from confluent_kafka import Producer`` before ``instrument()``, are not instrumented
(wrap those with ``instrument_producer``/``instrument_consumer``).

The subclasses delegate to the wrappers of :mod:`~eventscope.instrumentation.brokers.kafka`,
so behaviour is the same: ``produce()`` runs in a PRODUCER span that fills the record's
headers; messages from ``poll()``/``consume()`` settle the outcomes of ``@consumer``
handlers (a retry seeks the partition back, a dead letter is written to
``<topic>.dlq`` through a producer made from the consumer's connection settings), and
``commit()``/``store_offsets()`` never pass a record waiting for its retry.  A client
also wrapped by hand is traced once.
"""

from __future__ import annotations

import threading
from typing import Any

import confluent_kafka

from eventscope.instrumentation.brokers import kafka
from eventscope.instrumentation.contrib import NativeView

_CONNECTION_SETTINGS = ("bootstrap.servers", "client.id", "logger", "error_cb")
_CONNECTION_PREFIXES = ("security.", "sasl.", "ssl.", "socket.", "broker.")


def _connection_settings(args: tuple, kwargs: dict) -> dict[str, Any]:
    """What a dead-letter producer needs of a consumer's configuration."""
    config = dict(args[0]) if args and isinstance(args[0], dict) else {}
    config.update(kwargs)
    return {
        key: value
        for key, value in config.items()
        if key in _CONNECTION_SETTINGS or key.startswith(_CONNECTION_PREFIXES)
    }


class _DeadLetterProducer:
    """A plain producer made on the first dead letter, from the consumer's settings."""

    def __init__(self, settings: dict[str, Any], cls: type) -> None:
        self._settings = settings
        self._cls = cls
        self._producer: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._producer is None:
                self._producer = self._cls(self._settings)
            return self._producer

    def produce(self, *args: Any, **kwargs: Any) -> None:
        self._get().produce(*args, **kwargs)

    def flush(self, timeout: float) -> int:
        return self._get().flush(timeout)


def _classes(producer_cls: type, consumer_cls: type) -> tuple[type, type]:
    """Subclasses of confluent-kafka's own ``Producer`` and ``Consumer`` types."""

    class Producer(producer_cls):  # type: ignore[misc, valid-type]
        __doc__ = producer_cls.__doc__

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._eventscope = kafka.InstrumentedProducer(
                NativeView(self, Producer), _connection_settings(args, kwargs)
            )

        def produce(self, *args: Any, **kwargs: Any) -> None:
            if kafka.publishing():  # an instrument_producer wrapper is on it already
                return super().produce(*args, **kwargs)
            return self._eventscope.produce(*args, **kwargs)

    class Consumer(consumer_cls):  # type: ignore[misc, valid-type]
        __doc__ = consumer_cls.__doc__

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            settings = _connection_settings(args, kwargs)
            dead_letters = _DeadLetterProducer(settings, producer_cls)
            self._eventscope = kafka.InstrumentedConsumer(
                NativeView(self, Consumer), dead_letter_producer=dead_letters, config=settings
            )

        def poll(self, *args: Any, **kwargs: Any) -> Any:
            return self._eventscope.poll(*args, **kwargs)

        def consume(self, *args: Any, **kwargs: Any) -> Any:
            return self._eventscope.consume(*args, **kwargs)

        def commit(self, *args: Any, **kwargs: Any) -> Any:
            return self._eventscope.commit(*args, **kwargs)

        def store_offsets(self, *args: Any, **kwargs: Any) -> None:
            self._eventscope.store_offsets(*args, **kwargs)

        def close(self) -> None:
            self._eventscope.close()

    return Producer, Consumer


class ConfluentKafkaInstrumentor:
    """``instrument()`` / ``uninstrument()`` for confluent-kafka's ``Producer`` and
    ``Consumer``; one process-wide state whichever instance is used, and
    ``instrument()`` twice is harmless."""

    _lock = threading.Lock()
    _originals: tuple[type, type] | None = None

    @property
    def is_instrumented(self) -> bool:
        return ConfluentKafkaInstrumentor._originals is not None

    def instrument(self) -> None:
        """Make ``confluent_kafka.Producer``/``Consumer`` instrumented from now on."""
        with self._lock:
            if ConfluentKafkaInstrumentor._originals is not None:
                return
            originals = (confluent_kafka.Producer, confluent_kafka.Consumer)
            confluent_kafka.Producer, confluent_kafka.Consumer = _classes(*originals)
            ConfluentKafkaInstrumentor._originals = originals

    def uninstrument(self) -> None:
        """Put confluent-kafka's own classes back; clients made meanwhile stay traced."""
        with self._lock:
            originals = ConfluentKafkaInstrumentor._originals
            if originals is None:
                return
            confluent_kafka.Producer, confluent_kafka.Consumer = originals
            ConfluentKafkaInstrumentor._originals = None
