"""The contract every broker's lag collector keeps.

A collector asks its broker once per collection and returns a :class:`Snapshot`;
when the broker cannot be reached or answers nonsense it raises
:class:`CollectorError` with a sentence a person can act on, never returns zeros.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from eventscope.lag.readings import ConsumerReading, DepthReading, LagReading


@dataclass(frozen=True)
class Snapshot:
    """Everything one collection learnt; itself a :class:`LagSource`, so an exporter can
    turn one collection into metrics with no adapter."""

    lag: list[LagReading] = field(default_factory=list)
    consumers: list[ConsumerReading] = field(default_factory=list)
    dead_letters: list[DepthReading] = field(default_factory=list)

    def lag_readings(self) -> Iterable[LagReading]:
        return self.lag

    def consumer_readings(self) -> Iterable[ConsumerReading]:
        return self.consumers

    def dead_letter_depths(self) -> Iterable[DepthReading]:
        return self.dead_letters


class CollectorError(Exception):
    """The broker could not be asked, or did not answer; the message says why."""


class LagCollector(Protocol):
    """Reads lag from one broker (``system`` is the semantic-conventions name)."""

    system: str

    def collect(self) -> Snapshot:
        """Ask the broker now; raise :class:`CollectorError` if it cannot be done."""

    def close(self) -> None: ...
