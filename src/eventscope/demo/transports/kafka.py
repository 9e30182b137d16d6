"""The demo on Kafka, with confluent-kafka and eventscope's Kafka wrappers.

``--bootstrap host:port`` runs it on an existing cluster, under names of its own:
topics ``orders-<run id>`` and ``orders-<run id>.dlq``, consumer groups
``billing-<run id>`` and ``shipping-<run id>`` (reported under their plain names, as the
consumers' metrics are), all deleted at the end; so runs on one cluster never meet, and
nothing of anyone else's is touched.  Without it, the demo starts its own Tansu broker
(see :mod:`.tansu`), uses the plain names, and stops it at the end.

Each consumer group is one ``confluent_kafka.Consumer`` in a thread, wrapped by
:func:`~eventscope.instrumentation.brokers.kafka.instrument_consumer`: handlers get
native messages, retries rewind the partition, dead letters go to ``orders.dlq``,
and a message is committed after its handler returns.  Lag and dead-letter depth
come from :class:`~eventscope.lag.kafka.KafkaLagCollector`.

Every record is produced in a batch of its own (``batch.num.messages=1``): Tansu
reports a partition's end offset as its last batch's base offset + 1, so after a
multi-record batch it would under-count and the lag would be wrong.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

from eventscope.catalog import KAFKA
from eventscope.demo.transports.tansu import Tansu
from eventscope.errors import UsageError
from eventscope.instrumentation.brokers.kafka import InstrumentedConsumer, instrument_consumer
from eventscope.lag.collector import CollectorError, Snapshot
from eventscope.lag.kafka import KafkaLagCollector
from eventscope.lag.readings import ConsumerReading, DepthReading, LagReading

logger = logging.getLogger("eventscope.demo.kafka")
ADMIN_TIMEOUT = 10.0
SNAPSHOT_MAX_AGE = 0.5
_PRODUCER = {"linger.ms": 0, "batch.num.messages": 1}  # one record per batch: see above
_CONSUMER = {
    "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
    # Tansu completes a group join after half the session timeout: keep it short.
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 500,
    "fetch.wait.max.ms": 50,
}


class _Subscription:
    """One consumer group: a consumer in a thread, committing after each handler."""

    def __init__(
        self, config: dict[str, Any], topic: str, handler: Callable[[Any], Any], dead_letters: Any
    ) -> None:
        self.topic = topic
        self.handler = handler
        self.consumer: InstrumentedConsumer = instrument_consumer(
            Consumer(config), dead_letter_producer=dead_letters
        )
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, daemon=True, name=f"eventscope-kafka-{config['group.id']}"
        )

    def start(self) -> None:
        self.consumer.subscribe([self.topic])
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            message = self.consumer.poll(0.1)
            if message is None or message.error() is not None:
                continue
            try:
                self.handler(message)
            except Exception:
                # The handler's policy could not be carried out (say, the dead-letter
                # write failed): leave the message uncommitted and try it again.
                logger.exception("kafka demo: handling failed; the message will come again")
                self.consumer.seek(
                    TopicPartition(message.topic(), message.partition(), message.offset())
                )
                continue
            self.consumer.commit(message, asynchronous=False)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        self.consumer.close()


class KafkaTransport:
    system = KAFKA.name
    virtual_host = None

    def __init__(self, bootstrap: str, partitions: int, broker: Tansu | None = None) -> None:
        self.bootstrap = bootstrap
        self.partitions = partitions
        self._broker = broker
        self._config = {"bootstrap.servers": bootstrap, "logger": logger}
        self._admin = AdminClient(self._config)
        self._producer = Producer({**self._config, **_PRODUCER})
        # A producer of their own, so a dead letter's flush does not wait for orders.
        self._dead_letters = Producer({**self._config, **_PRODUCER})
        self._subscriptions: list[_Subscription] = []
        self._groups: list[tuple[str, str]] = []
        self._collector: KafkaLagCollector | None = None
        self._lock = threading.Lock()
        self._snapshot = Snapshot()
        self._taken = float("-inf")
        self._suffix = "" if broker is not None else f"-{uuid.uuid4().hex[:8]}"
        """Appended to topic and group names on a cluster the demo shares with others."""
        self._topics: list[str] = []

    # --- topics and groups ----------------------------------------------------------

    def reserve(self, topic: str) -> str:
        """The plain name on its own Tansu; ``<topic>-<run id>`` on a shared cluster."""
        return topic + self._suffix

    def declare(self, topic: str, groups: Sequence[str]) -> None:
        dead_letter = KAFKA.dead_letter_destination(topic)
        self._create({topic: self.partitions, dead_letter: 1})
        self._topics += [topic, dead_letter]
        self._collector = KafkaLagCollector(
            self.bootstrap,
            groups=[group + self._suffix for group in groups],
            dead_letters=[dead_letter],
        )

    def _delete(self, topics: list[str], groups: list[str]) -> None:
        """On a shared cluster, at the end: drop this run's own topics and groups."""
        futures = [
            *self._admin.delete_topics(topics, request_timeout=ADMIN_TIMEOUT).values(),
            *self._admin.delete_consumer_groups(groups, request_timeout=ADMIN_TIMEOUT).values(),
        ]
        for future in futures:
            try:
                future.result(ADMIN_TIMEOUT)
            except KafkaException as exc:
                if exc.args[0].code() not in (
                    KafkaError.UNKNOWN_TOPIC_OR_PART,
                    KafkaError.GROUP_ID_NOT_FOUND,
                ):
                    raise UsageError(f"kafka at {self.bootstrap}: {exc.args[0].str()}") from exc

    def _create(self, topics: dict[str, int]) -> None:
        new = [NewTopic(name, partitions, 1) for name, partitions in topics.items()]
        for name, future in self._admin.create_topics(new, request_timeout=ADMIN_TIMEOUT).items():
            try:
                future.result(ADMIN_TIMEOUT)
            except KafkaException as exc:
                raise UsageError(
                    f"kafka at {self.bootstrap}: cannot create {name}: {exc.args[0].str()}"
                ) from exc

    # --- messages -----------------------------------------------------------------

    def publish(
        self, topic: str, payload: dict, *, key: str | None, headers: dict[str, str]
    ) -> None:
        self._producer.produce(
            topic, json.dumps(payload).encode(), key, headers=list(headers.items())
        )
        self._producer.poll(0)

    def subscribe(
        self, topic: str, group: str, handler: Callable[[Any], Any], *, max_attempts: int
    ) -> None:
        # max_attempts is the handlers' own policy (@consumer(max_attempts=...)); the
        # wrapper carries out what they decide.
        config = {**self._config, **_CONSUMER, "group.id": group + self._suffix}
        self._subscriptions.append(_Subscription(config, topic, handler, self._dead_letters))
        self._groups.append((group, topic))

    def decode(self, message: Message) -> dict:
        return json.loads(message.value())

    def start(self) -> None:
        for subscription in self._subscriptions:
            subscription.start()

    def drain(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if self._producer.flush(timeout):
            return False
        while time.monotonic() < deadline:
            try:
                if self._drained(self._collect()):
                    return True
            except (CollectorError, KafkaException):
                pass  # not reachable right now: try again until the deadline
            time.sleep(0.1)
        return False

    def _drained(self, snapshot: Snapshot) -> bool:
        """Every group is at the end of every partition, and no dead letter is queued."""
        if len(self._dead_letters) or any(r.messages for r in snapshot.lag):
            return False
        committed = {(r.group, r.destination, r.partition) for r in snapshot.lag}
        ends = self._end_offsets({topic for _, topic in self._groups})
        # A partition without a commit is drained only if nothing was ever written to it.
        return all(
            end == 0 or (group, topic, str(partition)) in committed
            for group, topic in self._groups
            for (end_topic, partition), end in ends.items()
            if end_topic == topic
        )

    def _end_offsets(self, topics: set[str]) -> dict[tuple[str, int], int]:
        request = {
            TopicPartition(topic, p): OffsetSpec.latest()
            for topic in topics
            for p in range(self.partitions)
        }
        futures = self._admin.list_offsets(request, request_timeout=ADMIN_TIMEOUT)
        return {
            (tp.topic, tp.partition): f.result(ADMIN_TIMEOUT).offset for tp, f in futures.items()
        }

    def stop(self) -> None:
        for subscription in self._subscriptions:
            subscription.stop()
        self._producer.flush(ADMIN_TIMEOUT)
        self._dead_letters.flush(ADMIN_TIMEOUT)
        if self._broker is not None:
            self._broker.stop()
        elif self._topics:
            self._delete(self._topics, [group + self._suffix for group, _ in self._groups])

    # --- lag ------------------------------------------------------------------------

    def _collect(self) -> Snapshot:
        with self._lock:
            if self._collector is None:
                return Snapshot()
            snapshot = self._collector.collect()
            self._snapshot = Snapshot(
                [replace(r, group=self._plain(r.group)) for r in snapshot.lag],
                [replace(c, group=self._plain(c.group)) for c in snapshot.consumers],
                snapshot.dead_letters,
            )
            self._taken = time.monotonic()
            return self._snapshot

    def _plain(self, group: str) -> str:
        """A group's name as the consumers report it (without this run's suffix)."""
        return group.removesuffix(self._suffix) if self._suffix else group

    def _recent(self) -> Snapshot:
        """The last snapshot if it is fresh, else a new one (scrapes ask three times)."""
        with self._lock:
            if time.monotonic() - self._taken < SNAPSHOT_MAX_AGE:
                return self._snapshot
        return self._collect()

    def lag(self, group: str, topic: str) -> int:
        """The group's lag; a partition it has not committed on yet counts from its start."""
        committed = {
            int(r.partition): r.messages
            for r in self._recent().lag
            if r.group == group and r.destination == topic
        }
        if len(committed) == self.partitions:
            return sum(committed.values())
        ends = self._end_offsets({topic})
        return sum(committed.get(partition, end) for (_, partition), end in ends.items())

    def lag_readings(self) -> Iterable[LagReading]:
        return self._readings().lag

    def consumer_readings(self) -> Iterable[ConsumerReading]:
        return self._readings().consumers

    def dead_letter_depths(self) -> Iterable[DepthReading]:
        return self._readings().dead_letters

    def _readings(self) -> Snapshot:
        try:
            return self._recent()
        except CollectorError:
            logger.warning("kafka demo: lag unknown", exc_info=True)
            return Snapshot()


def create(options: dict[str, Any]) -> KafkaTransport:
    partitions = options.get("partitions", 3)
    bootstrap = options.get("bootstrap")
    if options.get("url"):
        raise UsageError("the kafka demo takes --bootstrap host:port, not --url")
    if bootstrap:
        return KafkaTransport(bootstrap, partitions)
    broker = Tansu().start()
    try:
        return KafkaTransport(broker.bootstrap, partitions, broker)
    except Exception:
        broker.stop()
        raise
