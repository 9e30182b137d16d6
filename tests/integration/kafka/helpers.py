"""Topics, single-record sends and polling shared by the Kafka tests."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from eventscope import catalog
from eventscope.catalog import Attr, prometheus_label
from tests.conftest import Recorded

GROUP = prometheus_label(Attr.CONSUMER_GROUP)
OUTCOME = prometheus_label(Attr.OUTCOME)
DESTINATION = prometheus_label(Attr.DESTINATION)
_client_log = logging.getLogger("tests.kafka")


def config(bootstrap: str, **settings: Any) -> dict[str, Any]:
    """Client settings; librdkafka logs to Python logging (pytest keeps it), not stderr."""
    return {"bootstrap.servers": bootstrap, "logger": _client_log, **settings}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_topics(bootstrap: str, topics: dict[str, int]) -> None:
    admin = AdminClient(config(bootstrap))
    futures = admin.create_topics([NewTopic(name, n, 1) for name, n in topics.items()])
    for future in futures.values():
        future.result(10)


def single_record_producer(bootstrap: str) -> Producer:
    """A producer that sends every record in a batch of its own.

    Tansu reports a partition's end offset as its LAST batch's base offset + 1, so a
    multi-record batch would make the end offset (and every lag) under-count.
    """
    return Producer(config(bootstrap, **{"linger.ms": 0, "batch.num.messages": 1}))


def produce_singly(producer: Any, topic: str, count: int, **kwargs: Any) -> None:
    """``count`` records to ``topic``, each flushed before the next (one per batch)."""
    for i in range(count):
        producer.produce(topic, f"order {i}".encode(), **kwargs)
        producer.flush(10)


def assigned_consumer(
    bootstrap: str,
    group: str,
    topic: str,
    partitions: int = 1,
    *,
    store_offsets_automatically: bool = True,
) -> Consumer:
    """A consumer reading ``topic`` from the start by assign(): no group join needed."""
    settings = {
        "group.id": group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": store_offsets_automatically,
    }
    consumer = Consumer(config(bootstrap, **settings))
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    return consumer


def poll_until(
    poll: Callable[[], Message | None], done: Callable[[], bool], timeout: float = 15.0
) -> None:
    """Call ``poll`` until ``done()``; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out waiting for Kafka records"
        poll()


def read_all(bootstrap: str, topic: str, count: int, partitions: int = 1) -> list[Message]:
    consumer = assigned_consumer(bootstrap, unique("reader"), topic, partitions)
    records: list[Message] = []

    def poll() -> None:
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            records.append(message)

    try:
        poll_until(poll, lambda: len(records) >= count)
    finally:
        consumer.close()
    return records


def outcomes(recorded: Recorded, outcome: str, group: str) -> float:
    return recorded.value(catalog.PROCESS_OUTCOMES.series(), **{OUTCOME: outcome, GROUP: group})


def committed(consumer: Any, topic: str, partition: int = 0) -> int:
    (tp,) = consumer.committed([TopicPartition(topic, partition)], timeout=10)
    return tp.offset
