"""Recognising a broker's native message object.

A consumer decorator receives whatever the client library hands the handler: an
in-memory :class:`~eventscope.memory_bus.Message`, a confluent-kafka ``Message``, a
boto3 SQS message dict...  A :class:`MessageAdapter` says, for one such type, where
its headers are and which carrier reads them, which attempt this is, what span
attributes it carries and how to settle it (retry, dead-letter).  Adapters are looked
up by type and cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from eventscope.catalog import Outcome
from eventscope.instrumentation.carriers import Carrier, carrier_for


class MessageAdapter(Protocol):
    system: str | None

    def headers(self, message: Any) -> Any:
        """The header container, or ``None``."""

    def carrier(self, headers: Any) -> Carrier:
        """The carrier over what :meth:`headers` returned (``None`` included).

        The broker integration knows its header shape, so the consumer decorator does
        not guess it per message; a class attribute naming the carrier class will do.
        """

    def destination(self, message: Any) -> str | None: ...

    def attempt(self, message: Any) -> int | None:
        """The 1-based delivery attempt, when the broker counts deliveries."""

    def attributes(self, message: Any) -> dict[str, Any] | None:
        """Broker-specific span attributes (partition, offset, routing key, ...)."""

    def settle(self, message: Any, outcome: Outcome, reason: str | None) -> bool:
        """Carry out a retry or dead-letter outcome; ``False`` if the caller must."""


class GenericAdapter:
    """Messages eventscope has no adapter for: find headers by the usual names.

    An object's ``headers`` attribute (or method, as confluent-kafka has), a mapping's
    ``"headers"`` or ``"MessageAttributes"`` (SQS) entry, a Redis Streams entry
    ``(id, fields)``, or a mapping that is itself the headers.
    """

    system = None
    carrier = staticmethod(carrier_for)

    def headers(self, message: Any) -> Any:
        if type(message) is dict or isinstance(message, Mapping):  # dict: no ABC check
            for key in ("headers", "MessageAttributes", "messageAttributes"):
                if key in message:
                    return message[key]
            return message
        if isinstance(message, tuple) and len(message) == 2 and isinstance(message[1], Mapping):
            return message[1]
        found = getattr(message, "headers", None)
        return found() if callable(found) else found

    def destination(self, message: Any) -> str | None:
        return None

    def attempt(self, message: Any) -> int | None:
        return None

    def attributes(self, message: Any) -> dict[str, Any] | None:
        return None

    def settle(self, message: Any, outcome: Outcome, reason: str | None) -> bool:
        return False


_generic = GenericAdapter()
_adapters: dict[type, MessageAdapter] = {}


class _ShapeSniffing:
    """An adapter written without ``carrier``: its headers' shape is guessed."""

    carrier = staticmethod(carrier_for)

    def __init__(self, adapter: Any) -> None:
        self._adapter = adapter

    def __getattr__(self, name: str) -> Any:
        return getattr(self._adapter, name)


def register_message_type(cls: type, adapter: MessageAdapter) -> None:
    """Teach the consumer decorator a client library's message type.

    Adapters from before adapters named their carrier keep working: their headers
    are wrapped by :func:`carrier_for`, as they always were.
    """
    _adapters[cls] = adapter if hasattr(adapter, "carrier") else _ShapeSniffing(adapter)


def adapter_for(message: Any) -> MessageAdapter:
    cls = type(message)
    adapter = _adapters.get(cls)
    if adapter is None:
        adapter = next((a for base, a in _adapters.items() if isinstance(message, base)), _generic)
        _adapters[cls] = adapter
    return adapter
