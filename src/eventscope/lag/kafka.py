"""Kafka consumer lag and dead-letter depth, from the broker's admin API.

One collection asks the cluster, with confluent-kafka's ``AdminClient``:

1. the consumer groups (``ListGroups``) unless the options name them;
2. each group's committed offsets (``OffsetFetch``, one request per group, all in
   flight together) and members (``DescribeGroups``, one request);
3. the end offsets of every partition those groups committed on and of the
   dead-letter topics in one batched ``ListOffsets`` call (the client splits it per
   partition leader), and the dead-letter topics' start offsets in a second one —
   not a round trip per partition.

Lag on a partition is ``end offset - committed offset`` (never below 0) and the
position is the committed offset.  Partitions a group never committed on are left
out, as ``kafka-consumer-groups.sh`` shows them without a lag.  Members count the
group's members assigned a partition of the topic (unknown when the broker does not
describe them).  Lag in seconds is estimated from the end offsets this
collector saw at earlier collections (see
:mod:`~eventscope.lag.kafka_history`), so it is unknown at the first
collection.  A dead-letter topic's depth is the records it retains (``end - start``
summed over its partitions).

A broker that cannot be reached or does not answer within ``timeout`` seconds raises
:class:`~eventscope.lag.collector.CollectorError`; no partial
readings are returned.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from confluent_kafka import (
    ConsumerGroupState,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, OffsetSpec

from eventscope.catalog import KAFKA
from eventscope.errors import UsageError
from eventscope.lag.collector import CollectorError, Snapshot
from eventscope.lag.kafka_history import DEFAULT_POINTS, OffsetHistory
from eventscope.lag.readings import ConsumerReading, DepthReading, LagReading

DEFAULT_TIMEOUT = 5.0
OPTIONS = ("bootstrap", "groups", "dead_letters", "timeout")

_MEMBERLESS = (ConsumerGroupState.EMPTY, ConsumerGroupState.DEAD)
_client_log = logging.getLogger("eventscope.lag.kafka")
Partition = tuple[str, int]


class KafkaLagCollector:
    """Reads lag for ``groups`` (``None``: every group) from the cluster at ``bootstrap``.

    ``dead_letters`` names the dead-letter topics (``None``: every topic ending in
    ``.dlq``); ``config`` adds librdkafka settings (security, client id...);
    ``clock`` is the wall clock the lag-in-seconds estimate uses.
    """

    system = KAFKA.name

    def __init__(
        self,
        bootstrap: str,
        *,
        groups: list[str] | None = None,
        dead_letters: list[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        config: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        history_points: int = DEFAULT_POINTS,
    ) -> None:
        self.bootstrap = bootstrap
        self.groups = groups
        self.dead_letters = dead_letters
        self.timeout = timeout
        self._clock = clock
        self._history_points = history_points
        self._histories: dict[Partition, OffsetHistory] = {}
        self._lock = threading.Lock()  # one collection at a time: they share the histories
        self._admin = AdminClient(
            {
                "bootstrap.servers": bootstrap,
                "socket.connection.setup.timeout.ms": max(1000, int(timeout * 1000)),
                "logger": _client_log,
                **(config or {}),
            }
        )

    # --- asking the cluster -----------------------------------------------------------

    def _wait(self, what: str, future: Future, *, missing_ok: bool = False) -> Any:
        """The answer; ``None`` for a topic gone meanwhile if ``missing_ok``."""
        try:
            return future.result(timeout=self.timeout + 1)
        except FutureTimeout:
            raise self._failure(what, f"no answer within {self.timeout:g} s") from None
        except KafkaException as exc:
            error = exc.args[0]
            if missing_ok and error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                return None
            raise self._failure(what, error.str()) from exc

    def _failure(self, what: str, why: str) -> CollectorError:
        return CollectorError(
            f"Kafka at {self.bootstrap}: {what} failed ({why}); "
            "is the broker up and the bootstrap address right?"
        )

    def _group_ids(self) -> list[str]:
        if self.groups is not None:
            return list(self.groups)
        listing = self._wait(
            "listing consumer groups",
            self._admin.list_consumer_groups(request_timeout=self.timeout),
        )
        if listing.errors:
            raise self._failure("listing consumer groups", listing.errors[0].str())
        return sorted(g.group_id for g in listing.valid)

    def _committed(self, groups: list[str]) -> dict[str, dict[Partition, int]]:
        futures = {
            group: self._admin.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group)], request_timeout=self.timeout
            )[group]
            for group in groups
        }
        committed: dict[str, dict[Partition, int]] = {}
        for group, future in futures.items():
            result = self._wait(f"reading the offsets of group {group!r}", future)
            committed[group] = {
                (tp.topic, tp.partition): tp.offset
                for tp in result.topic_partitions
                if tp.offset >= 0 and tp.error is None
            }
        return committed

    def _members(self, groups: list[str]) -> dict[str, dict[str, int] | None]:
        """Per group, how many members are assigned a partition of each topic.

        ``None`` for a group the broker describes as not empty yet lists no members
        for (Tansu answers DescribeGroups with an empty member list, in state
        STABLE or UNKNOWN, even for an active group): unknown, rather than a false 0.
        """
        if not groups:
            return {}
        futures = self._admin.describe_consumer_groups(groups, request_timeout=self.timeout)
        members: dict[str, dict[str, int] | None] = {}
        for group, future in futures.items():
            description = self._wait(f"describing group {group!r}", future)
            if not description.members and description.state not in _MEMBERLESS:
                members[group] = None  # "active" yet nobody in it: the broker does not say
                continue
            counts: dict[str, int] = {}
            for member in description.members:
                assigned = member.assignment.topic_partitions if member.assignment else []
                for topic in {tp.topic for tp in assigned}:
                    counts[topic] = counts.get(topic, 0) + 1
            members[group] = counts
        return members

    def _dead_letter_partitions(self) -> list[Partition]:
        if self.dead_letters == []:
            return []
        metadata = self._wait_metadata()
        names = self.dead_letters
        if names is None:
            names = [t for t in metadata if KAFKA.is_dead_letter(t)]
        return [(t, p) for t in names if t in metadata for p in metadata[t]]

    def _wait_metadata(self) -> dict[str, list[int]]:
        try:
            metadata = self._admin.list_topics(timeout=self.timeout)
        except KafkaException as exc:
            raise self._failure("reading topic metadata", exc.args[0].str()) from exc
        return {name: sorted(t.partitions) for name, t in metadata.topics.items()}

    def _offsets(self, partitions: Iterable[Partition], spec: OffsetSpec) -> dict[Partition, int]:
        request = {TopicPartition(t, p): spec for t, p in partitions}
        if not request:
            return {}
        futures = self._admin.list_offsets(request, request_timeout=self.timeout)
        offsets = {}
        for tp, future in futures.items():
            # A topic deleted since the group committed on it has nothing to measure.
            found = self._wait(f"listing offsets of {tp.topic}", future, missing_ok=True)
            if found is not None:
                offsets[(tp.topic, tp.partition)] = found.offset
        return offsets

    # --- the collection -----------------------------------------------------------

    def collect(self) -> Snapshot:
        with self._lock:
            return self._collect()

    def _collect(self) -> Snapshot:
        groups = self._group_ids()
        committed = self._committed(groups)
        members = self._members(groups)
        dead_letters = self._dead_letter_partitions()
        consumed = {tp for offsets in committed.values() for tp in offsets}
        ends = self._offsets(consumed | set(dead_letters), OffsetSpec.latest())
        starts = self._offsets(dead_letters, OffsetSpec.earliest())
        now = self._clock()
        self._remember(ends, now)
        lag: list[LagReading] = []
        consumers: list[ConsumerReading] = []
        for group in groups:
            topics = set()
            for (topic, partition), offset in sorted(committed[group].items()):
                end = ends.get((topic, partition))
                if end is None:
                    continue
                topics.add(topic)
                lag.append(
                    LagReading(
                        KAFKA.name,
                        topic,
                        group,
                        str(partition),
                        max(0, end - offset),
                        self._histories[(topic, partition)].lag_seconds(offset, end, now),
                        position=offset,
                    )
                )
            counts = members.get(group)
            consumers.extend(
                ConsumerReading(
                    KAFKA.name, topic, group, None if counts is None else counts.get(topic, 0)
                )
                for topic in sorted(topics)
            )
        depths: dict[str, int] = {}
        for key in dead_letters:
            if key in ends and key in starts:
                depths[key[0]] = depths.get(key[0], 0) + max(0, ends[key] - starts[key])
        dead = [DepthReading(KAFKA.name, topic, n) for topic, n in sorted(depths.items())]
        return Snapshot(lag, consumers, dead)

    def _remember(self, ends: dict[Partition, int], now: float) -> None:
        """Add this collection's end offsets to the histories; forget gone partitions."""
        histories = {}
        for key, end in ends.items():
            history = self._histories.get(key) or OffsetHistory(self._history_points)
            history.add(end, now)
            histories[key] = history
        self._histories = histories

    def close(self) -> None:
        """Nothing to release: the admin client closes when dropped."""


def from_options(options: dict[str, Any]) -> KafkaLagCollector:
    """A collector from ``lag.yaml`` / ``eventscope lag`` options.

    ``bootstrap`` (required), ``groups``, ``dead_letters``, ``timeout``; any key with a
    dot (``security.protocol``, ``sasl.username``...) is a librdkafka setting.
    """
    unknown = [k for k in options if k not in OPTIONS and "." not in k]
    if unknown:
        raise UsageError(
            f"kafka: unknown option {unknown[0]!r} (expected {', '.join(OPTIONS)},"
            " or a librdkafka setting such as security.protocol)"
        )
    bootstrap = options.get("bootstrap")
    if not isinstance(bootstrap, str) or not bootstrap.strip():
        raise UsageError("kafka: 'bootstrap' is required: the brokers as host:port[,host:port]")
    names = {}
    for key in ("groups", "dead_letters"):
        value = options.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) and v for v in value)
        ):
            raise UsageError(f"kafka: {key!r} must be a list of names, got {value!r}")
        names[key] = value
    timeout = options.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise UsageError(f"kafka: 'timeout' must be a positive number of seconds, got {timeout!r}")
    config = {k: v for k, v in options.items() if "." in k}
    try:
        return KafkaLagCollector(
            bootstrap.strip(),
            groups=names["groups"],
            dead_letters=names["dead_letters"],
            timeout=float(timeout),
            config=config,
        )
    except KafkaException as exc:
        raise UsageError(f"kafka: bad client setting: {exc.args[0].str()}") from exc
