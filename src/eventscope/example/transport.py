"""What the order system needs from a message transport, declared by the application.

The example is ordinary application code: it depends on eventscope's decorators, not on
the demo that runs it.  ``eventscope demo``'s transports (in-memory bus and real
brokers) have these members, so they fit without the example importing them, and the
example imports without the demo (``import eventscope.example``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol


class OrderTransport(Protocol):
    """Publish, subscribe and decode on one broker."""

    system: str
    """The ``messaging.system`` the producer reports (``kafka``, ``rabbitmq``...)."""

    def declare(self, topic: str, groups: Sequence[str]) -> None:
        """Create ``topic``, its dead-letter destination and the groups."""

    def publish(
        self, topic: str, payload: dict, *, key: str | None, headers: dict[str, str]
    ) -> None:
        """Send one JSON message with ``headers`` (filled by ``@producer``)."""

    def subscribe(
        self, topic: str, group: str, handler: Callable[[Any], Any], *, max_attempts: int
    ) -> None:
        """Deliver ``topic`` to ``handler`` as group ``group``, retrying up to
        ``max_attempts`` before dead-lettering."""

    def decode(self, message: Any) -> dict:
        """The JSON payload of a native message."""
