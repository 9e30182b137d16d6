"""Per-thread Prometheus shards: nothing lost when threads record at once, nothing lost
when they end, and the same series prometheus-client's own metrics would give."""

from __future__ import annotations

import gc
import threading
from bisect import bisect_left

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from eventscope import catalog, consumer, producer
from eventscope.instrumentation.prometheus_shards import ShardedCollector, ShardedFamily, Shards

THREADS = 8
PER_THREAD = 3000
FLOW = {"messaging_system": "memory", "messaging_destination_name": "orders"}


def _in_threads(work) -> None:
    start = threading.Barrier(THREADS)

    def run() -> None:
        start.wait()
        for _ in range(PER_THREAD):
            work()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_eight_threads_recording_at_once_lose_no_increment(recorded) -> None:
    @producer("orders", system="memory")
    def send(value: bytes, headers: dict) -> None:
        handle({"value": value, "headers": headers})

    @consumer("orders", group="billing", system="memory")
    def handle(message: dict) -> None:
        return None

    scrapes: list[float] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def scrape() -> None:  # a scrape running meanwhile must not disturb the counts
        try:
            while not stop.is_set():
                scrapes.append(recorded.value("messaging_client_sent_messages_total"))
        except BaseException as exc:
            failures.append(exc)

    scraper = threading.Thread(target=scrape)
    scraper.start()
    try:
        _in_threads(lambda: send(b"{}", {}))
    finally:
        stop.set()
        scraper.join()

    assert failures == []
    total = THREADS * PER_THREAD
    group = {**FLOW, "messaging_consumer_group_name": "billing"}
    assert recorded.value("messaging_client_sent_messages_total", **FLOW) == total
    assert recorded.value("messaging_client_operation_duration_seconds_count", **FLOW) == total
    assert recorded.value("messaging_client_consumed_messages_total", **group) == total
    assert recorded.value("messaging_process_duration_seconds_count", **group) == total
    assert recorded.value("eventscope_process_outcomes_total", eventscope_outcome="ok") == total
    assert recorded.value("eventscope_end_to_end_duration_seconds_count", **group) == total
    assert recorded.value("eventscope_consumer_in_flight", **group) == 0
    assert scrapes and scrapes == sorted(scrapes)  # counters never went backwards


def test_counts_of_ended_threads_are_kept_and_their_shards_folded() -> None:
    shards = Shards()
    family = ShardedFamily(shards, catalog.SENT_MESSAGES, ())
    slot = family.series("memory", "orders", "send", "")

    def add() -> None:
        shards.mine()[slot] += 1

    _in_threads(add)
    gc.collect()  # the ended threads' objects go, and with them their shards
    assert shards.totals()[slot] == THREADS * PER_THREAD
    assert len(shards._live) == 0  # folded by that scrape (this thread never added)


def test_histogram_series_match_prometheus_client_exposition() -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    metric = catalog.PROCESS_DURATION
    buckets = (0.005, 0.1, 1.0)
    family = ShardedFamily(Shards(), metric, buckets)
    ours.register(ShardedCollector(family._shards, [family]))
    reference = Histogram(
        metric.prometheus_name,
        metric.help,
        metric.prometheus_labels,
        registry=theirs,
        buckets=buckets,
    )
    labels = ("kafka", "orders", "billing", "process", "")
    slot = family.series(*labels)
    child = reference.labels(*labels)
    shard = family._shards.mine()
    for value in (0.001, 0.005, 0.05, 0.5, 5.0, 0.1):
        shard[slot + bisect_left(family.bounds, value)] += 1
        shard[slot + family.width - 1] += value
        child.observe(value)

    def lines(registry: CollectorRegistry) -> list[str]:
        text = generate_latest(registry).decode()
        return [line for line in text.splitlines() if "_created" not in line]

    assert lines(ours) == lines(theirs)
