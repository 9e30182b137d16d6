"""The contract every broker's lag collector keeps.

A collector asks its broker once per collection and returns a :class:`Snapshot`;
when the broker cannot be reached or answers nonsense it raises
:class:`CollectorError` with a sentence a person can act on, never returns zeros.
:class:`LatestSnapshot` turns a collector into a :class:`LagSource` for the
in-process exporters.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from eventscope.lag.readings import ConsumerReading, DepthReading, LagReading


@dataclass(frozen=True)
class Snapshot:
    """Everything one collection learnt."""

    lag: list[LagReading] = field(default_factory=list)
    consumers: list[ConsumerReading] = field(default_factory=list)
    dead_letters: list[DepthReading] = field(default_factory=list)


class CollectorError(Exception):
    """The broker could not be asked, or did not answer; the message says why."""


class LagCollector(Protocol):
    """Reads lag from one broker (``system`` is the semantic-conventions name)."""

    system: str

    def collect(self) -> Snapshot:
        """Ask the broker now; raise :class:`CollectorError` if it cannot be done."""

    def close(self) -> None: ...


class LatestSnapshot:
    """A :class:`LagSource` over a collector: serves the snapshot of the last refresh.

    Exporters read readings at scrape time; a refresh (in a background thread, or
    right before a scrape) keeps broker round trips out of the scrape when wanted.
    """

    def __init__(self, collector: LagCollector) -> None:
        self.collector = collector
        self._lock = threading.Lock()
        self._snapshot = Snapshot()
        self.error: CollectorError | None = None

    def refresh(self) -> Snapshot:
        """Collect now; on failure keep no readings (lag is unknown, not zero)."""
        try:
            snapshot = self.collector.collect()
            error = None
        except CollectorError as exc:
            snapshot, error = Snapshot(), exc
        with self._lock:
            self._snapshot, self.error = snapshot, error
        return snapshot

    def lag_readings(self) -> Iterable[LagReading]:
        with self._lock:
            return list(self._snapshot.lag)

    def consumer_readings(self) -> Iterable[ConsumerReading]:
        with self._lock:
            return list(self._snapshot.consumers)

    def dead_letter_depths(self) -> Iterable[DepthReading]:
        with self._lock:
            return list(self._snapshot.dead_letters)
