"""What ``@producer`` writes into each kind of header container, traced or not.

The producer writes a new header dict directly and reads the current context once;
these tests pin that every path still writes what propagation and the consumer
expect: the current span's trace context (even with tracing off, when the
application has a span of its own), baggage, an event id and a publish time, in that
order, and that a republished message keeps its id.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from opentelemetry import baggage, context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from eventscope import producer
from eventscope.catalog import Attr
from eventscope.instrumentation import configure, telemetry
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.propagation import _published_at, format_traceparent


@producer("orders", system="kafka")
def send(headers: object = None) -> object:
    return headers


def _configure(tracing: bool) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    configure(
        registry=CollectorRegistry(),
        tracer_provider=provider,
        tracing=tracing,
        set_global=False,
        otlp=False,
    )
    return provider, exporter


@pytest.fixture(params=[True, False], ids=["traced", "metrics-only"])
def tracing(request: pytest.FixtureRequest) -> Iterator[bool]:
    yield request.param
    telemetry.reset()


def _assert_event_stamp(headers: dict) -> None:
    assert uuid.UUID(headers[h.EVENT_ID]).version == 4
    published = _published_at(headers[h.PUBLISHED_AT])
    assert published is not None
    assert abs(published - time.time()) < 60
    assert len(headers[h.PUBLISHED_AT].partition(".")[2]) == 6


def test_new_dict_gets_trace_context_first_then_event_id_and_publish_time(tracing: bool) -> None:
    provider, exporter = _configure(tracing)
    with provider.get_tracer("app").start_as_current_span("request") as parent:
        headers = send()
    assert list(headers) == [h.TRACEPARENT, h.EVENT_ID, h.PUBLISHED_AT]
    _assert_event_stamp(headers)
    if tracing:
        (span,) = [s for s in exporter.get_finished_spans() if s.name == "send orders"]
        assert headers[h.TRACEPARENT] == format_traceparent(span.get_span_context())
        assert span.attributes[Attr.MESSAGE_ID] == headers[h.EVENT_ID]
    else:  # no span of ours: the application's own span is the parent to pass on
        assert headers[h.TRACEPARENT] == format_traceparent(parent.get_span_context())


def test_without_any_context_only_the_event_is_stamped_when_not_tracing() -> None:
    _configure(tracing=False)
    try:
        headers = send()
    finally:
        telemetry.reset()
    assert list(headers) == [h.EVENT_ID, h.PUBLISHED_AT]
    _assert_event_stamp(headers)


def test_baggage_alone_is_sent(tracing: bool) -> None:
    _configure(tracing)
    token = context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        headers = send({})
    finally:
        context.detach(token)
    assert headers[h.BAGGAGE] == "tenant=acme"
    _assert_event_stamp(headers)


def test_republished_message_keeps_its_id_and_first_publish_time(tracing: bool) -> None:
    _configure(tracing)
    first = send()
    again = send(
        {b"eventscope-event-id": first[h.EVENT_ID].encode(), h.PUBLISHED_AT: first[h.PUBLISHED_AT]}
    )
    assert again[b"eventscope-event-id"] == first[h.EVENT_ID].encode()
    assert h.EVENT_ID not in again  # the bytes-named header is the id, not replaced twice
    assert again[h.PUBLISHED_AT] == first[h.PUBLISHED_AT]


def test_republished_message_without_publish_time_gets_one(tracing: bool) -> None:
    _configure(tracing)
    again = send({h.EVENT_ID: "order-7"})
    assert again[h.EVENT_ID] == "order-7"
    _assert_event_stamp({**again, h.EVENT_ID: str(uuid.uuid4())})


def test_sqs_attributes_are_written_as_attributes(tracing: bool) -> None:
    _configure(tracing)
    attributes = send({"tenant": {"DataType": "String", "StringValue": "acme"}})
    assert attributes[h.EVENT_ID]["DataType"] == "String"
    assert uuid.UUID(attributes[h.EVENT_ID]["StringValue"]).version == 4
    assert _published_at(attributes[h.PUBLISHED_AT]["StringValue"]) is not None
