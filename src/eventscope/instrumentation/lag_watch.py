"""In-process lag collection: a thread next to the consumer, feeding its metrics.

``configure(...).watch(collector)`` (or ``watch_lag(collector)`` for the current
configuration) asks the collector every ``interval`` seconds in a daemon thread, and the
service that consumes exports its own lag and dead-letter depth on its ``/metrics``;
scrapes never wait on the broker.  Like the standalone exporter it says when the broker
does not answer: ``eventscope_lag_target_up`` drops to 0, the error counter grows and a
warning is logged once per new error, while the lag series vanish (unknown, not zero).

It lives on the instrumentation side because it joins the two: collectors and
readings come from :mod:`eventscope.lag` (which knows nothing of telemetry), the
recorder it feeds from :mod:`eventscope.instrumentation.telemetry`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from eventscope.instrumentation import telemetry
from eventscope.instrumentation.meters import Recorder
from eventscope.lag.collector import CollectorError, LagCollector, Snapshot
from eventscope.lag.observations import TargetHealth
from eventscope.lag.readings import ConsumerReading, DepthReading, LagReading

logger = logging.getLogger("eventscope.lag")

UNREACHABLE = "unreachable"
"""Error type of a collection the collector reported as failed (as the exporter names it)."""


def is_collector(value: object) -> bool:
    """Whether ``value`` keeps the :class:`~eventscope.lag.collector.LagCollector` contract."""
    return callable(getattr(value, "collect", None)) and isinstance(
        getattr(value, "system", None), str
    )


class LagWatch:
    """A running in-process collection (a lag source with health); ``stop()`` ends it."""

    def __init__(self, collector: LagCollector, interval: float, target: str | None) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.collector = collector
        self.interval = interval
        self.target = target or collector.system
        self._lock = threading.Lock()
        self._snapshot = Snapshot()
        self._health = TargetHealth(self.target, collector.system, False, 0.0, {})
        self._last_message: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"eventscope-lag-{self.target}", daemon=True
        )

    def start(self, recorder: Recorder) -> LagWatch:
        """Collect once now (so the first scrape has readings), then every ``interval``."""
        self.refresh()
        recorder.watch(self)
        self._thread.start()
        return self

    def refresh(self) -> None:
        """Ask the broker now; on failure keep no readings and count the error."""
        started = time.monotonic()
        error_type = message = None
        snapshot = Snapshot()
        try:
            snapshot = self.collector.collect()
        except CollectorError as exc:
            error_type, message = UNREACHABLE, str(exc)
        except Exception as exc:  # a collector bug must not end the watch thread
            error_type, message = type(exc).__name__, str(exc) or type(exc).__name__
        seconds = time.monotonic() - started
        with self._lock:
            errors = dict(self._health.errors)
            if error_type is not None:
                errors[error_type] = errors.get(error_type, 0) + 1
            self._snapshot = snapshot
            self._health = TargetHealth(
                self.target, self.collector.system, error_type is None, seconds, errors
            )
        self._log(message)

    def _log(self, message: str | None) -> None:
        if message == self._last_message:
            return
        if message is not None:
            logger.warning(
                "lag target %s (%s) down: %s", self.target, self.collector.system, message
            )
        elif self._last_message is not None:
            logger.info("lag target %s (%s) answers again", self.target, self.collector.system)
        self._last_message = message

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.refresh()

    def lag_readings(self) -> Iterable[LagReading]:
        with self._lock:
            return list(self._snapshot.lag)

    def consumer_readings(self) -> Iterable[ConsumerReading]:
        with self._lock:
            return list(self._snapshot.consumers)

    def dead_letter_depths(self) -> Iterable[DepthReading]:
        with self._lock:
            return list(self._snapshot.dead_letters)

    def lag_health(self) -> TargetHealth:
        with self._lock:
            return self._health

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.collector.close()


def watch_lag(
    collector: LagCollector, *, interval: float = 15.0, target: str | None = None
) -> LagWatch:
    """Collect lag from ``collector`` every ``interval`` seconds, in this process.

    The same as ``configure(...).watch(collector, ...)`` on the current configuration:
    call it after ``eventscope.configure()``.  ``target`` names the broker in
    ``eventscope_lag_target`` (default: the collector's system, e.g. ``rabbitmq``).
    """
    if not is_collector(collector):
        raise TypeError(
            f"watch_lag() takes a lag collector (an object with collect() and system, such "
            f"as eventscope.lag.rabbitmq.RabbitMQCollector), not {type(collector).__name__}"
        )
    return LagWatch(collector, interval, target).start(telemetry.current().recorder)
