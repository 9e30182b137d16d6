"""The standalone lag exporter: many brokers, one scrape, honest failures.

Every scrape asks all targets at once (one thread each), waits at most the scrape
timeout, and exports the catalog's lag gauges for the targets that answered.  A
target that failed or timed out exports no lag at all — a broker that is down must
show up as ``eventscope_lag_target_up == 0`` and a growing
``eventscope_lag_collection_errors_total``, never as zero lag.  A target whose previous
collection is still running is not asked again until it finishes.  Collections run
in daemon threads, so a broker that never answers cannot keep the process from
exiting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from eventscope.lag.collector import CollectorError, LagCollector, Snapshot
from eventscope.lag.deadline import as_collector_error, close_within, in_daemon_thread
from eventscope.lag.families import health_families, lag_families
from eventscope.lag.observations import TargetHealth

logger = logging.getLogger("eventscope.lag")


@dataclass(frozen=True)
class TargetResult:
    """One target's result in one scrape."""

    snapshot: Snapshot | None
    seconds: float
    error_type: str | None = None
    message: str | None = None


class LagExporter(Collector):
    """A prometheus-client collector over named lag collectors."""

    def __init__(self, collectors: dict[str, LagCollector], scrape_timeout: float) -> None:
        self.collectors = collectors
        self.scrape_timeout = scrape_timeout
        self._running: dict[str, Future] = {}
        self._errors: dict[tuple[str, str, str], int] = {}
        self._last_message: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def describe(self) -> list:
        return []

    def scrape(self) -> dict[str, TargetResult]:
        """Ask every target now; what each answered (or why not)."""
        deadline = time.monotonic() + self.scrape_timeout
        futures = {name: self._start(name) for name in self.collectors}
        outcomes: dict[str, TargetResult] = {}
        for name, future in futures.items():
            started = time.monotonic()
            try:
                snapshot, seconds = future.result(timeout=max(0.0, deadline - started))
                outcomes[name] = TargetResult(snapshot, seconds)
            except FutureTimeout:
                outcomes[name] = TargetResult(
                    None,
                    self.scrape_timeout,
                    "timeout",
                    f"no answer within the scrape timeout of {self.scrape_timeout:g} s",
                )
            except CollectorError as exc:
                outcomes[name] = TargetResult(None, 0.0, "unreachable", str(exc))
            except Exception as exc:  # an unreadable answer must not take the exporter down
                where = f"{self.collectors[name].system} target {name!r}"
                outcomes[name] = TargetResult(
                    None, 0.0, "invalid_answer", str(as_collector_error(exc, where))
                )
        for name, outcome in outcomes.items():
            self._note(name, outcome)
        return outcomes

    def _start(self, name: str) -> Future:
        with self._lock:
            running = self._running.get(name)
            if running is None or running.done():
                collector = self.collectors[name]
                running = in_daemon_thread(lambda: _timed(collector), f"eventscope-lag-{name}")
                self._running[name] = running
            return running

    def _note(self, name: str, outcome: TargetResult) -> None:
        system = self.collectors[name].system
        if outcome.error_type is not None:
            key = (name, system, outcome.error_type)
            with self._lock:
                self._errors[key] = self._errors.get(key, 0) + 1
        if self._last_message.get(name) != outcome.message:
            self._last_message[name] = outcome.message
            if outcome.message is not None:
                logger.warning("lag target %s (%s): %s", name, system, outcome.message)
            else:
                logger.info("lag target %s (%s) answers again", name, system)

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        outcomes = self.scrape()
        sources = [o.snapshot for o in outcomes.values() if o.snapshot]
        with self._lock:
            errors = dict(self._errors)
        health = [
            TargetHealth(
                name,
                self.collectors[name].system,
                not outcome.error_type,
                outcome.seconds,
                {kind: count for (target, _, kind), count in errors.items() if target == name},
            )
            for name, outcome in sorted(outcomes.items())
        ]
        return [*lag_families(sources), *health_families(health)]

    def close(self, seconds: float = 1.0) -> None:
        """Close every collector, waiting at most ``seconds`` for each one that is stuck."""
        for collector in self.collectors.values():
            close_within(collector, seconds)


def _timed(collector: LagCollector) -> tuple[Snapshot, float]:
    started = time.monotonic()
    snapshot = collector.collect()
    return snapshot, time.monotonic() - started
