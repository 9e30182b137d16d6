"""confluent-kafka, instrumented in one line per client.

.. code-block:: python

    producer = instrument_producer(Producer(conf))     # produce() sends trace headers
    consumer = instrument_consumer(Consumer(conf), dead_letter_producer=producer)

    @consumer_decorator(group="billing", max_attempts=3)   # eventscope.consumer
    def bill(message): ...                                 # a native confluent_kafka.Message

    while True:
        message = consumer.poll(1.0)
        if message is not None and message.error() is None:
            bill(message)
            consumer.commit(message, asynchronous=False)

The decorator recognises ``confluent_kafka.Message`` on its own (headers, topic,
partition, offset, key); messages handed out by an instrumented consumer can also be
retried in place and dead-lettered to ``<topic>.dlq`` (see
:mod:`~eventscope.instrumentation.brokers.kafka_delivery`), and that consumer's
``commit()``/``store_offsets()`` never move past a record waiting for its retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from confluent_kafka import KafkaException, Message, TopicPartition
from opentelemetry import trace

from eventscope.catalog import KAFKA, Outcome
from eventscope.instrumentation.brokers.dead_letter_span import note_dead_letter
from eventscope.instrumentation.brokers.kafka_delivery import (
    KAFKA_MESSAGE_KEY,
    Deliveries,
    PartitionSources,
    Rewinds,
    client_source,
    dead_letter_headers,
    key_attribute,
    owner_of,
    record_attributes,
    record_source,
    topic_of,
)
from eventscope.instrumentation.brokers.kafka_headers import KafkaHeadersCarrier
from eventscope.instrumentation.brokers.sources import Source
from eventscope.instrumentation.contrib import native
from eventscope.instrumentation.messages import register_message_type
from eventscope.instrumentation.producer_decorator import producer as _producer

_publishing: ContextVar[bool] = ContextVar("eventscope_kafka_publishing", default=False)


def publishing() -> bool:
    """Whether an instrumented ``produce()`` is under way here (its inner call to the
    producer must not be traced a second time)."""
    return _publishing.get()


class DeadLetterError(Exception):
    """A record could not be written to its dead-letter topic."""


class MessageAdapter:
    """How the ``@consumer`` decorator reads and settles a ``confluent_kafka.Message``."""

    system = KAFKA.name
    carrier = KafkaHeadersCarrier

    def headers(self, message: Message) -> Any:
        return message.headers()

    def destination(self, message: Message) -> str | None:
        return message.topic()

    def attempt(self, message: Message) -> int | None:
        owner = owner_of(message)
        return owner.attempt(message) if owner is not None else None

    def attributes(self, message: Message) -> dict[str, Any]:
        value = message.value()
        size = None if value is None else len(value)
        return record_attributes(message.partition(), message.offset(), message.key(), size)

    def source(self, message: Message) -> Source:
        return record_source(message, message.partition())

    span_destination = None  # the topic / subject / stream / queue, as on the metrics

    def settle(self, message: Message, outcome: Outcome, reason: str | None) -> bool:
        owner = owner_of(message)
        return owner is not None and owner.settle(message, outcome, reason)


register_message_type(Message, MessageAdapter())


class InstrumentedProducer:
    """A ``confluent_kafka.Producer`` whose ``produce()`` runs in a PRODUCER span.

    The span (``send <topic>``) injects the trace context, event id and publish time
    into the record's headers: a dict or a list of ``(name, value)`` pairs is filled
    in place, none gives a new dict.  Headers must be passed by keyword.  The span
    covers handing the record to librdkafka, not its delivery (that is
    ``on_delivery``'s business).  Everything else is the wrapped producer's.
    """

    def __init__(self, producer: Any, config: Mapping[str, Any] | None = None) -> None:
        # Around a contrib AutoInstrumentedProducer: its produce() would add a second span.
        self.wrapped = native(producer)
        self.source = _config_source(config)
        self._send = _producer(topic_of, system=KAFKA.name, source=self.source)(self._produce)

    def produce(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        *args: Any,
        headers: Any = None,
        **kwargs: Any,
    ) -> None:
        if isinstance(headers, tuple):
            headers = list(headers)
        token = _publishing.set(True)
        try:
            self._send(topic, value, key, args, kwargs, headers)
        finally:
            _publishing.reset(token)

    def _produce(
        self, topic: str, value: Any, key: Any, args: tuple, kwargs: dict, headers: Any
    ) -> None:
        text_key = key_attribute(key)
        if text_key is not None:
            trace.get_current_span().set_attribute(KAFKA_MESSAGE_KEY, text_key)
        self.wrapped.produce(topic, value, key, *args, headers=headers, **kwargs)

    def __len__(self) -> int:
        return len(self.wrapped)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


class InstrumentedConsumer:
    """A ``confluent_kafka.Consumer`` that can settle what its handlers decide.

    ``poll()``/``consume()`` return the native messages.  A retry seeks the message's
    partition back to it; a dead letter writes it to ``<topic><dead_letter_suffix>``
    through ``dead_letter_producer`` and waits (``flush``) for the write before the
    handler returns, so a commit that follows cannot lose it.  Without a dead-letter
    producer the handler's exception propagates on a dead-letter outcome.

    With ``enable.auto.offset.store=false`` a rewind also stores the rewound offset;
    otherwise ``commit()`` is narrowed to it.  Auto-commit with automatic offset
    store may still commit past a record being retried: a crash during the retry
    then skips it (use manual commits, or ``enable.auto.offset.store=false``).
    Messages of a ``consume()`` batch after a retried one on the same partition are
    delivered again after it (at least once; ``deduplicate=`` on the handler helps).
    """

    def __init__(
        self,
        consumer: Any,
        dead_letter_producer: Any = None,
        *,
        dead_letter_suffix: str = KAFKA.dead_letter_suffix,
        flush_timeout: float = 10.0,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        # Around a contrib AutoInstrumentedConsumer: its poll() would add two spans.
        self.wrapped = native(consumer)
        self.sources = PartitionSources(_config_source(config))
        self.dead_letter_producer = getattr(dead_letter_producer, "wrapped", dead_letter_producer)
        self.dead_letter_suffix = dead_letter_suffix
        self.flush_timeout = flush_timeout
        self._rewinds = Rewinds()
        self._deliveries = Deliveries(self)
        self._stores_offsets: bool | None = None

    # --- delivering ---------------------------------------------------------------

    def poll(self, *args: Any, **kwargs: Any) -> Message | None:
        message = self.wrapped.poll(*args, **kwargs)
        if message is None or message.error() is not None:
            self._hand_out([])
        else:  # one record, the usual poll: no lists
            self._deliveries.hand_out_one(message)
            if not self._rewinds.idle:
                self._rewinds.delivered(((message.topic(), message.partition(), message.offset()),))
        return message

    def consume(self, *args: Any, **kwargs: Any) -> list[Message]:
        messages = self.wrapped.consume(*args, **kwargs)
        self._hand_out(messages)
        return messages

    def _hand_out(self, messages: list[Message]) -> None:
        records = [m for m in messages if m.error() is None]
        self._deliveries.hand_out(records)
        if not self._rewinds.idle:
            self._rewinds.delivered((m.topic(), m.partition(), m.offset()) for m in records)

    # --- settling (called by the message adapter) -----------------------------------

    def attempt(self, message: Message) -> int:
        if self._rewinds.idle:
            return 1
        return self._rewinds.attempt(message.topic(), message.partition(), message.offset())

    def settle(self, message: Message, outcome: Outcome, reason: str | None) -> bool:
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        if self._rewinds.comes_again(topic, partition, offset):
            return True
        if outcome is Outcome.RETRY:
            self._rewind(topic, partition, offset)
            return True
        if outcome is Outcome.DEAD_LETTER and self.dead_letter_producer is not None:
            self._dead_letter(message, reason)
            return True
        return False

    def _rewind(self, topic: str, partition: int, offset: int) -> None:
        self.wrapped.seek(TopicPartition(topic, partition, offset))
        self._rewinds.rewound(topic, partition, offset)
        if self._stores_offsets is not False:
            try:
                self.wrapped.store_offsets(offsets=[TopicPartition(topic, partition, offset)])
                self._stores_offsets = True
            except KafkaException:  # automatic offset store: commits are narrowed instead
                self._stores_offsets = False

    def _dead_letter(self, message: Message, reason: str | None) -> None:
        destination = message.topic() + self.dead_letter_suffix
        failures: list[Any] = []

        def delivered(error: Any, _record: Any) -> None:
            if error is not None:
                failures.append(error)

        self.dead_letter_producer.produce(
            destination,
            message.value(),
            message.key(),
            headers=dead_letter_headers(message.headers(), message.topic(), reason),
            on_delivery=delivered,
        )
        if self.dead_letter_producer.flush(self.flush_timeout) or failures:
            raise DeadLetterError(
                f"could not write to {destination}: {failures[0] if failures else 'timed out'}"
            )
        note_dead_letter(destination, reason)

    # --- committing ----------------------------------------------------------------

    def _narrowed(self, offsets: list[TopicPartition]) -> list[TopicPartition]:
        committable = self._rewinds.committable
        return [
            TopicPartition(tp.topic, tp.partition, committable(tp.topic, tp.partition, tp.offset))
            if tp.offset >= 0
            else tp
            for tp in offsets
        ]

    def _offsets_to_commit(
        self, message: Message | None, offsets: list[TopicPartition] | None
    ) -> list[TopicPartition] | None:
        """Explicit offsets that respect pending rewinds, or ``None``: commit as asked."""
        pending = self._rewinds.pending()
        if not pending:
            return None
        if message is not None:
            offsets = [TopicPartition(message.topic(), message.partition(), message.offset() + 1)]
        if offsets is not None:
            return self._narrowed(offsets)
        if self._stores_offsets:
            return None  # the rewind stored its offset: the store is right already
        positions = [
            tp for tp in self.wrapped.position(self.wrapped.assignment()) if tp.offset >= 0
        ]
        positions += [TopicPartition(t, p, o) for (t, p), o in pending.items()]
        return self._narrowed(positions)

    def commit(
        self,
        message: Message | None = None,
        offsets: list[TopicPartition] | None = None,
        asynchronous: bool = True,
    ) -> Any:
        narrowed = self._offsets_to_commit(message, offsets)
        if narrowed is not None:
            return self.wrapped.commit(offsets=narrowed, asynchronous=asynchronous)
        if message is not None:
            return self.wrapped.commit(message=message, asynchronous=asynchronous)
        if offsets is not None:
            return self.wrapped.commit(offsets=offsets, asynchronous=asynchronous)
        return self.wrapped.commit(asynchronous=asynchronous)

    def store_offsets(
        self, message: Message | None = None, offsets: list[TopicPartition] | None = None
    ) -> None:
        explicit = message is not None or offsets is not None
        narrowed = self._offsets_to_commit(message, offsets) if explicit else None
        if narrowed is not None:
            self.wrapped.store_offsets(offsets=narrowed)
        elif message is not None:
            self.wrapped.store_offsets(message=message)
        else:
            self.wrapped.store_offsets(offsets=offsets)

    def close(self) -> None:
        self._deliveries.release()
        self.wrapped.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


def _config_source(config: Mapping[str, Any] | None) -> Source:
    """The client's source pairs from its configuration (confluent-kafka's clients do
    not expose theirs): the first ``bootstrap.servers`` entry and ``client.id``."""
    if not config:
        return ()
    return client_source(config.get("bootstrap.servers"), config.get("client.id"))


def instrument_producer(
    producer: Any, *, config: Mapping[str, Any] | None = None
) -> InstrumentedProducer:
    """Wrap a ``confluent_kafka.Producer`` so every ``produce()`` is traced and counted.

    ``config``, the producer's configuration, gives its spans and metrics
    ``server.address``/``server.port`` and ``messaging.client.id``.
    """
    return InstrumentedProducer(producer, config)


def instrument_consumer(
    consumer: Any,
    dead_letter_producer: Any = None,
    *,
    dead_letter_suffix: str = KAFKA.dead_letter_suffix,
    flush_timeout: float = 10.0,
    config: Mapping[str, Any] | None = None,
) -> InstrumentedConsumer:
    """Wrap a ``confluent_kafka.Consumer`` so retries and dead letters happen on Kafka
    (``config`` as for :func:`instrument_producer`)."""
    return InstrumentedConsumer(
        consumer,
        dead_letter_producer,
        dead_letter_suffix=dead_letter_suffix,
        flush_timeout=flush_timeout,
        config=config,
    )
