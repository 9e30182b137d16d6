"""OpenTelemetry's own header parsers, without a log line per hostile message.

OpenTelemetry's ``TraceState`` and W3C baggage parsers log a WARNING for every
malformed ``tracestate``/``baggage`` they see, quoting the sender's text (up to 8 KiB
a line): a producer sending a broken header, or an attacker, fills the consumer's
log at message rate.  eventscope still lets those parsers do the parsing (they know
the specifications), but while it extracts a message's headers their warnings go
through a filter: the first of each kind (the message template — "Invalid key/value
pair (%s, %s) found." — without the sender's text) is logged once by eventscope, the
rest are dropped.  The set of kinds is the fixed set of templates in OpenTelemetry's
code, so it stays small.  Outside eventscope's extraction the filter passes every
record untouched: the application's own use of those parsers logs as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

PARSER_LOGGERS = (
    "opentelemetry.trace.span",
    "opentelemetry.trace.propagation.tracecontext",
    "opentelemetry.baggage",
    "opentelemetry.baggage.propagation",
)
"""The modules whose parsers log per malformed header (OpenTelemetry API 1.x)."""

logger = logging.getLogger("eventscope")


class _OncePerCause(logging.Filter):
    """Drops parser warnings raised inside :func:`quietly`, reporting each cause once."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = threading.local()
        self.seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(self.inside, "active", False):
            return True
        cause = (record.name, str(record.msg))
        with self._lock:
            first = cause not in self.seen
            self.seen.add(cause)
        if first:
            logger.warning(
                "eventscope: ignored a malformed trace-context or baggage header "
                "(%s: %r); further ones of this kind are not logged",
                record.name,
                cause[1],
            )
        return False


_filter = _OncePerCause()
for _name in PARSER_LOGGERS:
    logging.getLogger(_name).addFilter(_filter)


def quietly(parse: Callable[[], T]) -> T:
    """Run one of OpenTelemetry's parsers with its per-message warnings filtered."""
    inside = _filter.inside
    inside.active = True
    try:
        return parse()
    finally:
        inside.active = False
