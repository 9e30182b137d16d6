"""Reading watched lag sources safely, with the health they report.

A failed broker never reports zero lag: its lag series vanish.  Without a health
signal next to them the lag alerts simply clear, so an in-service collection
(:class:`~eventscope.instrumentation.lag_watch.LagWatch`) reports a
:class:`~eventscope.lag.observations.TargetHealth`, which becomes the same
``eventscope_lag_target_up``, ``eventscope_lag_collection_errors_total`` and
``eventscope_lag_collection_duration_seconds`` as the standalone exporter's (one
:func:`~eventscope.lag.families.health_families` for both), and the generated
exporter-down alert works for services that watch their own lag.

Both recorders read their watched sources at scrape (or export) time through
:func:`read_sources`: a source that raises is skipped and logged once, so one broken
source costs its own series, never the whole ``/metrics`` answer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from eventscope.lag.collector import Snapshot
from eventscope.lag.observations import TargetHealth
from eventscope.lag.readings import (
    LagSource,
    consumer_readings,
)

logger = logging.getLogger("eventscope.lag")



_FAILED_KINDS: set[str] = set()


def read_sources(sources: Iterable[LagSource]) -> tuple[list[LagSource], list[TargetHealth]]:
    """Every source's readings now, and the health of those that report it.

    A source whose reading raises is left out (and logged once): its series go missing
    as a failed broker's do, and the other sources' series are still exported.
    """
    read: list[LagSource] = []
    health: list[TargetHealth] = []
    for source in list(sources):
        try:
            snapshot = Snapshot(
                list(source.lag_readings()),
                list(consumer_readings(source)),
                list(source.dead_letter_depths()),
            )
            report = getattr(source, "lag_health", None)
            reported = report() if report is not None else None
        except Exception:
            kind = type(source).__name__
            if kind not in _FAILED_KINDS:  # once per kind: a scrape every 15 s would flood
                _FAILED_KINDS.add(kind)
                logger.warning("reading lag source %s failed; skipping it", kind, exc_info=True)
            continue
        read.append(snapshot)
        if reported is not None:
            health.append(reported)
    return read, health
