"""What the demo needs from a broker, so the same order system runs on any of them.

The in-memory bus implements it directly; each real broker has a small transport in
``eventscope.demo.transports`` built on its official client and eventscope's broker
adapters.  Handlers receive the client's *native* message objects (a confluent-kafka
``Message``, a JetStream ``Msg``...), which the ``@consumer`` decorator recognises.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eventscope.catalog import KAFKA, MEMORY, NATS, RABBITMQ, REDIS
from eventscope.errors import UsageError
from eventscope.lag.readings import LagSource


class Transport(LagSource, Protocol):
    """A broker as the demo uses it.

    ``lag_readings()``/``dead_letter_depths()`` (the :class:`LagSource` part) read the
    broker's own truth, so the demo's lag and dead-letter numbers are the broker's.
    """

    system: str
    virtual_host: str | None
    """The RabbitMQ virtual host the run created for itself; None on other brokers,
    where the reserved topic name alone says what the run owns."""

    def reserve(self, topic: str) -> str:
        """The name ``topic`` has on the broker for this run, which no other run uses.

        ``topic`` itself when the run is isolated anyway (the in-memory bus, a
        RabbitMQ virtual host of its own, a Tansu of its own) or when no live run
        holds it; another name otherwise.  The run then declares, publishes and
        subscribes under that name, and its metrics carry it.
        """

    def declare(self, topic: str, groups: Sequence[str]) -> None:
        """Create ``topic``, its dead-letter destination and the groups, empty."""

    def publish(
        self, topic: str, payload: dict, *, key: str | None, headers: dict[str, str]
    ) -> None:
        """Send one JSON message with ``headers`` (already filled by ``@producer``)."""

    def subscribe(
        self, topic: str, group: str, handler: Callable[[Any], Any], *, max_attempts: int
    ) -> None:
        """Deliver ``topic`` to ``handler`` as group ``group``, native message objects.

        A message the handler (through its ``@consumer`` settlement) asks to retry is
        delivered again, up to ``max_attempts``; then it goes to the dead-letter
        destination.  Messages are acknowledged/committed after the handler returns.
        """

    def decode(self, message: Any) -> dict:
        """The JSON payload of a native message."""

    def start(self) -> None: ...

    def drain(self, timeout: float) -> bool:
        """Wait until every group has consumed everything; ``False`` on timeout."""

    def stop(self) -> None: ...

    def lag(self, group: str, topic: str) -> int:
        """Messages of ``topic`` not yet consumed by ``group``, as the broker says."""


TRANSPORTS = {
    system.name: f"eventscope.demo.transports.{system.name}:create"
    for system in (MEMORY, KAFKA, RABBITMQ, NATS, REDIS)
}


def create_transport(broker: str, options: dict[str, Any]) -> Transport:
    """The demo transport for ``broker``; ``options`` holds connection flags and tuning.

    Each transport module has ``create(options) -> Transport`` and raises
    :class:`~eventscope.errors.UsageError` for options it cannot use or a broker it
    cannot reach, naming what was wrong.
    """
    target = TRANSPORTS.get(broker)
    if target is None:
        raise UsageError(f"unknown broker {broker!r}; choose from {', '.join(TRANSPORTS)}")
    module_name, factory = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(
            f"the {broker} demo needs its client library: pip install 'eventscope[{broker}]'"
            f" ({exc})"
        ) from exc
    return getattr(module, factory)(options)
