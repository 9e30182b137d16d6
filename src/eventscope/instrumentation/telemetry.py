"""The tracer and recorder the decorators use right now.

Decorators are applied at import time, usually before ``configure()`` runs, so they
do not capture a tracer or meters when they are created: they ask this module, and
re-bind whenever the generation number changes (each ``configure()`` bumps it).
Without ``configure()``, eventscope uses the global OpenTelemetry providers, whatever
the application installed (or the no-op defaults).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from opentelemetry import metrics, trace

from eventscope._version import __version__
from eventscope.instrumentation.meters import OpenTelemetryRecorder, Recorder

INSTRUMENTATION_NAME = "eventscope"
logger = logging.getLogger("eventscope")


@dataclass(frozen=True)
class Telemetry:
    tracer: trace.Tracer
    recorder: Recorder
    generation: int
    tracing: bool = True


_lock = threading.Lock()
_current: Telemetry | None = None
_generation = 0


def current() -> Telemetry:
    telemetry = _current
    return telemetry if telemetry is not None else _install_default()


def _install_default() -> Telemetry:
    global _current
    with _lock:
        if _current is None:
            _current = Telemetry(
                trace.get_tracer(INSTRUMENTATION_NAME, __version__),
                OpenTelemetryRecorder(metrics.get_meter(INSTRUMENTATION_NAME, __version__)),
                _next_generation(),
            )
        return _current


def install(tracer: trace.Tracer, recorder: Recorder, *, tracing: bool = True) -> Telemetry:
    """Make ``tracer`` and ``recorder`` the ones every decorator uses from now on."""
    global _current
    with _lock:
        _current = Telemetry(tracer, recorder, _next_generation(), tracing)
        return _current


def reset() -> None:
    """Forget any configuration (tests, and applications that reconfigure)."""
    global _current
    with _lock:
        _current = None


def _next_generation() -> int:
    global _generation
    _generation += 1
    return _generation


class ErrorLog:
    """Logs a failure inside eventscope once per place, then stays quiet.

    Telemetry must never break the application, and must not flood its logs either:
    the first failure at each place is logged with its traceback, repeats are not.
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def __call__(self, where: str) -> None:
        if where in self._seen:
            return
        self._seen.add(where)
        logger.warning(
            "eventscope: telemetry failed in %s; continuing without it", where, exc_info=True
        )


swallowed = ErrorLog()
