"""Outcomes a handler can signal, and how a failure becomes one.

Handlers say what happened instead of leaving it to be guessed from an exception:
``ctx.retry()`` / ``raise Retry(...)`` asks for another delivery, ``ctx.dead_letter()``
/ ``raise DeadLetter(...)`` gives up on the message.  An unexpected exception is an
``error``, or, when the consumer has a ``max_attempts`` policy, a ``retry`` until the
last attempt and then a ``dead_letter``.
"""

from __future__ import annotations

from eventscope.catalog import Outcome

MAX_REASON_LENGTH = 64


class Retry(Exception):
    """Raise from a handler to have the message delivered again."""

    def __init__(self, reason: str = "retry requested") -> None:
        super().__init__(reason)
        self.reason = reason


class DeadLetter(Exception):
    """Raise from a handler to send the message to the dead-letter destination."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def outcome_of_failure(
    exc: BaseException, attempt: int, max_attempts: int | None
) -> tuple[Outcome, str]:
    """The outcome and reason for a handler that raised ``exc`` on ``attempt``."""
    if isinstance(exc, DeadLetter):
        return Outcome.DEAD_LETTER, exc.reason
    if isinstance(exc, Retry):
        if max_attempts is not None and attempt >= max_attempts:
            return Outcome.DEAD_LETTER, exc.reason
        return Outcome.RETRY, exc.reason
    if max_attempts is None or not isinstance(exc, Exception):
        return Outcome.ERROR, type(exc).__qualname__
    if attempt >= max_attempts:
        return Outcome.DEAD_LETTER, type(exc).__qualname__
    return Outcome.RETRY, type(exc).__qualname__


class ReasonLimiter:
    """Keeps dead-letter reasons a bounded label: short, and few distinct values.

    Reasons come from application code and could carry ids; after ``limit`` distinct
    values, new ones are reported as ``other`` so one consumer cannot explode the
    series count.
    """

    __slots__ = ("_limit", "_seen")

    def __init__(self, limit: int = 20) -> None:
        self._limit = limit
        self._seen: set[str] = set()

    def __call__(self, reason: str) -> str:
        reason = reason[:MAX_REASON_LENGTH]
        if reason in self._seen:
            return reason
        if len(self._seen) >= self._limit:
            return "other"
        self._seen.add(reason)
        return reason
