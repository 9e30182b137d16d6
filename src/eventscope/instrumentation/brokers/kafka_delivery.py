"""What an instrumented Kafka consumer (confluent-kafka or aiokafka) remembers.

Kafka has no per-message acknowledgement, so eventscope settles outcomes the way
Spring Kafka's default error handler does:

- **retry in place**: the record's partition is sought back to the record, so the
  same consumer (and only its group) gets it again, in order, with the attempt
  counted here (:class:`Rewinds`); commits made through the wrapper never move past
  a record that is waiting for its retry;
- **dead letter**: the record (key, value, original headers plus the reason and the
  original topic) is written to ``<topic>.dlq`` before the consumer moves on.

The consumer decorator gets only the native record, so the wrappers note which of
them handed out which record (:class:`Deliveries`) until they hand out the next ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from eventscope.catalog import Attr, Outcome
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers.kafka_headers import KafkaHeadersCarrier
from eventscope.instrumentation.brokers.sources import Source, server
from eventscope.instrumentation.header_text import text_key

# Kafka span attributes of the OpenTelemetry messaging conventions.
KAFKA_OFFSET = "messaging.kafka.offset"
KAFKA_MESSAGE_KEY = "messaging.kafka.message.key"
KAFKA_TOMBSTONE = "messaging.kafka.message.tombstone"

Partition = tuple[str, int]


class Settler(Protocol):
    """An instrumented consumer, as the message adapters see it."""

    def attempt(self, record: Any) -> int: ...

    def settle(self, record: Any, outcome: Outcome, reason: str | None) -> bool: ...


_owners: dict[int, tuple[Any, Settler]] = {}
"""id(record) → (record, the wrapper that handed it out).  The entry holds the record,
so its id cannot be reused by another object while the entry exists."""


def owner_of(record: Any) -> Settler | None:
    """The instrumented consumer that delivered ``record``, if it still holds it."""
    entry = _owners.get(id(record))
    return entry[1] if entry is not None and entry[0] is record else None


class Deliveries:
    """The records one wrapper handed out last; released when it hands out more."""

    __slots__ = ("_held", "_owner")

    def __init__(self, owner: Settler) -> None:
        self._owner = owner
        self._held: list[int] = []

    def hand_out(self, records: Iterable[Any]) -> None:
        self.release()
        for record in records:
            _owners[id(record)] = (record, self._owner)
            self._held.append(id(record))

    def hand_out_one(self, record: Any) -> None:
        """:meth:`hand_out` for a single record (a ``poll()``), without building a list."""
        if self._held:
            self.release()
        _owners[id(record)] = (record, self._owner)
        self._held.append(id(record))

    def release(self) -> None:
        for key in self._held:
            _owners.pop(key, None)
        self._held.clear()


class Rewinds:
    """Retries in place: per partition, the record being retried and its attempts.

    One rewind per partition at a time: when a later record of a partition that is
    already rewound asks for a retry (or a dead letter), it needs nothing — it comes
    again after the earlier one.  A rewind is *pending* until the partition delivers
    that offset again; meanwhile nothing past it may be committed.
    """

    __slots__ = ("_attempts", "_pending")

    def __init__(self) -> None:
        self._attempts: dict[Partition, tuple[int, int]] = {}
        self._pending: dict[Partition, int] = {}

    @property
    def idle(self) -> bool:
        """No partition is rewound or retried: deliveries need no bookkeeping."""
        return not self._attempts and not self._pending

    def delivered(self, records: Iterable[tuple[str, int, int]]) -> None:
        """Note a delivery of ``(topic, partition, offset)`` records."""
        first: dict[Partition, int] = {}
        for topic, partition, offset in records:
            known = first.get((topic, partition))
            if known is None or offset < known:
                first[(topic, partition)] = offset
        for key, offset in first.items():
            pending = self._pending.get(key)
            if pending is not None:
                if offset > pending:
                    continue  # not the redelivery yet: keep committing no further
                del self._pending[key]
            tried = self._attempts.get(key)
            if tried is not None and offset > tried[0]:
                del self._attempts[key]  # the consumer moved past the retried record

    def attempt(self, topic: str, partition: int, offset: int) -> int:
        tried = self._attempts.get((topic, partition))
        return tried[1] + 1 if tried is not None and tried[0] == offset else 1

    def comes_again(self, topic: str, partition: int, offset: int) -> bool:
        """Whether this record will be delivered again anyway (its partition is rewound)."""
        pending = self._pending.get((topic, partition))
        return pending is not None and pending <= offset

    def rewound(self, topic: str, partition: int, offset: int) -> None:
        """Record that the partition was sought back to ``offset`` for a retry."""
        self._attempts[(topic, partition)] = (offset, self.attempt(topic, partition, offset))
        self._pending[(topic, partition)] = offset

    def committable(self, topic: str, partition: int, offset: int) -> int:
        """The offset that may be committed: never past a pending rewind."""
        pending = self._pending.get((topic, partition))
        return offset if pending is None else min(offset, pending)

    def pending(self) -> dict[Partition, int]:
        return dict(self._pending)


def topic_of(topic: str, *_: Any, **__: Any) -> str:
    """The ``@producer`` destination of a send whose first argument is the topic."""
    return topic


def dead_letter_headers(
    headers: Sequence[tuple[str, Any]] | None, topic: str, reason: str | None
) -> list[tuple[str, Any]]:
    """The original headers (trace context included) plus why and where from."""
    copied = list(headers or ())
    carrier = KafkaHeadersCarrier(copied)
    carrier.set(h.DEAD_LETTER_REASON, reason or "unspecified")
    carrier.set(h.ORIGINAL_DESTINATION, topic)
    return copied


def client_source(servers: str | Sequence[str] | None, client_id: str | None) -> Source:
    """A Kafka client's ``server.address``/``server.port`` (its first bootstrap server:
    the broker it contacts first, known without a lookup) and ``messaging.client.id``."""
    first = servers.split(",")[0] if isinstance(servers, str) else next(iter(servers or ()), "")
    first = first.strip().rpartition("://")[2]
    host, _, port = first.rpartition(":")
    if not host:
        host, port = first, ""
    pairs = server(host.strip("[]"), int(port) if port.isdigit() else None)
    return (*pairs, (Attr.CLIENT_ID, str(client_id))) if client_id else pairs


class PartitionSources:
    """A consumer's source per partition: its client's pairs and the partition id,
    built once per partition (the metrics' ``messaging.destination.partition.id``)."""

    __slots__ = ("_by_partition", "client")

    def __init__(self, client: Source = ()) -> None:
        self.client = client
        self._by_partition: dict[int, Source] = {}

    def __call__(self, partition: int) -> Source:
        found = self._by_partition.get(partition)
        if found is None:
            found = self._by_partition[partition] = (*self.client, (Attr.PARTITION, str(partition)))
        return found


unowned = PartitionSources()
"""The sources of records from a consumer eventscope does not wrap: the partition only."""


def record_source(record: Any, partition: int) -> Source:
    """The source of a consumed record: its consumer's, if eventscope wraps it."""
    owner = owner_of(record)
    sources = getattr(owner, "sources", unowned) if owner is not None else unowned
    return sources(partition)


def record_attributes(partition: int, offset: int, key: Any, size: int | None) -> dict[str, Any]:
    """Span attributes of one consumed record (``size`` ``None`` means a tombstone)."""
    attributes: dict[str, Any] = {Attr.PARTITION: str(partition), KAFKA_OFFSET: offset}
    text = key_attribute(key)
    if text is not None:
        attributes[KAFKA_MESSAGE_KEY] = text
    if size is None:
        attributes[KAFKA_TOMBSTONE] = True
    else:
        attributes[Attr.BODY_SIZE] = size
    return attributes


def key_attribute(key: Any) -> str | None:
    """``messaging.kafka.message.key`` for a text key; a binary key has no faithful text."""
    return text_key(key)
