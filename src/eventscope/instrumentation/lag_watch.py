"""In-process lag collection: a thread next to the consumer, feeding its metrics.

``watch_lag(collector)`` refreshes the collector's snapshot every ``interval``
seconds in a daemon thread and registers it with the current eventscope
configuration, so the service that consumes also exports its own lag (and the
dead-letter depth) on its ``/metrics``.  Scrapes never wait on the broker.

It lives on the instrumentation side because it joins the two: collectors and
readings come from :mod:`eventscope.lag` (which knows nothing of telemetry), the
recorder it feeds from :mod:`eventscope.instrumentation.telemetry`.
"""

from __future__ import annotations

import logging
import threading

from eventscope.instrumentation import telemetry
from eventscope.lag.collector import LagCollector, LatestSnapshot

logger = logging.getLogger("eventscope.lag")


class LagWatch:
    """A running in-process collection; ``stop()`` ends it."""

    def __init__(self, collector: LagCollector, interval: float) -> None:
        self.source = LatestSnapshot(collector)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"eventscope-lag-{collector.system}", daemon=True
        )

    def start(self) -> LagWatch:
        self.source.refresh()
        telemetry.current().recorder.watch(self.source)
        self._thread.start()
        return self

    def _run(self) -> None:
        last_error = None
        while not self._stop.wait(self.interval):
            self.source.refresh()
            message = str(self.source.error) if self.source.error else None
            if message != last_error and message is not None:
                logger.warning("lag collection failed: %s", message)
            last_error = message

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.source.collector.close()


def watch_lag(collector: LagCollector, *, interval: float = 15.0) -> LagWatch:
    """Collect lag from ``collector`` every ``interval`` seconds, in this process.

    Call it after ``eventscope.configure()``; the readings appear on the configured
    Prometheus registry and OTLP meter like every other eventscope metric.
    """
    if interval <= 0:
        raise ValueError("interval must be positive")
    return LagWatch(collector, interval).start()
