"""The catalog's lag gauges, built from readings at scrape time (prometheus-client)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily

from eventscope import catalog
from eventscope.catalog import Metric
from eventscope.instrumentation.lag.readings import LagSource, consumer_readings


def lag_families(sources: Iterable[LagSource]) -> list[GaugeMetricFamily]:
    """The catalog's lag, pending, position, member and depth gauges for ``sources``."""
    lag = _gauge(catalog.CONSUMER_LAG)
    seconds = _gauge(catalog.CONSUMER_LAG_DURATION)
    pending = _gauge(catalog.CONSUMER_PENDING)
    position = _gauge(catalog.CONSUMER_POSITION)
    members = _gauge(catalog.CONSUMER_MEMBERS)
    redelivered = _gauge(catalog.CONSUMER_REDELIVERED)
    depth = _gauge(catalog.DEAD_LETTER_DEPTH)
    for source in list(sources):
        for r in source.lag_readings():
            labels = [r.system, r.destination, r.group, r.partition]
            lag.add_metric(labels, r.messages)
            for family, value in (
                (seconds, r.seconds),
                (pending, r.pending),
                (position, r.position),
            ):
                if value is not None:
                    family.add_metric(labels, value)
        for c in consumer_readings(source):
            labels = [c.system, c.destination, c.group]
            if c.members is not None:
                members.add_metric(labels, c.members)
            if c.redelivered is not None:
                redelivered.add_metric(labels, c.redelivered)
        for d in source.dead_letter_depths():
            depth.add_metric([d.system, d.destination], d.messages)
    return [lag, seconds, pending, position, members, redelivered, depth]


def _gauge(metric: Metric) -> GaugeMetricFamily:
    return GaugeMetricFamily(metric.prometheus_name, metric.help, labels=metric.prometheus_labels)


def _gauge(metric: Metric) -> GaugeMetricFamily:
    return GaugeMetricFamily(metric.prometheus_name, metric.help, labels=metric.prometheus_labels)
