"""Histogram bucket boundaries: the catalog's, or the ones a service chooses.

An SLO can only be computed from a histogram that has a boundary at its threshold (the
share of messages under 2 s is ``le="2"``'s count over the total), so a team whose
objective is not one of the catalog's boundaries gives its own to ``configure()`` and
the same list to the generator (``[slo] latency_buckets``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

from eventscope import catalog
from eventscope.catalog import Metric

HISTOGRAMS: tuple[Metric, ...] = tuple(
    m for m in catalog.METRICS if m.kind is catalog.Kind.HISTOGRAM
)
"""Every histogram of the catalog (the metrics whose buckets can be chosen)."""

Buckets = Mapping[Metric, tuple[float, ...]]


def histogram_buckets(chosen: Mapping[str, Sequence[float]] | None = None) -> Buckets:
    """Each histogram's boundaries; ``chosen`` replaces some, keyed by the metric's
    Prometheus name (``eventscope_end_to_end_duration_seconds``) or OpenTelemetry name
    (``eventscope.end_to_end.duration``).  Raises ``ValueError`` naming what is wrong."""
    result = {metric: tuple(metric.buckets or ()) for metric in HISTOGRAMS}
    names = {n: m for m in HISTOGRAMS for n in (m.name, m.prometheus_name)}
    for name, bounds in (chosen or {}).items():
        metric = names.get(name)
        if metric is None:
            known = ", ".join(m.prometheus_name for m in HISTOGRAMS)
            raise ValueError(f"buckets: {name!r} is not a histogram (histograms: {known})")
        result[metric] = check_bounds(bounds, f"buckets[{name!r}]")
    return result


def check_bounds(bounds: Sequence[float], where: str) -> tuple[float, ...]:
    """``bounds`` as floats, if they are finite, positive and strictly increasing."""
    values = list(bounds)
    if not values or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0
        for v in values
    ):
        raise ValueError(f"{where}: must be a non-empty list of positive numbers, not {bounds!r}")
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError(f"{where}: must be strictly increasing, not {bounds!r}")
    return tuple(float(v) for v in values)
