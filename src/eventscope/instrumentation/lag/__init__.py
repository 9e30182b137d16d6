"""Consumer lag and dead-letter depth, read from each broker's own truth."""

from eventscope.instrumentation.lag.readings import (
    ConsumerReading,
    DepthReading,
    LagReading,
    LagSource,
)

__all__ = ["ConsumerReading", "DepthReading", "LagReading", "LagSource"]
