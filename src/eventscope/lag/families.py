"""The catalog's lag gauges, and the lag targets' health, as prometheus-client metric
families built at scrape time (for the standalone exporter and in-service collection alike)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from eventscope import catalog
from eventscope.lag.observations import (
    HEALTH_GAUGES,
    LAG_GAUGES,
    TargetHealth,
    error_observations,
    health_observations,
    observations,
)
from eventscope.lag.readings import LagSource


def lag_families(sources: Iterable[LagSource]) -> list[GaugeMetricFamily]:
    """The catalog's lag, pending, position, member and depth gauges for ``sources``."""
    families = {
        metric: GaugeMetricFamily(
            metric.prometheus_name, metric.help, labels=metric.prometheus_labels
        )
        for metric in LAG_GAUGES
    }
    for observed in observations(sources):
        families[observed.metric].add_metric(observed.labels, observed.value)
    return list(families.values())


def health_families(
    health: Iterable[TargetHealth],
) -> list[GaugeMetricFamily | CounterMetricFamily]:
    """Target up, collection duration and the collection-error counter for ``health``."""
    health = list(health)
    gauges = {
        metric: GaugeMetricFamily(
            metric.prometheus_name, metric.help, labels=metric.prometheus_labels
        )
        for metric in HEALTH_GAUGES
    }
    for observed in health_observations(health):
        gauges[observed.metric].add_metric(observed.labels, observed.value)
    errors = CounterMetricFamily(
        catalog.LAG_COLLECTION_ERRORS.prometheus_name.removesuffix("_total"),
        catalog.LAG_COLLECTION_ERRORS.help,
        labels=catalog.LAG_COLLECTION_ERRORS.prometheus_labels,
    )
    for observed in error_observations(health):
        errors.add_metric(observed.labels, observed.value)
    return [*gauges.values(), errors]
