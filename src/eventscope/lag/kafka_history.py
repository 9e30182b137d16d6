"""Lag in seconds for an offset-based log, from the collector's own samples.

Kafka does not say when the record at an offset was written (not cheaply: reading
it would mean fetching it).  So, like kafka-lag-exporter, the collector remembers
for each partition a short table of ``(end offset, wall time)`` samples — one per
collection — and estimates when the end offset passed the group's committed offset:

- between two samples ``(o1, t1)`` and ``(o2, t2)`` with ``o1 <= committed < o2``, by
  linear interpolation; the record at ``committed`` was written in ``(t1, t2]``;
- before the oldest sample, the oldest sample's time: a lower bound (the record is
  at least that old), so the age is unknown (``None``) at a partition's first
  collection and grows with every collection while the group stays behind.

The lag is ``now`` minus that estimate, and 0 when the group is caught up.  A flat
run of samples keeps only its first and last points, so a quiet partition's table
keeps the time at which its end offset last moved.
"""

from __future__ import annotations

from collections import deque

DEFAULT_POINTS = 60


class OffsetHistory:
    """The last ``points`` samples of one partition's end offset."""

    __slots__ = ("_points",)

    def __init__(self, points: int = DEFAULT_POINTS) -> None:
        if points < 2:
            raise ValueError("an offset history needs at least two points")
        self._points: deque[tuple[int, float]] = deque(maxlen=points)

    def add(self, end_offset: int, at: float) -> None:
        points = self._points
        if points and end_offset < points[-1][0]:
            points.clear()  # the log was truncated or recreated: the old times are void
        if len(points) >= 2 and points[-1][0] == points[-2][0] == end_offset:
            points[-1] = (end_offset, at)  # extend the flat run instead of adding to it
        else:
            points.append((end_offset, at))

    def written_at(self, offset: int) -> float | None:
        """The estimated time the record at ``offset`` was written (``None``: unknown)."""
        points = self._points
        if not points or offset >= points[-1][0]:
            return None
        previous: tuple[int, float] | None = None
        for point in points:
            if point[0] > offset:
                if previous is None:
                    return point[1]  # before the table: a lower bound of its age
                (o1, t1), (o2, t2) = previous, point
                return t1 + (offset - o1) * (t2 - t1) / (o2 - o1)
            previous = point
        return None

    def lag_seconds(self, committed: int, end_offset: int, now: float) -> float | None:
        """How long ago the oldest record the group has not committed was written."""
        if committed >= end_offset:
            return 0.0
        written = self.written_at(committed)
        if written is None or written >= now:
            return None
        return now - written
