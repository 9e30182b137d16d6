"""Recording the catalog's metrics into a prometheus-client registry.

The per-message series (durations, message counts, outcomes, in-flight) are added
into per-thread shards (:mod:`~eventscope.instrumentation.prometheus_shards`) and
summed at scrape; dead letters and invalid headers, recorded rarely, are plain
prometheus-client counters.

Kept apart from :mod:`eventscope.instrumentation.meters` because importing
prometheus-client is not free (its package import pulls in ``http.server``): only
``configure()`` imports this module, when Prometheus export is asked for.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from eventscope import catalog
from eventscope.catalog import HeaderProblem, Metric, Outcome
from eventscope.instrumentation.buckets import Buckets, histogram_buckets
from eventscope.instrumentation.lag_health import read_sources
from eventscope.instrumentation.meters import (
    PROCESS,
    SEND,
    ConsumerMeter,
    ProducerMeter,
    Source,
)
from eventscope.instrumentation.outcomes import ReasonLimiter
from eventscope.instrumentation.prometheus_shards import ShardedCollector, ShardedFamily, Shards
from eventscope.lag.families import health_families, lag_families
from eventscope.lag.readings import LagSource


def _rare_counter(metric: Metric, registry: CollectorRegistry) -> Counter:
    """A prometheus-client counter, for series recorded only on rare outcomes."""
    name = metric.prometheus_name.removesuffix("_total")
    return Counter(name, metric.help, metric.prometheus_labels, registry=registry)


class _PromConsumer:
    """One consumer's series: the per-message ones as shard slots, the rare ones as
    prometheus-client children."""

    __slots__ = (
        "_by_error",
        "_dead",
        "_e2e",
        "_e2e_bounds",
        "_families",
        "_in_flight",
        "_invalid",
        "_labels",
        "_local",
        "_outcomes",
        "_process_bounds",
        "_reasons",
        "_shards",
    )

    def __init__(self, families: PrometheusRecorder, system: str, destination: str, group: str):
        self._families = families
        self._shards = families.shards
        self._local = families.shards.local
        self._labels = (system, destination, group)
        self._in_flight = families.in_flight.series(system, destination, group)
        self._e2e = families.end_to_end.series(system, destination, group)
        self._e2e_bounds = families.end_to_end.bounds
        self._process_bounds = families.process.bounds
        self._outcomes = {
            o: families.outcomes.series(system, destination, group, o.value) for o in Outcome
        }
        self._by_error: dict[str | None, tuple[int, int]] = {}
        self._dead: dict[str, Any] = {}
        self._invalid: dict[tuple[str, HeaderProblem], Any] = {}
        self._reasons = ReasonLimiter()

    def _children(self, error_type: str | None) -> tuple[int, int]:
        pair = self._by_error.get(error_type)
        if pair is None:
            labels = (*self._labels, PROCESS, error_type or "")
            pair = (self._families.process.series(*labels), self._families.consumed.series(*labels))
            self._by_error[error_type] = pair
        return pair

    def _shard(self) -> list[float]:
        try:
            return self._local.values
        except AttributeError:
            return self._shards.mine()

    def started(self, count: int) -> None:
        self._shard()[self._in_flight] += count

    def completed(
        self,
        duration: float | None,
        error_type: str | None,
        outcome: Outcome,
        end_to_end: float | None,
        reason: str | None,
    ) -> None:
        try:
            shard = self._local.values
        except AttributeError:
            shard = self._shards.mine()
        shard[self._in_flight] -= 1
        process, consumed = self._by_error.get(error_type) or self._children(error_type)
        if duration is not None:
            bounds = self._process_bounds
            shard[process + bisect_left(bounds, duration)] += 1
            shard[process + len(bounds)] += duration
        shard[consumed] += 1
        shard[self._outcomes[outcome]] += 1
        if end_to_end is not None:
            bounds = self._e2e_bounds
            shard[self._e2e + bisect_left(bounds, end_to_end)] += 1
            shard[self._e2e + len(bounds)] += end_to_end
        if outcome is Outcome.DEAD_LETTER:
            label = self._reasons(reason or "unspecified")
            child = self._dead.get(label)
            if child is None:
                child = self._families.dead_letters.labels(*self._labels, label)
                self._dead[label] = child
            child.inc()

    def processed(self, duration: float, error_type: str | None) -> None:
        process = (self._by_error.get(error_type) or self._children(error_type))[0]
        bounds = self._process_bounds
        shard = self._shard()
        shard[process + bisect_left(bounds, duration)] += 1
        shard[process + len(bounds)] += duration

    def invalid_header(self, header: str, problem: HeaderProblem) -> None:
        child = self._invalid.get((header, problem))
        if child is None:
            child = self._families.invalid_headers.labels(*self._labels, header, problem.value)
            self._invalid[(header, problem)] = child
        child.inc()


class _PromProducer:
    __slots__ = ("_bounds", "_by_error", "_families", "_labels", "_local", "_shards")

    def __init__(self, families: PrometheusRecorder, system: str, destination: str):
        self._families = families
        self._shards = families.shards
        self._local = families.shards.local
        self._bounds = families.operation.bounds
        self._labels = (system, destination, SEND)
        self._by_error: dict[str | None, tuple[int, int]] = {}

    def sent(self, duration: float, error_type: str | None) -> None:
        pair = self._by_error.get(error_type)
        if pair is None:
            labels = (*self._labels, error_type or "")
            pair = (
                self._families.operation.series(*labels),
                self._families.sent.series(*labels),
            )
            self._by_error[error_type] = pair
        try:
            shard = self._local.values
        except AttributeError:
            shard = self._shards.mine()
        operation, bounds = pair[0], self._bounds
        shard[operation + bisect_left(bounds, duration)] += 1
        shard[operation + len(bounds)] += duration
        shard[pair[1]] += 1


class _LagCollector(Collector):
    """Reads lag, dead-letter depth and collection health from the watched sources."""

    def __init__(self) -> None:
        self.sources: list[LagSource] = []

    def describe(self) -> list:
        return []

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        if not self.sources:
            return []
        sources, health = read_sources(self.sources)
        return [*lag_families(sources), *health_families(health)]


class PrometheusRecorder:
    """Records into a prometheus-client registry; one per registry."""

    def __init__(self, registry: CollectorRegistry, buckets: Buckets) -> None:
        self.registry = registry
        self.buckets = buckets

        self.shards = Shards()

        def sharded(metric: Metric) -> ShardedFamily:
            bounds = buckets[metric] if metric.kind is catalog.Kind.HISTOGRAM else ()
            return ShardedFamily(self.shards, metric, bounds)

        # The per-message series, in per-thread shards; the rare ones stay
        # prometheus-client metrics.
        self.operation = sharded(catalog.CLIENT_OPERATION_DURATION)
        self.sent = sharded(catalog.SENT_MESSAGES)
        self.consumed = sharded(catalog.CONSUMED_MESSAGES)
        self.process = sharded(catalog.PROCESS_DURATION)
        self.outcomes = sharded(catalog.PROCESS_OUTCOMES)
        self.end_to_end = sharded(catalog.END_TO_END_DURATION)
        self.in_flight = sharded(catalog.IN_FLIGHT)
        registry.register(
            ShardedCollector(
                self.shards,
                (
                    self.operation,
                    self.sent,
                    self.consumed,
                    self.process,
                    self.outcomes,
                    self.end_to_end,
                    self.in_flight,
                ),
            )
        )
        self.dead_letters = _rare_counter(catalog.DEAD_LETTER_MESSAGES, registry)
        self.invalid_headers = _rare_counter(catalog.INVALID_HEADERS, registry)
        self._lag = _LagCollector()
        registry.register(self._lag)

    def consumer(
        self, system: str, destination: str, group: str, source: Source = ()
    ) -> ConsumerMeter:
        """``source`` is left out: the Prometheus label sets stay the bounded ones the
        generated dashboards and rules query (see docs/semconv.md)."""
        return _PromConsumer(self, system, destination, group)

    def producer(self, system: str, destination: str, source: Source = ()) -> ProducerMeter:
        return _PromProducer(self, system, destination)

    def watch(self, source: LagSource) -> None:
        if source not in self._lag.sources:
            self._lag.sources.append(source)


_recorders_by_registry: dict[int, PrometheusRecorder] = {}
_recorders_lock = threading.Lock()


def prometheus_recorder(
    registry: CollectorRegistry, buckets: Buckets | None = None
) -> PrometheusRecorder:
    """The recorder of ``registry``, created once (a registry refuses duplicate names).

    A registry's histograms keep the buckets they were created with: asking for other
    ones later is an error rather than a silent mismatch with the generated rules.
    """
    buckets = buckets if buckets is not None else histogram_buckets()
    with _recorders_lock:
        recorder = _recorders_by_registry.get(id(registry))
        if recorder is None or recorder.registry is not registry:
            recorder = PrometheusRecorder(registry, buckets)
            _recorders_by_registry[id(registry)] = recorder
        elif dict(recorder.buckets) != dict(buckets):
            raise ValueError(
                "this Prometheus registry already records eventscope's histograms with other "
                "buckets; pass the same buckets to every configure() call"
            )
        return recorder
