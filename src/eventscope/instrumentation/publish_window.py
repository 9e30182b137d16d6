"""Which publish times a consumer believes enough to measure end-to-end latency by.

``eventscope-published-at`` comes from whoever sent the message.  A forged or broken
value (``1``, ``86400``) would put decades of "latency" into the histogram and the
SLO alerts; a clock far ahead would hide real slowness behind a latency of 0 s.  So
a consumer observes latency only for publish times inside a window: at most
``max_age`` seconds ago (longer than any broker retains a message it still
delivers, by default) and at most ``clock_skew`` seconds ahead of its own clock
(hosts' clocks differ a little; within that, latency is counted as 0 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from eventscope.catalog import HeaderProblem

DEFAULT_MAX_AGE = 7 * 24 * 3600.0
"""Seven days: Kafka's default retention, longer than other brokers keep a backlog."""
DEFAULT_CLOCK_SKEW = 300.0
"""Five minutes: far beyond what NTP-synchronised hosts drift, far below an outage."""


@dataclass(frozen=True, slots=True)
class PublishWindow:
    """The plausible publish times, relative to the consumer's clock."""

    max_age: float = DEFAULT_MAX_AGE
    clock_skew: float = DEFAULT_CLOCK_SKEW

    def __post_init__(self) -> None:
        for name in ("max_age", "clock_skew"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{name} must be a number of seconds, got {value!r}")
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")

    def problem(self, published_at: float, now: float) -> HeaderProblem | None:
        """Why ``published_at`` is not believable at ``now``; ``None`` if it is."""
        if published_at < now - self.max_age:
            return HeaderProblem.TOO_OLD
        if published_at > now + self.clock_skew:
            return HeaderProblem.IN_FUTURE
        return None
