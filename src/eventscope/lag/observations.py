"""Which reading field becomes which catalog gauge, written down once.

Both metric backends are built from :func:`observations`: the prometheus-client
families (:mod:`eventscope.lag.families`, used by the standalone exporter and by
``configure(prometheus=True)``) and the OpenTelemetry observable gauges of
:class:`~eventscope.instrumentation.meters.OpenTelemetryRecorder`.  A field that is
``None`` (unknown for this broker) is not observed at all, never reported as zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from eventscope import catalog
from eventscope.catalog import Metric
from eventscope.lag.readings import LagSource, consumer_readings

LAG_GAUGES: tuple[Metric, ...] = (
    catalog.CONSUMER_LAG,
    catalog.CONSUMER_LAG_DURATION,
    catalog.CONSUMER_PENDING,
    catalog.CONSUMER_POSITION,
    catalog.CONSUMER_MEMBERS,
    catalog.CONSUMER_REDELIVERED,
    catalog.DEAD_LETTER_DEPTH,
)
"""Every gauge a lag source feeds, in the order the exporters list them."""


class Observation(NamedTuple):
    """One gauge value: ``labels`` are in the order of ``metric.labels``."""

    metric: Metric
    labels: tuple[str, ...]
    value: float


def observations(sources: Iterable[LagSource]) -> Iterator[Observation]:
    """The gauge values the readings of ``sources`` stand for, right now."""
    for source in list(sources):
        for r in source.lag_readings():
            labels = (r.system, r.destination, r.group, r.partition)
            yield Observation(catalog.CONSUMER_LAG, labels, r.messages)
            for metric, value in (
                (catalog.CONSUMER_LAG_DURATION, r.seconds),
                (catalog.CONSUMER_PENDING, r.pending),
                (catalog.CONSUMER_POSITION, r.position),
            ):
                if value is not None:
                    yield Observation(metric, labels, value)
        for c in consumer_readings(source):
            labels = (c.system, c.destination, c.group)
            if c.members is not None:
                yield Observation(catalog.CONSUMER_MEMBERS, labels, c.members)
            if c.redelivered is not None:
                yield Observation(catalog.CONSUMER_REDELIVERED, labels, c.redelivered)
        for d in source.dead_letter_depths():
            yield Observation(catalog.DEAD_LETTER_DEPTH, (d.system, d.destination), d.messages)


HEALTH_GAUGES = (catalog.LAG_TARGET_UP, catalog.LAG_COLLECTION_DURATION)
"""The gauges a collection's health feeds (the error counter is separate: a counter)."""


@dataclass(frozen=True)
class TargetHealth:
    """How the collections from one lag target (one broker) have gone so far."""

    target: str
    system: str
    up: bool
    """The last collection worked."""
    seconds: float
    """How long the last collection took."""
    errors: Mapping[str, int]
    """Failed collections so far, by error type."""


def health_observations(health: Iterable[TargetHealth]) -> Iterator[Observation]:
    """Target-up and collection-duration gauge values, labels in catalog order."""
    for h in health:
        labels = (h.target, h.system)
        yield Observation(catalog.LAG_TARGET_UP, labels, 1 if h.up else 0)
        yield Observation(catalog.LAG_COLLECTION_DURATION, labels, h.seconds)


def error_observations(health: Iterable[TargetHealth]) -> Iterator[Observation]:
    """Collection-error counter values, one per (target, error type)."""
    for h in health:
        for error_type, count in sorted(h.errors.items()):
            labels = (h.target, h.system, error_type)
            yield Observation(catalog.LAG_COLLECTION_ERRORS, labels, count)
