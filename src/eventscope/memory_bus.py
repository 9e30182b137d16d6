"""An in-process message bus with real consumer-group semantics.

It is the embedded default: the demo runs on it, and applications use it in their
own tests where a broker would be slow to start.  Topics are partitioned append-only
logs; each consumer group has committed offsets per partition (so lag is real and
measured the way Kafka measures it); a subscription retries a failing message in
place up to ``max_attempts`` and then moves it to a dead-letter topic with the
original headers, so the trace continues there.

Delivery is at-least-once.  ``redelivery_rate`` makes that visible on purpose: after
a message was handled, its commit is "lost" with that probability and the message
is delivered again, as happens on a real broker after a crash or a rebalance.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from eventscope.catalog import MEMORY, Outcome
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.carriers import MappingCarrier
from eventscope.instrumentation.messages import register_message_type
from eventscope.lag.collector import Snapshot
from eventscope.lag.readings import ConsumerReading, DepthReading, LagReading


@dataclass(eq=False)
class Message:
    """One delivery of a record: the record's data plus this delivery's attempt."""

    topic: str
    partition: int
    offset: int
    value: Any
    key: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    timestamp: float = 0.0
    attempt: int = 1
    settlement: tuple[Outcome, str | None] | None = None

    def retry(self, reason: str = "retry requested") -> None:
        """Ask the bus to deliver this message again (what ``ctx.retry()`` ends in)."""
        self.settlement = (Outcome.RETRY, reason)

    def dead_letter(self, reason: str) -> None:
        """Ask the bus to move this message to the dead-letter topic."""
        self.settlement = (Outcome.DEAD_LETTER, reason)


class _MemoryAdapter:
    """How the ``@consumer`` decorator reads and settles bus messages."""

    system = MEMORY.name
    carrier = MappingCarrier

    def headers(self, message: Message) -> dict[str, str]:
        return message.headers

    def destination(self, message: Message) -> str:
        return message.topic

    def attempt(self, message: Message) -> int:
        return message.attempt

    def attributes(self, message: Message) -> dict[str, Any]:
        return {"messaging.destination.partition.id": str(message.partition)}

    def settle(self, message: Message, outcome: Outcome, reason: str | None) -> bool:
        message.settlement = (outcome, reason)
        return True


register_message_type(Message, _MemoryAdapter())

Handler = Callable[[Message], Any]


class Subscription:
    """A handler consuming a topic as a member of a consumer group."""

    def __init__(
        self,
        bus: InMemoryBus,
        topic: str,
        group: str,
        handler: Handler,
        max_attempts: int,
        dead_letter_topic: str | None,
        retry_backoff: float,
    ) -> None:
        self.bus = bus
        self.topic = topic
        self.group = group
        self.handler = handler
        self.max_attempts = max_attempts
        self.dead_letter_topic = dead_letter_topic
        self.retry_backoff = retry_backoff
        self.busy = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def _call(self, message: Message) -> BaseException | None:
        try:
            result = self.handler(message)
            if inspect.isawaitable(result):
                if self._loop is None:
                    self._loop = asyncio.new_event_loop()
                self._loop.run_until_complete(result)
        except Exception as exc:
            return exc
        return None

    def handle(self, record: Message) -> None:
        """Deliver one record until it is handled, retried out or dead-lettered."""
        attempt = 1
        while True:
            delivery = self.bus._delivery(record, attempt)
            exc = self._call(delivery)
            if delivery.settlement is not None:
                outcome, reason = delivery.settlement
            elif exc is not None:
                outcome, reason = Outcome.RETRY, type(exc).__qualname__
            else:
                return
            if outcome is Outcome.RETRY:
                if attempt < self.max_attempts:
                    attempt += 1
                    if self.retry_backoff:
                        time.sleep(self.retry_backoff * 2 ** (attempt - 2))
                    continue
                outcome = Outcome.DEAD_LETTER
            if outcome is Outcome.DEAD_LETTER and self.dead_letter_topic is not None:
                self.bus._dead_letter(record, self.dead_letter_topic, reason or "unspecified")
            return

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None


class InMemoryBus:
    """Partitioned topics, consumer groups with committed offsets, retries and a DLQ."""

    def __init__(
        self, *, partitions: int = 1, redelivery_rate: float = 0.0, seed: int | None = None
    ) -> None:
        if partitions < 1:
            raise ValueError("partitions must be at least 1")
        if not 0.0 <= redelivery_rate < 1.0:
            raise ValueError("redelivery_rate must be in [0, 1)")
        self.default_partitions = partitions
        self.redelivery_rate = redelivery_rate
        self._random = random.Random(seed)
        self._cond = threading.Condition(threading.RLock())
        self._topics: dict[str, list[list[Message]]] = {}
        self._committed: dict[tuple[str, str, int], int] = {}
        self._subscriptions: list[Subscription] = []
        self._dead_letter_topics: set[str] = set()
        self._round_robin = 0
        self._threads: list[threading.Thread] = []
        self._stopping = False

    # --- topics and records ---------------------------------------------------

    def create_topic(self, name: str, partitions: int | None = None) -> None:
        with self._cond:
            if name not in self._topics:
                self._topics[name] = [[] for _ in range(partitions or self.default_partitions)]

    def topics(self) -> list[str]:
        with self._cond:
            return sorted(self._topics)

    def publish(
        self,
        topic: str,
        value: Any,
        *,
        key: Any = None,
        headers: dict[str, str] | None = None,
        partition: int | None = None,
    ) -> Message:
        """Append a record; the same key always lands on the same partition."""
        with self._cond:
            self.create_topic(topic)
            log = self._topics[topic]
            if partition is None:
                if key is not None:
                    partition = zlib.crc32(str(key).encode()) % len(log)
                else:
                    partition = self._round_robin % len(log)
                    self._round_robin += 1
            record = Message(
                topic, partition, len(log[partition]), value, key, dict(headers or {}), time.time()
            )
            log[partition].append(record)
            self._cond.notify_all()
            return record

    def _delivery(self, record: Message, attempt: int) -> Message:
        return Message(
            record.topic,
            record.partition,
            record.offset,
            record.value,
            record.key,
            dict(record.headers),
            record.timestamp,
            attempt,
        )

    def _dead_letter(self, record: Message, topic: str, reason: str) -> None:
        headers = dict(record.headers)
        headers[h.DEAD_LETTER_REASON] = reason
        headers[h.ORIGINAL_DESTINATION] = record.topic
        self.publish(topic, record.value, key=record.key, headers=headers)

    # --- consumer groups --------------------------------------------------------

    def subscribe(
        self,
        topic: str,
        group: str,
        handler: Handler,
        *,
        max_attempts: int = 3,
        dead_letter_topic: str | None = "",
        retry_backoff: float = 0.0,
    ) -> Subscription:
        """Consume ``topic`` as a member of ``group``.

        Members of one group share the topic's partitions.  A message is delivered up
        to ``max_attempts`` times when the handler raises or asks for a retry, then
        goes to ``dead_letter_topic`` (``<topic>.dlq`` by default; ``None`` drops it).
        """
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        dlq = (
            MEMORY.dead_letter_destination(topic) if dead_letter_topic == "" else dead_letter_topic
        )
        subscription = Subscription(self, topic, group, handler, max_attempts, dlq, retry_backoff)
        with self._cond:
            self.create_topic(topic)
            if dlq is not None:
                self.create_topic(dlq)
                self._dead_letter_topics.add(dlq)
            self._subscriptions.append(subscription)
            for partition in range(len(self._topics[topic])):
                self._committed.setdefault((group, topic, partition), 0)
            if self._threads and not self._stopping:
                self._start_thread(subscription)
        return subscription

    def _assigned(self, subscription: Subscription) -> list[int]:
        members = [
            s
            for s in self._subscriptions
            if s.group == subscription.group and s.topic == subscription.topic
        ]
        index = members.index(subscription)
        return list(range(len(self._topics[subscription.topic])))[index :: len(members)]

    def _next_record(self, subscription: Subscription) -> Message | None:
        """The oldest uncommitted record on the member's partitions (caller holds lock)."""
        best: Message | None = None
        log = self._topics[subscription.topic]
        for partition in self._assigned(subscription):
            offset = self._committed.get((subscription.group, subscription.topic, partition), 0)
            if offset < len(log[partition]):
                record = log[partition][offset]
                if best is None or record.timestamp < best.timestamp:
                    best = record
        return best

    def _take(self, subscription: Subscription) -> Message | None:
        with self._cond:
            record = self._next_record(subscription)
            subscription.busy = record is not None
            return record

    def _process(self, subscription: Subscription, record: Message) -> None:
        try:
            subscription.handle(record)
            if self.redelivery_rate and self._random.random() < self.redelivery_rate:
                subscription.handle(record)  # the first commit was "lost"
        finally:
            with self._cond:
                key = (subscription.group, record.topic, record.partition)
                self._committed[key] = max(self._committed.get(key, 0), record.offset + 1)
                subscription.busy = False
                self._cond.notify_all()

    def dispatch(self, limit: int | None = None) -> int:
        """Handle pending messages in this thread until none are left; returns how many.

        Deterministic, for tests: no threads, subscriptions take turns one message at
        a time, and dead-lettered messages are handled too if the DLQ has subscribers.
        """
        handled = 0
        progress = True
        while progress and (limit is None or handled < limit):
            progress = False
            for subscription in list(self._subscriptions):
                record = self._take(subscription)
                if record is not None:
                    self._process(subscription, record)
                    handled += 1
                    progress = True
        return handled

    # --- threads -----------------------------------------------------------------

    def start(self) -> None:
        """Run every subscription (present and future) in its own thread."""
        with self._cond:
            self._stopping = False
            for subscription in self._subscriptions:
                self._start_thread(subscription)

    def _start_thread(self, subscription: Subscription) -> None:
        thread = threading.Thread(
            target=self._run,
            args=(subscription,),
            daemon=True,
            name=f"eventscope-{subscription.group}-{subscription.topic}",
        )
        self._threads.append(thread)
        thread.start()

    def _run(self, subscription: Subscription) -> None:
        try:
            while True:
                with self._cond:
                    while not self._stopping and self._next_record(subscription) is None:
                        self._cond.wait(0.5)
                    if self._stopping:
                        return
                record = self._take(subscription)
                if record is not None:
                    self._process(subscription, record)
        finally:
            subscription.close()

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every group has consumed everything; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._idle():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.1))
        return True

    def _idle(self) -> bool:
        return all(not s.busy and self._next_record(s) is None for s in self._subscriptions)

    def stop(self) -> None:
        """Stop the subscription threads after their current message."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            threads, self._threads = self._threads, []
        for thread in threads:
            thread.join()

    # --- offsets and lag -----------------------------------------------------------

    def end_offsets(self, topic: str) -> list[int]:
        with self._cond:
            return [len(p) for p in self._topics.get(topic, [])]

    def committed(self, group: str, topic: str) -> list[int]:
        with self._cond:
            count = len(self._topics.get(topic, []))
            return [self._committed.get((group, topic, p), 0) for p in range(count)]

    def lag(self, group: str, topic: str) -> int:
        """Messages in ``topic`` that ``group`` has not committed yet."""
        return sum(
            e - c
            for e, c in zip(self.end_offsets(topic), self.committed(group, topic), strict=True)
        )

    def groups(self) -> list[tuple[str, str]]:
        """(group, topic) pairs with committed offsets."""
        with self._cond:
            return sorted({(g, t) for g, t, _ in self._committed})

    def lag_readings(self) -> Iterable[LagReading]:
        now = time.time()
        with self._cond:
            readings = []
            for (group, topic, partition), offset in sorted(self._committed.items()):
                log = self._topics[topic][partition]
                behind = len(log) - offset
                seconds = now - log[offset].timestamp if behind > 0 else 0.0
                readings.append(
                    LagReading(
                        MEMORY.name, topic, group, str(partition), behind, seconds, position=offset
                    )
                )
            return readings

    # --- as a lag collector (eventscope.lag) ---------------------

    system = MEMORY.name

    def collect(self) -> Snapshot:
        """Everything the bus knows about lag, in one consistent snapshot."""
        with self._cond:
            return Snapshot(
                list(self.lag_readings()),
                list(self.consumer_readings()),
                list(self.dead_letter_depths()),
            )

    def close(self) -> None:
        """Nothing to release: the bus lives as long as the application holds it."""

    def consumer_readings(self) -> Iterable[ConsumerReading]:
        """Members per (group, topic): the subscriptions sharing its partitions."""
        with self._cond:
            members: dict[tuple[str, str], int] = {}
            for s in self._subscriptions:
                members[(s.group, s.topic)] = members.get((s.group, s.topic), 0) + 1
            return [ConsumerReading(MEMORY.name, t, g, n) for (g, t), n in sorted(members.items())]

    def dead_letter_depths(self) -> Iterable[DepthReading]:
        """Dead-lettered messages not yet consumed by every group reading the DLQ."""
        with self._cond:
            depths = []
            for topic in sorted(self._dead_letter_topics):
                log = self._topics[topic]
                readers = {g for g, t, _ in self._committed if t == topic}
                waiting = sum(
                    len(log[p]) - min((self._committed[(g, topic, p)] for g in readers), default=0)
                    for p in range(len(log))
                )
                depths.append(DepthReading(MEMORY.name, topic, waiting))
            return depths
