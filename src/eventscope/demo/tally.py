"""Counting traces from the spans a run records, without keeping them all.

``traced`` must come from real spans: a message counts when a consumer span has the
producer's span as its parent or among its links.  The tally keeps, per event id, the
producer span id and what consumers reported; and the full spans of a few traces so
one can be shown as a tree.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

from eventscope.catalog import Attr

KEPT_TRACES = 64


@dataclass
class _Event:
    producer_span: int | None = None
    consumer_parents: set[int] = field(default_factory=set)
    final: dict[str, str] = field(default_factory=dict)
    """Last terminal outcome (ok / dead_letter / error) per consumer group."""


class TraceTally(SpanProcessor):
    def __init__(self, destination: str) -> None:
        self.destination = destination
        self._lock = threading.Lock()
        self._events: dict[str, _Event] = defaultdict(_Event)
        self._traces: dict[int, list[ReadableSpan]] = {}

    def on_end(self, span: ReadableSpan) -> None:
        attrs = span.attributes or {}
        # eventscope's event id: moved aside where the broker's id is the message's.
        event_id = attrs.get(Attr.EVENT_ID) or attrs.get(Attr.MESSAGE_ID)
        trace_id = span.context.trace_id
        with self._lock:
            kept = self._traces.get(trace_id)
            if kept is not None:
                kept.append(span)
            elif len(self._traces) < KEPT_TRACES:
                self._traces[trace_id] = [span]
            if not isinstance(event_id, str) or not self._ours(attrs.get(Attr.DESTINATION)):
                return
            event = self._events[event_id]
            if span.kind is SpanKind.PRODUCER:
                if span.status.status_code is not StatusCode.ERROR:  # a refused send sent nothing
                    event.producer_span = span.context.span_id
            elif span.kind is SpanKind.CONSUMER:
                if span.parent is not None:
                    event.consumer_parents.add(span.parent.span_id)
                event.consumer_parents.update(link.context.span_id for link in span.links)
                outcome = attrs.get(Attr.OUTCOME)
                # RabbitMQ spans name no group: their destination ends with the queue.
                group = str(attrs.get(Attr.CONSUMER_GROUP) or attrs.get(Attr.DESTINATION))
                if outcome in ("ok", "dead_letter", "error"):
                    event.final[group] = str(outcome)

    def _ours(self, destination: object) -> bool:
        """The run's destination; on RabbitMQ ``{exchange}:{routing key}[:{queue}]``."""
        return isinstance(destination, str) and (
            destination == self.destination or destination.startswith(self.destination + ":")
        )

    def published(self) -> int:
        with self._lock:
            return sum(1 for e in self._events.values() if e.producer_span is not None)

    def traced(self) -> int:
        """Messages whose consumer span has the producer's span as parent or link."""
        with self._lock:
            return sum(
                1
                for e in self._events.values()
                if e.producer_span is not None and e.producer_span in e.consumer_parents
            )

    def outcomes(self, groups: tuple[str, ...]) -> tuple[int, int]:
        """(processed by every group, dead-lettered by at least one group)."""
        processed = dead = 0
        with self._lock:
            for event in self._events.values():
                finals = event.final
                if "dead_letter" in finals.values():
                    dead += 1
                elif all(_final(finals, g) == "ok" for g in groups):
                    processed += 1
        return processed, dead

    def sample_trace(self) -> list[ReadableSpan]:
        """A kept trace worth showing: one that reached the dead-letter topic if any."""
        with self._lock:
            traces = list(self._traces.values())
        for spans in traces:
            if any((s.attributes or {}).get(Attr.OUTCOME) == "dead_letter" for s in spans):
                return list(spans)
        for spans in traces:
            if any((s.attributes or {}).get(Attr.OUTCOME) == "retry" for s in spans):
                return list(spans)
        return list(traces[0]) if traces else []

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _final(finals: dict[str, str], group: str) -> str | None:
    """``group``'s final outcome: by its name, or a RabbitMQ destination ending with it."""
    if group in finals:
        return finals[group]
    return next((o for key, o in finals.items() if key.endswith(":" + group)), None)
