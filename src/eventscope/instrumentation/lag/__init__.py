"""Consumer lag and dead-letter depth, read from each broker's own truth."""

from eventscope.instrumentation.lag.collector import (
    CollectorError,
    LagCollector,
    LatestSnapshot,
    Snapshot,
)
from eventscope.instrumentation.lag.readings import (
    ConsumerReading,
    DepthReading,
    LagReading,
    LagSource,
)

__all__ = [
    "CollectorError",
    "ConsumerReading",
    "DepthReading",
    "LagCollector",
    "LagReading",
    "LagSource",
    "LatestSnapshot",
    "Snapshot",
]
