"""aiokafka, instrumented in one line per client.

.. code-block:: python

    producer = instrument_producer(AIOKafkaProducer(bootstrap_servers=...))
    consumer = instrument_consumer(AIOKafkaConsumer("orders", ...), dead_letter_producer=producer)

    @eventscope.consumer(group="billing", max_attempts=3)
    async def bill(record): ...                  # a native aiokafka ConsumerRecord

    async for record in consumer:
        await bill(record)
        await consumer.commit()

The decorator recognises ``ConsumerRecord`` on its own; records handed out by an
instrumented consumer (``getone()``, ``getmany()``, ``async for``) can also be retried
in place and dead-lettered to ``<topic>.dlq`` (see
:mod:`~eventscope.instrumentation.brokers.kafka_delivery`).  ``getmany()`` batches go
to a ``@consumer(batch=True)`` handler as a list, one span linked to every producer.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import Any

from aiokafka.structs import ConsumerRecord, OffsetAndMetadata, TopicPartition
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
from eventscope.instrumentation.messages import register_message_type
from eventscope.instrumentation.producer_decorator import producer as _producer
from eventscope.instrumentation.telemetry import logger

_publishing: ContextVar[bool] = ContextVar("eventscope_aiokafka_publishing", default=False)


def publishing() -> bool:
    """Whether eventscope is sending here already (a traced send, or a dead-letter copy
    that keeps its producer's trace headers): not to be traced again."""
    return _publishing.get()


class RecordAdapter:
    """How the ``@consumer`` decorator reads and settles an aiokafka ``ConsumerRecord``."""

    system = KAFKA.name
    carrier = KafkaHeadersCarrier

    def headers(self, record: ConsumerRecord) -> Any:
        return record.headers

    def destination(self, record: ConsumerRecord) -> str:
        return record.topic

    def attempt(self, record: ConsumerRecord) -> int | None:
        owner = owner_of(record)
        return owner.attempt(record) if owner is not None else None

    def attributes(self, record: ConsumerRecord) -> dict[str, Any]:
        size = None if record.value is None else record.serialized_value_size
        return record_attributes(record.partition, record.offset, record.key, size)

    def source(self, record: ConsumerRecord) -> Source:
        return record_source(record, record.partition)

    span_destination = None  # the topic / subject / stream / queue, as on the metrics

    def settle(self, record: ConsumerRecord, outcome: Outcome, reason: str | None) -> bool:
        owner = owner_of(record)
        return owner is not None and owner.settle(record, outcome, reason)


def _client_source(client: Any) -> Source:
    """An aiokafka client's first bootstrap server and ``client_id``."""
    if client is None:
        return ()
    servers = getattr(client, "_bootstrap_servers", None)
    return client_source(servers, getattr(client, "_client_id", None))


register_message_type(ConsumerRecord, RecordAdapter())


class InstrumentedProducer:
    """An ``AIOKafkaProducer`` whose ``send()``/``send_and_wait()`` run in a PRODUCER span.

    The headers (a list of ``(name, bytes)`` pairs, filled in place; none gives a new
    list) get the trace context, event id and publish time.  ``send()``'s span covers
    queueing the record, ``send_and_wait()``'s its delivery too.  ``create_batch()``
    batches are not instrumented.  Everything else is the wrapped producer's.
    """

    def __init__(self, producer: Any) -> None:
        self.wrapped = producer
        self.source = _client_source(getattr(producer, "client", None))
        self._send = _producer(topic_of, system=KAFKA.name, source=self.source)(self._queue)
        self._send_and_wait = _producer(topic_of, system=KAFKA.name, source=self.source)(
            self._deliver
        )

    async def send(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        *args: Any,
        headers: Any = None,
        **kwargs: Any,
    ) -> asyncio.Future:
        return await self._send(topic, value, key, args, kwargs, _header_list(headers))

    async def send_and_wait(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        *args: Any,
        headers: Any = None,
        **kwargs: Any,
    ) -> Any:
        return await self._send_and_wait(topic, value, key, args, kwargs, _header_list(headers))

    async def _queue(
        self, topic: str, value: Any, key: Any, args: tuple, kwargs: dict, headers: list
    ) -> asyncio.Future:
        _note_key(key)
        token = _publishing.set(True)
        try:
            return await self.wrapped.send(topic, value, key, *args, headers=headers, **kwargs)
        finally:
            _publishing.reset(token)

    async def _deliver(
        self, topic: str, value: Any, key: Any, args: tuple, kwargs: dict, headers: list
    ) -> Any:
        _note_key(key)
        token = _publishing.set(True)  # send_and_wait() calls send(): one span
        try:
            return await self.wrapped.send_and_wait(
                topic, value, key, *args, headers=headers, **kwargs
            )
        finally:
            _publishing.reset(token)

    async def __aenter__(self) -> InstrumentedProducer:
        await self.wrapped.start()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.wrapped.stop()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


def _header_list(headers: Any) -> Any:
    """aiokafka takes a list of pairs: none gives a new one, a tuple a writable copy."""
    if headers is None:
        return []
    return list(headers) if isinstance(headers, tuple) else headers


def _note_key(key: Any) -> None:
    text = key_attribute(key)
    if text is not None:
        trace.get_current_span().set_attribute(KAFKA_MESSAGE_KEY, text)


class InstrumentedConsumer:
    """An ``AIOKafkaConsumer`` that can settle what its handlers decide.

    A retry seeks the record's partition back to it (so ``commit()`` without offsets,
    and auto-commit, commit no further).  A dead letter sends the record to
    ``<topic><dead_letter_suffix>`` through ``dead_letter_producer`` in a task;
    ``commit()``, the next ``getone()``/``getmany()`` and ``stop()`` wait for those
    sends first, and ``commit()`` raises if one failed, before any offset moves past
    the record.  Without a dead-letter producer the handler's exception propagates
    on a dead-letter outcome.  Records of a ``getmany()`` batch after a retried one
    on the same partition are delivered again after it (at least once).
    """

    def __init__(
        self,
        consumer: Any,
        dead_letter_producer: Any = None,
        *,
        dead_letter_suffix: str = KAFKA.dead_letter_suffix,
    ) -> None:
        self.wrapped = consumer
        self.sources = PartitionSources(_client_source(getattr(consumer, "_client", None)))
        self.dead_letter_producer = getattr(dead_letter_producer, "wrapped", dead_letter_producer)
        self.dead_letter_suffix = dead_letter_suffix
        self._rewinds = Rewinds()
        self._deliveries = Deliveries(self)
        self._sends: set[asyncio.Task] = set()

    # --- delivering ---------------------------------------------------------------

    async def getone(self, *partitions: TopicPartition) -> ConsumerRecord:
        await self._sent(raise_errors=False)
        record = await self.wrapped.getone(*partitions)
        self._hand_out([record])
        return record

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[ConsumerRecord]]:
        await self._sent(raise_errors=False)
        batches = await self.wrapped.getmany(
            *partitions, timeout_ms=timeout_ms, max_records=max_records
        )
        self._hand_out([record for records in batches.values() for record in records])
        return batches

    def __aiter__(self) -> InstrumentedConsumer:
        return self

    async def __anext__(self) -> ConsumerRecord:
        await self._sent(raise_errors=False)
        record = await self.wrapped.__anext__()
        self._hand_out([record])
        return record

    def _hand_out(self, records: list[ConsumerRecord]) -> None:
        self._deliveries.hand_out(records)
        if not self._rewinds.idle:
            self._rewinds.delivered((r.topic, r.partition, r.offset) for r in records)

    # --- settling (called by the message adapter) -----------------------------------

    def attempt(self, record: ConsumerRecord) -> int:
        return self._rewinds.attempt(record.topic, record.partition, record.offset)

    def settle(self, record: ConsumerRecord, outcome: Outcome, reason: str | None) -> bool:
        if self._rewinds.comes_again(record.topic, record.partition, record.offset):
            return True
        if outcome is Outcome.RETRY:
            self.wrapped.seek(TopicPartition(record.topic, record.partition), record.offset)
            self._rewinds.rewound(record.topic, record.partition, record.offset)
            return True
        if outcome is Outcome.DEAD_LETTER and self.dead_letter_producer is not None:
            destination = record.topic + self.dead_letter_suffix
            send = self.dead_letter_producer.send_and_wait(
                destination,
                record.value,
                record.key,
                headers=dead_letter_headers(record.headers, record.topic, reason),
            )
            token = _publishing.set(True)  # the task's context: the copy is no new send
            try:
                task = asyncio.get_running_loop().create_task(send)
            finally:
                _publishing.reset(token)
            self._sends.add(task)
            note_dead_letter(destination, reason)
            return True
        return False

    async def _sent(self, *, raise_errors: bool) -> None:
        """Wait for the dead-letter sends under way; raise (or log) their failures."""
        if not self._sends:
            return
        sends, self._sends = list(self._sends), set()
        results = await asyncio.gather(*sends, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures and raise_errors:
            raise failures[0]
        for failure in failures:
            logger.error("eventscope: a record could not be dead-lettered: %r", failure)

    # --- committing ----------------------------------------------------------------

    async def commit(self, offsets: dict[TopicPartition, Any] | None = None) -> None:
        await self._sent(raise_errors=True)
        if offsets is not None and self._rewinds.pending():
            offsets = {tp: self._narrowed(tp, value) for tp, value in offsets.items()}
        await self.wrapped.commit(offsets)

    def _narrowed(self, tp: TopicPartition, value: Any) -> Any:
        committable = self._rewinds.committable
        if isinstance(value, int):
            return committable(tp.topic, tp.partition, value)
        offset, metadata = value
        return OffsetAndMetadata(committable(tp.topic, tp.partition, offset), metadata)

    async def stop(self) -> None:
        await self._sent(raise_errors=False)
        self._deliveries.release()
        await self.wrapped.stop()

    async def __aenter__(self) -> InstrumentedConsumer:
        await self.wrapped.start()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.stop()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


def instrument_producer(producer: Any) -> InstrumentedProducer:
    """Wrap an ``AIOKafkaProducer`` so every ``send()`` is traced and counted."""
    return InstrumentedProducer(producer)


def instrument_consumer(
    consumer: Any,
    dead_letter_producer: Any = None,
    *,
    dead_letter_suffix: str = KAFKA.dead_letter_suffix,
) -> InstrumentedConsumer:
    """Wrap an ``AIOKafkaConsumer`` so retries and dead letters happen on Kafka."""
    return InstrumentedConsumer(
        consumer, dead_letter_producer, dead_letter_suffix=dead_letter_suffix
    )
