"""The lag half of a real-broker demo transport: its collector, asked when read.

The demo reads lag (its summary) and Prometheus scrapes it (through
``configure().watch``); both want the broker's own numbers, so a transport that has a
lag collector gets the whole :class:`~eventscope.instrumentation.lag.LagSource` part
from here.  A collection that fails reads as no readings, logged, not as zero lag.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from eventscope.instrumentation.lag.collector import CollectorError, LagCollector, Snapshot
from eventscope.instrumentation.lag.readings import ConsumerReading, DepthReading, LagReading

logger = logging.getLogger("eventscope.demo")


class CollectedLag:
    """Mixin: ``self.collector`` answers every lag question of the transport."""

    collector: LagCollector

    def _snapshot(self) -> Snapshot:
        try:
            return self.collector.collect()
        except CollectorError as exc:
            logger.warning("%s lag unavailable: %s", self.collector.system, exc)
            return Snapshot()

    def lag(self, group: str, topic: str) -> int:
        return sum(
            r.messages for r in self._snapshot().lag if r.group == group and r.destination == topic
        )

    def lag_readings(self) -> Iterable[LagReading]:
        return self._snapshot().lag

    def consumer_readings(self) -> Iterable[ConsumerReading]:
        return self._snapshot().consumers

    def dead_letter_depths(self) -> Iterable[DepthReading]:
        return self._snapshot().dead_letters
