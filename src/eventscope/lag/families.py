"""The catalog's lag gauges as prometheus-client metric families, built at scrape time."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily

from eventscope.lag.observations import LAG_GAUGES, observations
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
