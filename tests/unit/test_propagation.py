"""Trace context, baggage, event id and publish time through headers.

The traceparent vectors follow the W3C Trace Context specification (Level 1,
section 3.2) and the cases of its public test suite (w3c/trace-context, test/test.py).
"""

from __future__ import annotations

import time
import uuid

import pytest
from opentelemetry import baggage, propagate, trace
from opentelemetry.context import Context, attach, detach
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from eventscope.instrumentation import MappingCarrier, extract, inject
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.propagation import (
    format_traceparent,
    new_event_id,
    parse_traceparent,
    stamp_event,
)

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


@pytest.mark.parametrize(
    "value",
    [
        f"00-{TRACE}-{SPAN}-01",
        f"00-{TRACE}-{SPAN}-00",
        f"cc-{TRACE}-{SPAN}-01-what-the-future-will-be-like",
        f"cc-{TRACE}-{SPAN}-01",
        f"00-{TRACE}-{SPAN}-09",  # unknown flags are ignored, sampled bit read
    ],
)
def test_valid_traceparent(value: str) -> None:
    ctx = parse_traceparent(value)
    assert ctx is not None
    assert ctx.trace_id == int(TRACE, 16)
    assert ctx.span_id == int(SPAN, 16)
    assert ctx.is_remote


@pytest.mark.parametrize(
    "value",
    [
        "",
        f"ff-{TRACE}-{SPAN}-01",
        f"00-{TRACE.upper()}-{SPAN}-01",
        f"00-{'0' * 32}-{SPAN}-01",
        f"00-{TRACE}-{'0' * 16}-01",
        f"00-{TRACE}-{SPAN}-01-extra",
        f"00-{TRACE}-{SPAN}-1",
        f"00-{TRACE[:-1]}-{SPAN}-01",
        f"00-{TRACE}-{SPAN[:-1]}-01",
        f"0-{TRACE}-{SPAN}-01",
        f"00_{TRACE}_{SPAN}_01",
        f"00-{TRACE}-{SPAN}-0g",
        f"cc-{TRACE}-{SPAN}-01.what",
        f" 00-{TRACE}-{SPAN}-01",
        f"00-+{TRACE[1:]}-{SPAN}-01",
        f"00-{TRACE[:-2]}_1-{SPAN}-01",
    ],
)
def test_invalid_traceparent(value: str) -> None:
    assert parse_traceparent(value) is None


def test_format_round_trips() -> None:
    ctx = SpanContext(int(TRACE, 16), int(SPAN, 16), False, TraceFlags(1))
    assert format_traceparent(ctx) == f"00-{TRACE}-{SPAN}-01"


def _span(sampled: bool = True) -> NonRecordingSpan:
    return NonRecordingSpan(
        SpanContext(
            int(TRACE, 16),
            int(SPAN, 16),
            False,
            TraceFlags(1 if sampled else 0),
            trace.TraceState([("vendor", "value")]),
        )
    )


def test_inject_then_extract_keeps_context_state_and_baggage() -> None:
    carrier = MappingCarrier({})
    context = baggage.set_baggage("tenant", "acme", Context())
    inject(carrier, _span(), context)
    assert carrier.get(h.TRACEPARENT) == f"00-{TRACE}-{SPAN}-01"
    assert carrier.get(h.TRACESTATE) == "vendor=value"
    incoming = extract(carrier)
    assert incoming.span_context is not None
    assert incoming.span_context.trace_id == int(TRACE, 16)
    assert incoming.span_context.trace_state.get("vendor") == "value"
    assert baggage.get_baggage("tenant", incoming.context) == "acme"


def test_unsampled_flag_survives() -> None:
    carrier = MappingCarrier({})
    inject(carrier, _span(sampled=False))
    assert carrier.get(h.TRACEPARENT).endswith("-00")
    assert not extract(carrier).span_context.trace_flags.sampled


def test_invalid_span_writes_no_traceparent() -> None:
    carrier = MappingCarrier({})
    inject(carrier, trace.INVALID_SPAN)
    assert carrier.get(h.TRACEPARENT) is None


def test_malformed_traceparent_gives_no_parent_but_keeps_event_fields() -> None:
    carrier = MappingCarrier(
        {h.TRACEPARENT: "garbage", h.EVENT_ID: "e-1", h.PUBLISHED_AT: "1700000000.5"}
    )
    incoming = extract(carrier)
    assert incoming.span_context is None and incoming.context is None
    assert incoming.event_id == "e-1"
    assert incoming.published_at == 1700000000.5


def test_malformed_tracestate_and_baggage_are_dropped_not_raised() -> None:
    carrier = MappingCarrier(
        {
            h.TRACEPARENT: f"00-{TRACE}-{SPAN}-01",
            h.TRACESTATE: "=,=,,not a list",
            h.BAGGAGE: "%%%;;==",
        }
    )
    incoming = extract(carrier)
    assert incoming.span_context is not None
    assert baggage.get_all(incoming.context) == {}


@pytest.mark.parametrize("value", ["soon", "-5", "nan", "1e400", "0", "9" * 40])
def test_implausible_publish_time_is_ignored(value: str) -> None:
    assert extract(MappingCarrier({h.PUBLISHED_AT: value})).published_at is None


def test_stamp_event_sets_id_and_time() -> None:
    carrier = MappingCarrier({})
    event_id = stamp_event(carrier)
    assert carrier.get(h.EVENT_ID) == event_id
    assert abs(float(carrier.get(h.PUBLISHED_AT)) - time.time()) < 5


def test_stamp_event_keeps_id_and_first_publish_time_when_forwarding() -> None:
    carrier = MappingCarrier({h.EVENT_ID: "e-7", h.PUBLISHED_AT: "1700000000.000001"})
    assert stamp_event(carrier) == "e-7"
    assert carrier.get(h.PUBLISHED_AT) == "1700000000.000001"


class _OnlyCustomHeader(TextMapPropagator):
    """A stand-in for B3 or Jaeger: a propagator with a non-W3C header."""

    def extract(self, carrier, context=None, getter=None):
        value = getter.get(carrier, "x-custom-trace")
        if not value:
            return context or Context()
        trace_id, span_id = (int(part, 16) for part in value[0].split(":"))
        span = NonRecordingSpan(SpanContext(trace_id, span_id, True, TraceFlags(1)))
        return trace.set_span_in_context(span, context)

    def inject(self, carrier, context=None, setter=None):
        ctx = trace.get_current_span(context).get_span_context()
        setter.set(carrier, "x-custom-trace", f"{ctx.trace_id:x}:{ctx.span_id:x}")

    @property
    def fields(self):
        return {"x-custom-trace"}


def test_a_global_non_w3c_propagator_is_respected() -> None:
    previous = propagate.get_global_textmap()
    propagate.set_global_textmap(_OnlyCustomHeader())
    try:
        carrier = MappingCarrier({})
        inject(carrier, _span())
        assert carrier.get(h.TRACEPARENT) is None
        assert carrier.get("x-custom-trace") == f"{int(TRACE, 16):x}:{int(SPAN, 16):x}"
        assert extract(carrier).span_context.trace_id == int(TRACE, 16)
    finally:
        propagate.set_global_textmap(previous)


def test_current_baggage_is_injected_by_default() -> None:
    token = attach(baggage.set_baggage("user", "42"))
    try:
        carrier = MappingCarrier({})
        inject(carrier, _span())
        assert carrier.get(h.BAGGAGE) == "user=42"
    finally:
        detach(token)


def test_new_event_ids_are_random_version_4_uuids():
    ids = [new_event_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
    # every variant digit (8, 9, a, b) turns up: the bits come from the random input
    assert {text[19] for text in ids} == set("89ab")
