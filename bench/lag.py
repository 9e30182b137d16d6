"""One Kafka lag collection over many partitions, against per-partition round trips.

The collector asks for every committed offset of a group in one request and every
end offset in one batched ``ListOffsets`` call.  The baseline is what a first
script does: for each partition, ask the group's committed offset and the
partition's watermarks (two round trips per partition).  Both run against the same
broker, topic and group in the same run, taking turns; the numbers are medians.

The broker is Tansu (started here on a free loopback port) unless ``--bootstrap``
names another.  Every partition holds one record and the group has committed offset
0 everywhere, so both variants must report a lag of exactly one per partition.

Run: ``python bench/lag.py [--partitions 1000] [--repeat 5] [--bootstrap H:P] [--json]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import statistics
import time
import uuid
from collections.abc import Callable, Iterator

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from eventscope.demo.transports.tansu import Tansu
from eventscope.lag.kafka import KafkaLagCollector

TARGET_SECONDS = 1.0
_log = logging.getLogger("bench.lag")


@contextlib.contextmanager
def broker(bootstrap: str | None) -> Iterator[str]:
    if bootstrap:
        yield bootstrap
        return
    with Tansu() as tansu:
        yield tansu.bootstrap


def prepare(bootstrap: str, partitions: int) -> tuple[str, str]:
    """A topic with one record per partition and a group committed at offset 0."""
    topic, group = f"bench-lag-{uuid.uuid4().hex[:8]}", f"bench-{uuid.uuid4().hex[:8]}"
    config = {"bootstrap.servers": bootstrap, "logger": _log}
    admin = AdminClient(config)
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(30)
    # One record per batch: Tansu reports the end offset as the last batch's base + 1.
    producer = Producer({**config, "linger.ms": 0, "batch.num.messages": 1})
    for partition in range(partitions):
        producer.produce(topic, b"order", partition=partition)
        producer.flush(10)
    committer = Consumer({**config, "group.id": group})
    committer.commit(
        offsets=[TopicPartition(topic, p, 0) for p in range(partitions)], asynchronous=False
    )
    committer.close()
    return topic, group


def batched(bootstrap: str, group: str) -> Callable[[], int]:
    collector = KafkaLagCollector(bootstrap, groups=[group], dead_letters=[])
    return lambda: sum(r.messages for r in collector.collect().lag)


def per_partition(bootstrap: str, topic: str, group: str, partitions: int) -> Callable[[], int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "logger": _log})

    def collect() -> int:
        lag = 0
        for partition in range(partitions):
            tp = TopicPartition(topic, partition)
            (committed,) = consumer.committed([tp], timeout=10)
            _, end = consumer.get_watermark_offsets(tp, timeout=10)
            lag += end - committed.offset
        return lag

    return collect


def run(bootstrap: str | None, partitions: int, repeat: int) -> dict:
    with broker(bootstrap) as address:
        topic, group = prepare(address, partitions)
        variants = {
            "batched": batched(address, group),
            "per_partition": per_partition(address, topic, group, partitions),
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(repeat):
            for name, collect in variants.items():
                started = time.perf_counter()
                lag = collect()
                times[name].append(time.perf_counter() - started)
                if lag != partitions:
                    raise SystemExit(f"{name} reported a lag of {lag}, expected {partitions}")
    batched_s = statistics.median(times["batched"])
    naive_s = statistics.median(times["per_partition"])
    return {
        "broker": bootstrap or "tansu (started here)",
        "partitions": partitions,
        "repeat": repeat,
        "batched_collection_s": round(batched_s, 4),
        "per_partition_collection_s": round(naive_s, 4),
        "per_partition_vs_batched": round(naive_s / batched_s, 1),
        "target_s": TARGET_SECONDS,
        "target_met": batched_s < TARGET_SECONDS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partitions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--bootstrap", help="an existing Kafka (default: start Tansu)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.bootstrap, args.partitions, args.repeat)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"one lag collection over {result['partitions']} partitions ({result['broker']})")
    print(f"  batched (eventscope)     {result['batched_collection_s'] * 1000:9.1f} ms")
    print(f"  per-partition baseline   {result['per_partition_collection_s'] * 1000:9.1f} ms")
    print(f"  baseline / batched       {result['per_partition_vs_batched']:9.1f}x")
    verdict = "met" if result["target_met"] else "NOT met"
    print(f"  target < {TARGET_SECONDS:g} s: {verdict}")


if __name__ == "__main__":
    main()
