"""What a producer actually sends, caught on its way out.

Provider verification must check the message the real producer code builds — body
*and* headers, including the ones ``@producer`` adds — not a copy a test assembled.
So a ``@provides`` function runs that code against a :class:`MessageCapture`: either
on its ``bus`` (an in-memory bus that remembers every publish, for code written against
eventscope's transports) or by calling :meth:`MessageCapture.send` where the code would
call its broker client.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eventscope.contracts.pact_files import DESTINATION
from eventscope.instrumentation.carriers import carrier_for
from eventscope.memory_bus import InMemoryBus, Message


@dataclass(frozen=True, slots=True)
class CapturedMessage:
    """One message a producer sent: where, what, and with which headers (as text)."""

    destination: str
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)
    key: Any = None
    content_type: str = "application/json"

    def contents(self) -> bytes:
        """The body as the bytes on the wire (JSON unless it already is bytes or text)."""
        if isinstance(self.body, bytes | bytearray):
            return bytes(self.body)
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()

    def metadata(self) -> dict[str, str]:
        """The headers plus the destination: what a contract's metadata is checked against."""
        return {**self.headers, DESTINATION: self.destination}


class CapturingBus(InMemoryBus):
    """An in-memory bus that also keeps every published record, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[Message] = []

    def publish(self, topic: str, value: Any, **options: Any) -> Message:
        record = super().publish(topic, value, **options)
        self.published.append(record)
        return record


class MessageCapture:
    """Where a ``@provides`` function's producer sends its messages during verification."""

    def __init__(self) -> None:
        self.bus = CapturingBus()
        self._sent: list[CapturedMessage] = []

    def send(
        self,
        destination: str,
        body: Any,
        *,
        headers: Any = None,
        key: Any = None,
        content_type: str = "application/json",
    ) -> None:
        """Record a message; ``headers`` may be any shape ``@producer`` fills (a dict,
        a Kafka header list, SQS message attributes...)."""
        self._sent.append(
            CapturedMessage(destination, body, _text_headers(headers), key, content_type)
        )

    def messages(self) -> list[CapturedMessage]:
        """Everything sent, through :meth:`send` and on the bus."""
        on_bus = [
            CapturedMessage(record.topic, record.value, _text_headers(record.headers), record.key)
            for record in self.bus.published
        ]
        return self._sent + on_bus


def _text_headers(headers: Any) -> dict[str, str]:
    if headers is None:
        return {}
    if isinstance(headers, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        return dict(headers)
    carrier = carrier_for(headers)
    result = {}
    for key in list(carrier.keys()):
        value = carrier.get(key)
        if value is not None:
            result[key] = value
    return result
