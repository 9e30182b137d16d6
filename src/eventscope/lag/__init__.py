"""Consumer lag and dead-letter depth, read from each broker's own truth.

``readings`` is the small contract (what a collector reports) and ``observations``
turns readings into the catalog's gauges; the instrumentation's meters, the
standalone exporter and the demo build on those two.  One collector per broker
(imported only when asked for), the exporter and the ``eventscope lag`` command
sit on top.

No module of this package imports :mod:`eventscope.instrumentation`; the
instrumentation imports this package.  Three names are re-exported lazily (PEP 562)
so that ``import eventscope.lag`` stays cheap and acyclic: :class:`LagExporter`
(needs prometheus-client), and ``watch_lag`` / ``LagWatch``, which live in
:mod:`eventscope.instrumentation.lag_watch` because they feed the configured recorder.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    from eventscope.instrumentation.lag_watch import LagWatch, watch_lag
    from eventscope.lag.exporter import LagExporter

_LAZY = {
    "LagExporter": "eventscope.lag.exporter",
    "LagWatch": "eventscope.instrumentation.lag_watch",
    "watch_lag": "eventscope.instrumentation.lag_watch",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


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
    "LagWatch",
    "Observation",
    "Snapshot",
    "Target",
    "build_collector",
    "load_config",
    "observations",
    "watch_lag",
]
