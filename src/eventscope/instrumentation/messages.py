"""Recognising a broker's native message object.

A consumer decorator receives whatever the client library hands the handler: an
in-memory :class:`~eventscope.memory_bus.Message`, a confluent-kafka ``Message``, a
boto3 SQS message dict...  A :class:`MessageAdapter` says, for one such type, where
its headers are and which carrier reads them, which attempt this is, what span
attributes it carries and how to settle it (retry, dead-letter).  Adapters are looked
up by type and cached.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
        """Per-message span attributes (offset, routing key, the broker's message id
        as ``messaging.message.id``, ...)."""

    def source(self, message: Any) -> tuple[tuple[str, Any], ...]:
        """Where the message came from, as attribute pairs (``server.address``,
        ``server.port``, ``messaging.client.id``, the partition), ``()`` if unknown.

        The same tuple for every message of one connection and partition: the decorator
        keeps a meter, a span name and constant attributes per value, so the adapter
        should read the connection once and keep the answer.
        """

    span_destination: Callable[[Any, str | None], str] | None
    """The span's destination, when the conventions name it differently from the
    metrics' (RabbitMQ: ``{exchange}:{routing key}:{queue}``); ``None`` (the attribute)
    when they do not, which spares a call per message."""

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

    def source(self, message: Any) -> tuple[tuple[str, Any], ...]:
        return ()

    span_destination = None

    def settle(self, message: Any, outcome: Outcome, reason: str | None) -> bool:
        return False


_generic = GenericAdapter()
_adapters: dict[type, MessageAdapter] = {}
_OPTIONAL = ("carrier", "source", "span_destination")


class _Completed:
    """An adapter written before some optional methods existed: the missing ones are
    the generic adapter's (a guessed headers shape, no source, the usual destination).

    The adapter's own names are copied in, so a message costs no ``__getattr__``.
    """

    def __init__(self, adapter: Any) -> None:
        self._adapter = adapter
        for name in dir(adapter):
            if not name.startswith("_"):
                setattr(self, name, getattr(adapter, name))
        for name in _OPTIONAL:
            if not hasattr(adapter, name):
                setattr(self, name, getattr(_generic, name))


def register_message_type(cls: type, adapter: MessageAdapter) -> None:
    """Teach the consumer decorator a client library's message type.

    Adapters from before adapters named their carrier keep working: their headers
    are wrapped by :func:`carrier_for`, as they always were.
    """
    complete = all(hasattr(adapter, name) for name in _OPTIONAL)
    _adapters[cls] = adapter if complete else _Completed(adapter)


def adapter_for(message: Any) -> MessageAdapter:
    cls = type(message)
    adapter = _adapters.get(cls)
    if adapter is None:
        adapter = next((a for base, a in _adapters.items() if isinstance(message, base)), _generic)
        _adapters[cls] = adapter
    return adapter
