"""Numbers for the summary, read back from the Prometheus registry.

Quantiles are interpolated from histogram buckets exactly as PromQL's
``histogram_quantile`` does, so the demo shows what a dashboard would show.
"""

from __future__ import annotations

import math
from collections import defaultdict

from prometheus_client import CollectorRegistry

from eventscope import catalog
from eventscope.catalog import Attr, Metric, prometheus_label

_DESTINATION = prometheus_label(Attr.DESTINATION)


def _matches(labels: dict[str, str], where: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in where.items())


def counter_total(registry: CollectorRegistry, metric: Metric, **where: str) -> float:
    total = 0.0
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == metric.prometheus_name and _matches(sample.labels, where):
                total += sample.value
    return total


def quantile(registry: CollectorRegistry, metric: Metric, q: float, **where: str) -> float | None:
    """``histogram_quantile(q, sum by (le) (metric_bucket{where}))``, or None if empty."""
    buckets: dict[float, float] = defaultdict(float)
    bucket_name = metric.series("_bucket")
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == bucket_name and _matches(sample.labels, where):
                buckets[float(sample.labels["le"])] += sample.value
    return histogram_quantile(q, sorted(buckets.items()))


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus's interpolation over cumulative ``(upper bound, count)`` pairs."""
    if not buckets or buckets[-1][1] == 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound


def outcome_count(registry: CollectorRegistry, destination: str, outcome: str) -> int:
    return int(
        counter_total(
            registry,
            catalog.PROCESS_OUTCOMES,
            **{_DESTINATION: destination, prometheus_label(Attr.OUTCOME): outcome},
        )
    )


def latency_ms(registry: CollectorRegistry, metric: Metric, q: float, destination: str) -> float:
    value = quantile(registry, metric, q, **{_DESTINATION: destination})
    return round(value * 1000, 3) if value is not None else 0.0
