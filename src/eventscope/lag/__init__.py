"""Consumer lag and dead-letter depth, read from each broker's own truth.

``readings`` is the small contract (what a collector reports) and ``observations``
turns readings into the catalog's gauges; the instrumentation's meters, the
standalone exporter and the demo build on those two.  One collector per broker
(imported only when asked for), the exporter and the ``eventscope lag`` command
sit on top.

Nothing in this package refers to :mod:`eventscope.instrumentation`, not even by a
lazy name: the instrumentation imports this package, and in-process collection
(``watch_lag``, ``LagWatch``) is its own (:mod:`eventscope.instrumentation.lag_watch`),
because it feeds the configured recorder.  :class:`LagExporter` is re-exported lazily
(PEP 562) so that ``import eventscope.lag`` does not load prometheus-client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventscope._lazy import lazy_names
from eventscope.lag.collector import (
    CollectorError,
    LagCollector,
    Snapshot,
)
from eventscope.lag.config import LagConfig, Target, load_config
from eventscope.lag.observations import LAG_GAUGES, Observation, observations
from eventscope.lag.readings import (
    ConsumerReading,
    DepthReading,
    LagReading,
    LagSource,
)
from eventscope.lag.targets import build_collector

if TYPE_CHECKING:
    from eventscope.lag.exporter import LagExporter

_LAZY = {
    "LagExporter": "eventscope.lag.exporter",
}

__getattr__ = lazy_names(__name__, _LAZY)


__all__ = [
    "LAG_GAUGES",
    "CollectorError",
    "ConsumerReading",
    "DepthReading",
    "LagCollector",
    "LagConfig",
    "LagExporter",
    "LagReading",
    "LagSource",
    "Observation",
    "Snapshot",
    "Target",
    "build_collector",
    "load_config",
    "observations",
]
