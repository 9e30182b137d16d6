"""Saying on the consumer span where a dead-lettered message went, and why.

A broker adapter settles a dead-letter outcome while the decorator finishes the
message, so the consumer span is still the current one.
"""

from __future__ import annotations

from opentelemetry import trace

from eventscope.catalog import Attr


def note_dead_letter(destination: str, reason: str | None) -> None:
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute(Attr.DEAD_LETTER_DESTINATION, destination)
        span.set_attribute(Attr.DEAD_LETTER_REASON, reason or "unspecified")
