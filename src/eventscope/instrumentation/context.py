"""What a handler can know about, and say about, the message it is handling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opentelemetry.trace import INVALID_SPAN, Span

from eventscope.catalog import Outcome


class MessageContext:
    """Handed to a handler that asks for it (a parameter named ``ctx``).

    It exposes the message's event id, delivery attempt, headers and publish time, and
    lets the handler record an outcome other than "ok" without raising:
    :meth:`retry`, :meth:`dead_letter`, :meth:`duplicate`.
    """

    __slots__ = (
        # Filled in by the consumer decorator: how to record and settle this message.
        "_adapter",
        "_meter",
        "_outcome",
        "_reason",
        "_since",
        "_skip",
        "_started",
        "_token",
        "attempt",
        "destination",
        "event_id",
        "group",
        "headers",
        "message",
        "published_at",
        "span",
    )

    def __init__(
        self,
        message: Any,
        headers: Any = None,
        event_id: str | None = None,
        attempt: int = 1,
        published_at: float | None = None,
        destination: str = "unknown",
        group: str = "",
        span: Span = INVALID_SPAN,
    ) -> None:
        self.message = message
        self.headers = headers
        self.event_id = event_id
        self.attempt = attempt
        self.published_at = published_at
        self.destination = destination
        self.group = group
        self.span = span
        self._outcome: Outcome | None = None
        self._reason: str | None = None
        self._adapter: Any = None
        self._meter: Any = None
        self._skip = False
        self._since: float | None = None  # the publish time latency is measured from
        self._token: Any = None
        self._started = 0.0

    @property
    def outcome(self) -> Outcome | None:
        """The outcome the handler chose, or ``None`` if it chose none (yet)."""
        return self._outcome

    @property
    def reason(self) -> str | None:
        return self._reason

    @property
    def trace_id(self) -> str | None:
        """The trace id as 32 hex digits, for logs; ``None`` when not tracing."""
        span_context = self.span.get_span_context()
        return f"{span_context.trace_id:032x}" if span_context.is_valid else None

    def retry(self, reason: str = "retry requested") -> None:
        """Ask for this message to be delivered again."""
        self._outcome, self._reason = Outcome.RETRY, reason

    def dead_letter(self, reason: str) -> None:
        """Give up on this message: it goes to the dead-letter destination."""
        self._outcome, self._reason = Outcome.DEAD_LETTER, reason

    def duplicate(self) -> None:
        """Mark this message as already handled (the handler found it did nothing)."""
        self._outcome, self._reason = Outcome.DUPLICATE, None


class BatchContext:
    """Handed to a batch handler: one :class:`MessageContext` per message."""

    __slots__ = ("_started", "_token", "messages", "span")

    def __init__(self, messages: list[MessageContext], span: Span = INVALID_SPAN) -> None:
        self.messages = messages
        self.span = span
        self._token: Any = None
        self._started = 0.0

    def __iter__(self) -> Iterator[MessageContext]:
        return iter(self.messages)

    def __len__(self) -> int:
        return len(self.messages)
