"""The outbox's metrics: what waits in the table, and how the relay's publishes go.

The two gauges read the table itself at each scrape (``COUNT`` and ``MIN(created_at)``
of the unpublished rows), not the relay's memory: an outbox whose relay has stopped is
exactly the one to alert on, so any process with a connection — the service that
writes the rows, another relay — reports it, whether a relay runs or not.  The relay's
own publish durations and failures are counted in :class:`RelayStats` and exported by
the process that runs the relay.

prometheus-client is imported only by :func:`register_metrics`, as ``configure()`` does.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any

from eventscope import catalog
from eventscope.outbox.table import Backlog

logger = logging.getLogger("eventscope.outbox")


class RelayStats:
    """Cumulative publish durations (histogram buckets) and failures, per destination."""

    def __init__(self, outbox: str, system: str) -> None:
        self.outbox = outbox
        self.system = system
        self.bounds = catalog.OUTBOX_RELAY_DURATION.buckets or ()
        self._lock = threading.Lock()
        self._durations: dict[str, list[float]] = {}
        """destination → per-bucket counts (the last one past every bound), then the sum."""
        self._failures: dict[tuple[str, str], int] = {}

    def published(self, destination: str, seconds: float) -> None:
        with self._lock:
            slots = self._durations.get(destination)
            if slots is None:
                slots = self._durations[destination] = [0.0] * (len(self.bounds) + 2)
            slots[bisect_left(self.bounds, seconds)] += 1
            slots[-1] += seconds

    def failed(self, destination: str, error_type: str) -> None:
        with self._lock:
            key = (destination, error_type)
            self._failures[key] = self._failures.get(key, 0) + 1

    def published_count(self) -> int:
        with self._lock:
            return int(sum(sum(slots[:-1]) for slots in self._durations.values()))

    def failure_count(self) -> int:
        with self._lock:
            return sum(self._failures.values())

    def snapshot(self) -> tuple[dict[str, list[float]], dict[tuple[str, str], int]]:
        with self._lock:
            return {d: list(s) for d, s in self._durations.items()}, dict(self._failures)


def register_metrics(
    registry: Any,
    outbox: str,
    backlog: Callable[[], Iterable[Backlog]],
    stats: RelayStats | None = None,
) -> Any:
    """Export the outbox's gauges (read through ``backlog`` at each scrape) and, when
    given, a relay's ``stats`` into a prometheus-client ``registry``; returns the
    collector (``registry.unregister`` it to stop)."""
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
    )

    waiting_metric, age_metric = catalog.OUTBOX_WAITING, catalog.OUTBOX_OLDEST_AGE
    duration_metric, failure_metric = catalog.OUTBOX_RELAY_DURATION, catalog.OUTBOX_RELAY_FAILURES

    seen: set[str] = set()
    """Destinations this process has seen waiting rows for, or published to."""

    class OutboxCollector:
        def collect(self) -> Iterable[Any]:
            waiting = GaugeMetricFamily(
                waiting_metric.prometheus_name,
                waiting_metric.help,
                labels=waiting_metric.prometheus_labels,
            )
            age = GaugeMetricFamily(
                age_metric.prometheus_name, age_metric.help, labels=age_metric.prometheus_labels
            )
            durations, failures = stats.snapshot() if stats is not None else ({}, {})
            try:
                readings = list(backlog())
            except Exception as exc:  # a database that is down reads as no reading, not 0
                logger.warning("outbox %s: backlog unavailable: %s", outbox, exc)
            else:
                # A destination seen before with nothing waiting now reads 0, not "No
                # data": the backlog query only finds destinations with waiting rows.
                seen.update(durations)
                drained = seen.difference(r.destination for r in readings)
                readings += [Backlog(d, 0, 0.0) for d in sorted(drained)]
                seen.update(r.destination for r in readings)
                for reading in readings:
                    waiting.add_metric([outbox, reading.destination], reading.waiting)
                    age.add_metric([outbox, reading.destination], reading.oldest_age)
            yield waiting
            yield age
            if stats is None:
                return
            histogram = HistogramMetricFamily(
                duration_metric.prometheus_name.removesuffix("_total"),
                duration_metric.help,
                labels=duration_metric.prometheus_labels,
            )
            for destination, slots in durations.items():
                cumulative, buckets = 0.0, []
                for bound, count in zip(stats.bounds, slots, strict=False):
                    cumulative += count
                    buckets.append((repr(float(bound)), cumulative))
                buckets.append(("+Inf", sum(slots[:-1])))
                histogram.add_metric([outbox, stats.system, destination], buckets, slots[-1])
            yield histogram
            counter = CounterMetricFamily(
                failure_metric.prometheus_name.removesuffix("_total"),
                failure_metric.help,
                labels=failure_metric.prometheus_labels,
            )
            for (destination, error_type), count in failures.items():
                counter.add_metric([outbox, stats.system, destination, error_type], count)
            yield counter

    collector = OutboxCollector()
    registry.register(collector)
    return collector
