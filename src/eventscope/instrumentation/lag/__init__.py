"""Consumer lag and dead-letter depth, read from each broker's own truth."""

from eventscope.instrumentation.lag.collector import (
    CollectorError,
    LagCollector,
    LatestSnapshot,
    Snapshot,
)
from eventscope.instrumentation.lag.config import LagConfig, Target, load_config
from eventscope.instrumentation.lag.exporter import LagExporter
from eventscope.instrumentation.lag.readings import (
    ConsumerReading,
    DepthReading,
    LagReading,
    LagSource,
)
from eventscope.instrumentation.lag.targets import build_collector
from eventscope.instrumentation.lag.watch import LagWatch, watch_lag

__all__ = [
    "CollectorError",
    "ConsumerReading",
    "DepthReading",
    "LagCollector",
    "LagConfig",
    "LagExporter",
    "LagReading",
    "LagSource",
    "LagWatch",
    "LatestSnapshot",
    "Snapshot",
    "Target",
    "build_collector",
    "load_config",
    "watch_lag",
]
