"""What the real-broker demo transports share: lag from their collector, and draining.

The demo reads lag (its summary) and Prometheus scrapes it (through
``configure().watch``); both want the broker's own numbers, so a transport that has a
lag collector gets the whole :class:`~eventscope.lag.LagSource` part
from here.  A collection that fails reads as no readings, logged, not as zero lag.
Draining trusts nobody alone: every subscription must have settled everything that
was published, and then the broker's own counts must show nothing left.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from eventscope.catalog import Outcome
from eventscope.errors import UsageError
from eventscope.instrumentation.brokers import settlement
from eventscope.lag.collector import CollectorError, LagCollector, Snapshot
from eventscope.lag.readings import ConsumerReading, DepthReading, LagReading

logger = logging.getLogger("eventscope.demo")
MAX_BACKOFF = 2.0


class BrokerTransport:
    """Mixin: ``self.collector`` answers every lag question of the transport.

    Subclasses say when their own subscriptions have settled every published message
    (``_settled``), and may pump their client while waiting (``_pause``).
    """

    collector: LagCollector

    def _settled(self) -> bool:
        raise NotImplementedError

    def _pause(self, seconds: float) -> None:
        time.sleep(seconds)

    def drain(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._settled():
            if time.monotonic() > deadline:
                return False
            self._pause(0.02)
        while time.monotonic() < deadline:
            readings = self._snapshot().lag
            if readings and not any(r.messages or r.pending for r in readings):
                return True
            self._pause(0.05)
        return False

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


def decide(
    handler: Callable[[Any], Any], message: Any, max_attempts: int, group: str
) -> settlement.Decision | None:
    """Call a demo handler under a settlement ledger: what the broker must do next.

    An exception the ``@consumer`` policy did not turn into an outcome is a demo bug
    (the order system raises only through its policy): it is logged and the message
    dead-lettered, so one bad message cannot stall a group.
    """
    with settlement.delivering() as ledger:
        try:
            handler(message)
        except Exception:
            logger.exception("demo handler for %s failed; dead-lettering", group)
            ledger.record(message, Outcome.DEAD_LETTER, "handler error")
    return ledger.decision(message, max_attempts)


def finished(decision: settlement.Decision | None) -> bool:
    """Whether a message left its group for good (anything but a retry)."""
    return decision is None or decision.outcome is not Outcome.RETRY


class Backoff:
    """Waits after a dropped connection: 50 ms, doubling up to 2 s; logs each outage once.

    With ``give_up_after``, an outage longer than that many seconds ends the run with a
    :class:`UsageError` (the broker is gone, not blinking).
    """

    def __init__(self, what: str, give_up_after: float | None = None) -> None:
        self.what = what
        self.delay = 0.0
        self.give_up_after = give_up_after
        self.since = 0.0

    def wait(self, exc: Exception, stopping: threading.Event) -> None:
        now = time.monotonic()
        if not self.delay:
            self.since = now
            logger.warning("%s lost its connection (%s); reconnecting", self.what, exc)
        elif self.give_up_after is not None and now - self.since > self.give_up_after:
            raise UsageError(f"{self.what}: no connection for {self.give_up_after:g} s ({exc})")
        self.delay = min(MAX_BACKOFF, self.delay * 2 or 0.05)
        stopping.wait(self.delay)

    def reset(self) -> None:
        if self.delay:
            logger.info("%s reconnected", self.what)
        self.delay = 0.0
