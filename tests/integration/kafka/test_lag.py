"""The Kafka lag collector against a real broker (Tansu): lag, seconds, depth, failures.

Records are sent one per batch throughout: Tansu reports a partition's end offset as
its last batch's base offset + 1, so a multi-record batch would make it under-count.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from confluent_kafka import Consumer, Message, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from eventscope import DeadLetter, consumer
from eventscope.demo.transports.tansu import free_port
from eventscope.errors import UsageError
from eventscope.instrumentation.brokers import kafka
from eventscope.lag import CollectorError
from eventscope.lag.kafka import KafkaLagCollector, from_options
from eventscope.lag.kafka_history import OffsetHistory
from tests.integration.kafka.helpers import (
    assigned_consumer,
    config,
    create_topics,
    poll_until,
    produce_singly,
    single_record_producer,
    unique,
)

pytestmark = pytest.mark.kafka


class Clock:
    """The wall clock the collector's lag-in-seconds estimate reads, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def commit(bootstrap: str, group: str, offsets: dict[tuple[str, int], int]) -> None:
    """Commit offsets for ``group`` as its consumers would (no group join needed)."""
    committer = Consumer(config(bootstrap, **{"group.id": group}))
    committer.commit(
        offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False
    )
    committer.close()


def by_partition(collector: KafkaLagCollector, topic: str) -> dict[str, tuple[int, int | None]]:
    return {
        r.partition: (r.messages, r.position)
        for r in collector.collect().lag
        if r.destination == topic
    }


def test_end_offsets_are_exact_after_single_record_sends(
    bootstrap: str, new_topic: Callable[..., str]
) -> None:
    """What the collector relies on: after N single-record batches the end offset is N."""
    topic = new_topic(partitions=3)
    producer = single_record_producer(bootstrap)
    for partition, count in enumerate((7, 1, 12)):
        produce_singly(producer, topic, count, partition=partition)
    admin = AdminClient(config(bootstrap))
    futures = admin.list_offsets({TopicPartition(topic, p): OffsetSpec.latest() for p in range(3)})
    assert [f.result(10).offset for f in futures.values()] == [7, 1, 12]


def test_lag_is_produced_minus_committed_per_partition(
    bootstrap: str, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=3)
    producer = single_record_producer(bootstrap)
    for partition, count in enumerate((5, 3, 4)):
        produce_singly(producer, topic, count, partition=partition)
    group = unique("billing")
    commit(bootstrap, group, {(topic, 0): 2, (topic, 1): 3, (topic, 2): 0})
    collector = KafkaLagCollector(bootstrap, groups=[group], dead_letters=[])
    assert by_partition(collector, topic) == {"0": (3, 2), "1": (0, 3), "2": (4, 0)}
    (members,) = collector.collect().consumers
    assert (members.destination, members.group) == (topic, group)
    assert members.members == 0  # committed through assign(): an empty group


def test_lag_in_seconds_grows_while_the_group_is_stopped_and_falls_after(
    bootstrap: str, new_topic: Callable[..., str]
) -> None:
    topic = new_topic()
    group = unique("billing")
    producer = single_record_producer(bootstrap)
    produce_singly(producer, topic, 4)
    commit(bootstrap, group, {(topic, 0): 1})
    clock = Clock()
    collector = KafkaLagCollector(bootstrap, groups=[group], dead_letters=[], clock=clock)

    def seconds() -> float | None:
        (reading,) = collector.collect().lag
        return reading.seconds

    assert seconds() is None  # no history yet: unknown, not zero
    clock.now += 10
    assert seconds() == pytest.approx(10)
    clock.now += 20
    assert seconds() == pytest.approx(30)
    # New records meanwhile do not make the oldest uncommitted one younger.
    produce_singly(producer, topic, 2)
    clock.now += 5
    assert seconds() == pytest.approx(35)
    # The group resumes and commits offset 5: the end offset was 4 at t=30 and 6 at
    # t=35, so record 5 is estimated to have been written at t=32.5.
    commit(bootstrap, group, {(topic, 0): 5})
    clock.now += 5
    assert seconds() == pytest.approx(40 - 32.5)
    commit(bootstrap, group, {(topic, 0): 6})
    clock.now += 1
    assert seconds() == 0.0


def test_a_topic_deleted_since_the_commit_is_left_out(
    bootstrap: str, new_topic: Callable[..., str]
) -> None:
    kept, gone = new_topic(), new_topic()
    producer = single_record_producer(bootstrap)
    produce_singly(producer, kept, 2)
    produce_singly(producer, gone, 2)
    group = unique("billing")
    commit(bootstrap, group, {(kept, 0): 1, (gone, 0): 1})
    admin = AdminClient(config(bootstrap))
    admin.delete_topics([gone])[gone].result(10)
    collector = KafkaLagCollector(bootstrap, groups=[group], dead_letters=[])
    assert [(r.destination, r.messages) for r in collector.collect().lag] == [(kept, 1)]


def test_every_group_and_every_dlq_topic_by_default(
    bootstrap: str, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=2, dead_letter=True)
    producer = kafka.instrument_producer(single_record_producer(bootstrap))
    produce_singly(producer, topic, 3, partition=0)
    produce_singly(producer, topic, 2, partition=1)

    @consumer(group="billing")
    def bill(message: Message) -> None:
        raise DeadLetter("unknown customer")

    group = unique("billing")
    source = kafka.instrument_consumer(
        assigned_consumer(bootstrap, group, topic, 2), dead_letter_producer=producer
    )
    handled: list[int] = []

    def poll() -> None:
        message = source.poll(0.2)
        if message is not None and message.error() is None:
            bill(message)
            source.commit(message, asynchronous=False)
            handled.append(message.offset())

    poll_until(poll, lambda: len(handled) == 4)  # one record is left behind
    source.close()

    snapshot = KafkaLagCollector(bootstrap).collect()
    lag = {r.partition: r.messages for r in snapshot.lag if r.group == group}
    assert sum(lag.values()) == 1 and set(lag) == {"0", "1"}
    depths = {d.destination: d.messages for d in snapshot.dead_letters}
    assert depths[topic + ".dlq"] == 4  # every dead-lettered record, nothing else


@pytest.fixture(scope="module")
def subscribed(bootstrap: str) -> Iterator[tuple[Consumer, str, str]]:
    """The module's one consumer-group join (Tansu takes half the session timeout)."""
    topic, group = unique("orders"), unique("shipping")
    create_topics(bootstrap, {topic: 2})
    produce_singly(single_record_producer(bootstrap), topic, 6, key=b"same-partition")
    member = Consumer(
        config(
            bootstrap,
            **{
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 500,
            },
        )
    )
    member.subscribe([topic])
    yield member, topic, group
    member.close()


def test_a_subscribed_group_reports_consumed_minus_produced(
    subscribed: tuple[Consumer, str, str], bootstrap: str
) -> None:
    member, topic, group = subscribed
    taken: list[Message] = []

    def poll() -> None:
        message = member.poll(0.2)
        if message is not None and message.error() is None:
            taken.append(message)

    poll_until(poll, lambda: len(taken) == 4, timeout=30)
    member.commit(taken[-1], asynchronous=False)
    partition = str(taken[-1].partition())
    snapshot = KafkaLagCollector(bootstrap, groups=[group]).collect()
    assert [(r.destination, r.partition, r.messages, r.position) for r in snapshot.lag] == [
        (topic, partition, 2, 4)
    ]
    (reading,) = snapshot.consumers
    # Tansu describes an active group with no members (state STABLE or UNKNOWN):
    # the collector says "unknown" rather than a false 0.
    assert reading.members is None


def test_an_unreachable_broker_raises_a_collector_error() -> None:
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    collector = KafkaLagCollector(address, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(CollectorError, match=f"Kafka at {address}: listing consumer groups"):
        collector.collect()
    elapsed = time.monotonic() - started
    print(f"unreachable broker reported after {elapsed:.2f} s")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "'bootstrap' is required"),
        ({"bootstrap": "h:1", "url": "x"}, "unknown option 'url'"),
        ({"bootstrap": "h:1", "groups": "billing"}, "'groups' must be a list"),
        ({"bootstrap": "h:1", "dead_letters": [""]}, "'dead_letters' must be a list"),
        ({"bootstrap": "h:1", "timeout": 0}, "'timeout' must be a positive number"),
        ({"bootstrap": "h:1", "no.such.setting": "1"}, "bad client setting"),
    ],
)
def test_bad_options_are_usage_errors(options: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        from_options(options)


def test_options_build_a_collector() -> None:
    collector = from_options(
        {"bootstrap": "h:1", "groups": ["billing"], "timeout": 2, "client.id": "lag"}
    )
    assert (collector.bootstrap, collector.groups, collector.timeout) == ("h:1", ["billing"], 2.0)


def test_a_recreated_topic_starts_a_new_history() -> None:
    history = OffsetHistory()
    history.add(10, 100.0)
    history.add(20, 110.0)
    assert history.lag_seconds(15, 20, 120.0) == pytest.approx(15)
    history.add(3, 130.0)  # the end offset went back: the topic was recreated
    assert history.lag_seconds(1, 3, 130.0) is None
    history.add(3, 140.0)
    assert history.lag_seconds(1, 3, 140.0) == pytest.approx(10)
