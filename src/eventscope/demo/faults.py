"""Faults the demo can inject, so dashboards and alerts can be watched reacting to them.

Each fault is one thing a real system suffers: a consumer group that stops consuming
(``stall_group``), a handler that turns slow (``slow_group``, ``slow_handler_ms``),
poison messages (``poison_rate``, applied by the runner), sends the broker refuses
(``producer_errors``) and an outbox relay that stops (``stop_relay``, with ``--outbox``).
``window`` says when they are on, in seconds after the run starts; without it they last
the whole run.  The fidelity suite switches faults on and
off at known times and checks that exactly the matching alerts fire, then resolve.

The faults sit where the real ones would: a stall stops the transport delivering to the
group (nothing is in flight), a slow handler is slow inside the ``@consumer`` handler
(its duration is measured), a refused send fails inside the ``@producer`` function.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


class SendRefused(ConnectionError):
    """The broker refused a send (the demo's injected producer error)."""


@dataclass(frozen=True)
class Faults:
    """Which faults a run injects, and when."""

    window: tuple[float, float] | None = None
    """``(start, end)`` in seconds after the run starts; ``None``: the whole run."""
    stall_group: str | None = None
    slow_group: str | None = None
    slow_handler_ms: float = 0.0
    producer_errors: float = 0.0
    """Share of sends the broker refuses while the window is open."""
    stop_relay: bool = False
    """The outbox relay stops while the window is open: orders wait in the outbox table."""

    def active(self, started: float, now: float | None = None) -> bool:
        if self.window is None:
            return True
        elapsed = (time.monotonic() if now is None else now) - started
        return self.window[0] <= elapsed < self.window[1]

    def seconds_left(self, started: float) -> float:
        """Seconds until the window closes (``inf`` without a window)."""
        if self.window is None:
            return float("inf")
        return max(0.0, started + self.window[1] - time.monotonic())


class FaultyTransport:
    """A demo transport with the faults of :class:`Faults` injected around it.

    Everything but ``publish`` and ``subscribe`` is the wrapped transport's own.
    """

    def __init__(
        self, transport: Any, faults: Faults, started: float, chance: Callable[[], float]
    ) -> None:
        self.wrapped = transport
        self._transport = transport
        self._faults = faults
        self._started = started
        self._chance = chance
        self._stopping = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def declare(self, topic: str, groups: Sequence[str]) -> None:
        self._transport.declare(topic, groups)

    def publish(
        self, topic: str, payload: dict, *, key: str | None, headers: dict[str, str]
    ) -> None:
        f = self._faults
        if f.producer_errors and f.active(self._started) and self._chance() < f.producer_errors:
            raise SendRefused(f"the broker refused the send to {topic} (injected fault)")
        self._transport.publish(topic, payload, key=key, headers=headers)

    def subscribe(
        self, topic: str, group: str, handler: Callable[[Any], Any], *, max_attempts: int
    ) -> None:
        if group == self._faults.stall_group:
            handler = self._stalling(handler)
        self._transport.subscribe(topic, group, handler, max_attempts=max_attempts)

    def _stalling(self, handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """The group's delivery thread stops before the handler while the fault is on."""

        def deliver(message: Any) -> Any:
            while self._faults.active(self._started) and not self._stopping.is_set():
                self._stopping.wait(min(0.5, self._faults.seconds_left(self._started)))
            return handler(message)

        return deliver

    def extra_work_ms(self, group: str) -> float:
        """What a handler of ``group`` spends on top of its usual work right now."""
        f = self._faults
        return f.slow_handler_ms if group == f.slow_group and f.active(self._started) else 0.0

    def stop(self) -> None:
        self._stopping.set()
        self._transport.stop()
