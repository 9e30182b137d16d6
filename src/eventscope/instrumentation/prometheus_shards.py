"""Per-thread counters for the per-message Prometheus series, summed when scraped.

A prometheus-client child takes its own lock for every ``inc``/``observe``; a message
makes six or eight of them.  Here each thread adds into a list of its own (a shard),
so recording is a few list-slot additions with no lock, and the registry sees the
sums through prometheus-client's supported custom-collector interface
(``CollectorRegistry.register`` and the ``*MetricFamily`` classes).  Only the owning
thread writes to a shard, so no increment is lost however many threads record; a
thread's shard is folded into the retired totals when the thread ends, so its counts
stay and the shard list does not grow with short-lived threads.

The exposition is the one prometheus-client's own ``Counter``, ``Gauge`` and
``Histogram`` give: ``_total`` and ``_created`` for counters, cumulative ``le``
buckets, ``_count``, ``_sum`` and ``_created`` for histograms.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from eventscope import catalog


class Shards:
    """Numbered slots, one list of them per thread; :meth:`totals` sums the lists."""

    def __init__(self) -> None:
        self.local = threading.local()
        self._lock = threading.Lock()
        self._size = 0
        self._live: list[list[float]] = []
        self._retired: list[float] = []
        self._ended: deque[list[float]] = deque()

    def allocate(self, count: int) -> int:
        """Reserve ``count`` new slots (zero in every shard); returns the first one."""
        with self._lock:
            first = self._size
            self._size += count
            for shard in (*self._live, self._retired):
                shard.extend([0] * count)
            return first

    def mine(self) -> list[float]:
        """This thread's shard (created on its first use)."""
        try:
            return self.local.values
        except AttributeError:
            return self._new_shard()

    def _new_shard(self) -> list[float]:
        with self._lock:
            self._fold_ended()
            shard: list[float] = [0] * self._size
            self._live.append(shard)
        self.local.values = shard
        weakref.finalize(threading.current_thread(), self._retire, shard)
        return shard

    def _retire(self, shard: list[float]) -> None:
        """Queue an ended thread's shard for folding.

        This runs when the thread object is collected, which can happen in any thread
        at any allocation, even one holding the lock: so it only appends (atomic), and
        the folding is done by the next caller that holds the lock.
        """
        self._ended.append(shard)

    def _fold_ended(self) -> None:
        """Fold queued shards into the retired totals (the caller holds the lock)."""
        retired = self._retired
        while self._ended:
            shard = self._ended.popleft()
            for index, live in enumerate(self._live):
                if live is shard:
                    del self._live[index]
                    break
            for slot, value in enumerate(shard):
                if value:
                    retired[slot] += value

    def totals(self) -> list[float]:
        with self._lock:
            self._fold_ended()
            totals = list(self._retired)
            for shard in self._live:
                for slot, value in enumerate(shard):
                    if value:
                        totals[slot] += value
            return totals


class ShardedFamily:
    """One metric of the catalog whose series live in :class:`Shards` slots.

    A counter or gauge series takes one slot; a histogram series one per bucket
    (not cumulative) and one for the sum, so ``observe`` is
    ``shard[series + bucket_of(value)] += 1`` and ``shard[series + width - 1] += value``.
    """

    def __init__(self, shards: Shards, metric: catalog.Metric, buckets: Sequence[float]) -> None:
        self.metric = metric
        self.kind = metric.kind
        self._shards = shards
        self._lock = threading.Lock()
        self._series: dict[tuple[str, ...], tuple[int, float]] = {}
        bounds = [float(b) for b in buckets]
        if self.kind is catalog.Kind.HISTOGRAM and (not bounds or bounds[-1] != math.inf):
            bounds.append(math.inf)
        self.bounds = bounds
        self.width = len(bounds) + 1 if self.kind is catalog.Kind.HISTOGRAM else 1

    @property
    def name(self) -> str:
        name = self.metric.prometheus_name
        return name.removesuffix("_total") if self.kind is catalog.Kind.COUNTER else name

    def series(self, *labels: str) -> int:
        """The first slot of the series with these label values (created once)."""
        with self._lock:
            found = self._series.get(labels)
            if found is None:
                found = (self._shards.allocate(self.width), time.time())
                self._series[labels] = found
            return found[0]

    def empty(self) -> Metric:
        labels = list(self.metric.prometheus_labels)
        if self.kind is catalog.Kind.HISTOGRAM:
            return HistogramMetricFamily(self.name, self.metric.help, labels=labels)
        if self.kind is catalog.Kind.COUNTER:
            return CounterMetricFamily(self.name, self.metric.help, labels=labels)
        return GaugeMetricFamily(self.name, self.metric.help, labels=labels)

    def series_now(self) -> list[tuple[tuple[str, ...], tuple[int, float]]]:
        with self._lock:
            return list(self._series.items())

    def family(
        self, series: list[tuple[tuple[str, ...], tuple[int, float]]], totals: list[float]
    ) -> Metric:
        """The family with ``series`` (taken before ``totals``, so all have slots there)."""
        family: Any = self.empty()
        for labels, (slot, created) in series:
            if self.kind is catalog.Kind.HISTOGRAM:
                cumulative, buckets = 0.0, []
                for offset, bound in enumerate(self.bounds):
                    cumulative += totals[slot + offset]
                    buckets.append((floatToGoString(bound), cumulative))
                family.add_metric(labels, buckets, totals[slot + self.width - 1])
                names = self.metric.prometheus_labels
                named = dict(zip(names, labels, strict=True))
                family.add_sample(f"{self.name}_created", named, created)
            elif self.kind is catalog.Kind.COUNTER:
                family.add_metric(labels, totals[slot], created=created)
            else:
                family.add_metric(labels, totals[slot])
        return family


class ShardedCollector(Collector):
    """Exposes the sharded families to a prometheus-client registry."""

    def __init__(self, shards: Shards, families: Iterable[ShardedFamily]) -> None:
        self.shards = shards
        self.families = list(families)

    def describe(self) -> list[Metric]:
        return [family.empty() for family in self.families]

    def collect(self) -> list[Metric]:
        series = [family.series_now() for family in self.families]
        totals = self.shards.totals()  # after the series: a newer one is left for next time
        return [f.family(s, totals) for f, s in zip(self.families, series, strict=True)]
