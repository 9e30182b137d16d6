"""The multi-window burn-rate scheme the SLO alerts use and the SLO dashboard draws.

One table decides which windows are recorded, which pairs an alert compares, how fast
each pair may burn and how urgent it is; the recording rules, the burn-rate alerts and
the SLO dashboard's burn panels all read it, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventscope.config import duration_seconds


@dataclass(frozen=True)
class BurnWindow:
    """One multi-window burn-rate alert (Google SRE workbook, chapter 5)."""

    long: str
    short: str
    factor: float
    severity: str
    for_: str


BURN_WINDOWS = (
    BurnWindow("1h", "5m", 14.4, "critical", "2m"),
    BurnWindow("6h", "30m", 6, "critical", "15m"),
    BurnWindow("1d", "2h", 3, "warning", "1h"),
    BurnWindow("3d", "6h", 1, "warning", "3h"),
)
"""Page (critical) when 2 % of a 30-day budget burns in an hour or 5 % in six hours;
ticket (warning) for 10 % in a day or 10 % in three days.  The ``for`` durations are
the ones Pyrra uses for the same windows."""

SLO_WINDOWS = tuple(
    sorted({w for b in BURN_WINDOWS for w in (b.long, b.short)}, key=duration_seconds)
)
"""Every window a burn-rate alert reads, shortest first."""
