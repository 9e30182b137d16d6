"""Producer and consumer decorators: spans, parents, links, outcomes, metrics."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import baggage, context, trace
from opentelemetry.trace import SpanKind, StatusCode

import eventscope
from eventscope import DeadLetter, InMemoryBus, MessageContext, Retry, consumer, producer
from eventscope.catalog import Attr
from eventscope.instrumentation import headers as h
from tests.conftest import Recorded

OUTCOMES = "eventscope_process_outcomes_total"


def _outcomes(recorded: Recorded, outcome: str, group: str = "g") -> float:
    return recorded.value(OUTCOMES, eventscope_outcome=outcome, messaging_consumer_group_name=group)


@producer("orders", system="kafka")
def send(payload: dict, headers: dict | None = None) -> dict:
    return {"value": payload, "headers": headers}


def test_producer_fills_headers_and_opens_a_producer_span(recorded: Recorded) -> None:
    message = send({"id": 1})
    (span,) = recorded.spans("send orders")
    assert span.kind is SpanKind.PRODUCER
    ctx = span.get_span_context()
    assert message["headers"][h.TRACEPARENT] == f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-01"
    assert span.attributes[Attr.MESSAGE_ID] == message["headers"][h.EVENT_ID]
    assert span.attributes[Attr.SYSTEM] == "kafka"
    assert (
        recorded.value(
            "messaging_client_sent_messages_total",
            messaging_system="kafka",
            messaging_destination_name="orders",
            error_type="",
        )
        == 1
    )


def test_producer_fills_the_callers_kafka_header_list_in_place(recorded: Recorded) -> None:
    headers = [("tenant", b"acme")]
    send({"id": 1}, headers)
    names = [name for name, _ in headers]
    assert names[0] == "tenant"
    assert {h.TRACEPARENT, h.EVENT_ID, h.PUBLISHED_AT} <= set(names)
    assert all(isinstance(value, bytes) for _, value in headers)


def test_producer_span_is_a_child_of_the_current_span(recorded: Recorded) -> None:
    tracer = recorded.configuration.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("request") as parent:
        send({})
    (span,) = recorded.spans("send orders")
    assert span.parent.span_id == parent.get_span_context().span_id


def test_producer_error_is_recorded_and_reraised(recorded: Recorded) -> None:
    @producer("orders", system="kafka")
    def broken(headers=None):
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        broken()
    (span,) = recorded.spans("send orders")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[Attr.ERROR_TYPE] == "ConnectionError"
    assert recorded.value("messaging_client_sent_messages_total", error_type="ConnectionError") == 1


def test_producer_needs_a_headers_parameter() -> None:
    with pytest.raises(TypeError, match="headers"):

        @producer("orders", system="kafka")
        def no_headers(payload):
            pass


def test_producer_needs_the_messaging_system_when_decorating() -> None:
    # messaging.system is required by the conventions and labels every panel: no default
    with pytest.raises(TypeError, match=r"@producer\('orders'\) needs system=.*kafka, rabbitmq"):

        @producer("orders")
        def send(payload, headers=None):
            pass

    with pytest.raises(ValueError, match=r"system='Kafka' is not a messaging\.system value"):
        producer("orders", system="Kafka")
    with pytest.raises(TypeError, match="must be a string"):
        producer("orders", system=object())  # type: ignore[arg-type]


def test_producer_accepts_other_opentelemetry_systems(recorded: Recorded) -> None:
    @producer("orders", system="gcp_pubsub")
    def send(headers=None):
        return headers

    send()
    assert recorded.spans("send orders")[0].attributes[Attr.SYSTEM] == "gcp_pubsub"


def test_async_producer(recorded: Recorded) -> None:
    @producer("orders", system="nats")
    async def publish(payload, *, headers=None):
        return headers

    headers = asyncio.run(publish({}))
    assert h.TRACEPARENT in headers
    assert recorded.spans("send orders")[0].attributes[Attr.SYSTEM] == "nats"


def test_consumer_span_is_child_of_producer_span(recorded: Recorded) -> None:
    seen: list[MessageContext] = []

    @consumer("orders", group="g", system="kafka")
    def handle(message, ctx):
        seen.append(ctx)
        assert trace.get_current_span() is ctx.span

    message = send({"id": 1})
    handle(message)
    (producer_span,) = recorded.spans("send orders")
    (consumer_span,) = recorded.spans("process orders")
    assert consumer_span.kind is SpanKind.CONSUMER
    assert consumer_span.parent.span_id == producer_span.context.span_id
    assert consumer_span.context.trace_id == producer_span.context.trace_id
    assert consumer_span.attributes[Attr.CONSUMER_GROUP] == "g"
    assert consumer_span.attributes[Attr.OUTCOME] == "ok"
    assert seen[0].event_id == message["headers"][h.EVENT_ID]
    assert seen[0].attempt == 1
    assert seen[0].trace_id == f"{producer_span.context.trace_id:032x}"


def test_baggage_reaches_the_handler(recorded: Recorded) -> None:
    token = context.attach(baggage.set_baggage("tenant", "acme"))
    try:
        message = send({})
    finally:
        context.detach(token)
    got = []

    @consumer("orders", group="g")
    def handle(message):
        got.append(baggage.get_baggage("tenant"))

    handle(message)
    assert got == ["acme"]


def test_corrupted_trace_headers_start_a_new_trace(recorded: Recorded) -> None:
    calls = []

    @consumer("orders", group="g")
    def handle(message):
        calls.append(message)

    handle({"headers": {h.TRACEPARENT: "00-zzzz-\r\n", h.TRACESTATE: "\x00", h.BAGGAGE: 5}})
    (span,) = recorded.spans("process orders")
    assert span.parent is None
    assert len(calls) == 1
    assert _outcomes(recorded, "ok") == 1


def test_metrics_for_a_processed_message(recorded: Recorded) -> None:
    @consumer("orders", group="g", system="kafka")
    def handle(message):
        pass

    handle(send({}))
    labels = {
        "messaging_system": "kafka",
        "messaging_destination_name": "orders",
        "messaging_consumer_group_name": "g",
    }
    assert (
        recorded.value(
            "messaging_process_duration_seconds_count",
            **labels,
            messaging_operation_name="process",
            error_type="",
        )
        == 1
    )
    assert recorded.value("messaging_client_consumed_messages_total", **labels) == 1
    assert recorded.value("eventscope_end_to_end_duration_seconds_count", **labels) == 1
    assert recorded.value("eventscope_consumer_in_flight", **labels) == 0
    assert _outcomes(recorded, "ok") == 1


def test_unexpected_exception_is_an_error_and_propagates(recorded: Recorded) -> None:
    @consumer("orders", group="g")
    def handle(message):
        raise KeyError("sku")

    with pytest.raises(KeyError):
        handle(send({}))
    (span,) = recorded.spans("process orders")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[Attr.ERROR_TYPE] == "KeyError"
    assert span.events[0].name == "exception"
    assert _outcomes(recorded, "error") == 1
    assert recorded.value("messaging_process_duration_seconds_count", error_type="KeyError") == 1


def test_max_attempts_turns_failures_into_retries_then_dead_letter(recorded: Recorded) -> None:
    @consumer("orders", group="g", max_attempts=3)
    def handle(message):
        raise ValueError("bad")

    message = send({})
    for attempt in (1, 2):
        message["headers"][h.ATTEMPT] = str(attempt)
        with pytest.raises(ValueError):
            handle(message)  # a plain dict cannot be settled: the caller must act
    message["headers"][h.ATTEMPT] = "3"
    with pytest.raises(ValueError):
        handle(message)
    assert _outcomes(recorded, "retry") == 2
    assert _outcomes(recorded, "dead_letter") == 1
    assert (
        recorded.value(
            "eventscope_dead_letter_messages_total", eventscope_dead_letter_reason="ValueError"
        )
        == 1
    )


def test_outcomes_signalled_through_ctx(recorded: Recorded) -> None:
    @consumer("orders", group="g")
    def handle(message, ctx):
        getattr(ctx, message["do"])(*message.get("args", ()))

    handle({"do": "retry", "headers": {}})
    handle({"do": "dead_letter", "args": ("schema mismatch",), "headers": {}})
    handle({"do": "duplicate", "headers": {}})
    for outcome in ("retry", "dead_letter", "duplicate"):
        assert _outcomes(recorded, outcome) == 1
    assert (
        recorded.value(
            "eventscope_dead_letter_messages_total", eventscope_dead_letter_reason="schema mismatch"
        )
        == 1
    )


def test_retry_and_dead_letter_exceptions(recorded: Recorded) -> None:
    @consumer("orders", group="g", max_attempts=2)
    def handle(message):
        raise (Retry("busy") if message["value"] == "r" else DeadLetter("invalid"))

    with pytest.raises(Retry):
        handle({"value": "r", "headers": {h.ATTEMPT: "1"}})
    with pytest.raises(Retry):
        handle({"value": "r", "headers": {h.ATTEMPT: "2"}})
    with pytest.raises(DeadLetter):
        handle({"value": "d", "headers": {}})
    assert _outcomes(recorded, "retry") == 1
    assert _outcomes(recorded, "dead_letter") == 2


def test_bus_messages_are_settled_by_the_decorator(recorded: Recorded) -> None:
    bus = InMemoryBus()
    attempts = []

    @consumer(group="g", max_attempts=3)
    def handle(message):
        attempts.append(message.attempt)
        raise ValueError("always")

    bus.subscribe("orders", "g", handle, max_attempts=5)
    bus.publish("orders", {"id": 1})
    bus.dispatch()
    assert attempts == [1, 2, 3]  # the decorator's policy wins over the bus's 5
    assert bus.end_offsets("orders.dlq") == [1]
    assert _outcomes(recorded, "retry") == 2
    assert _outcomes(recorded, "dead_letter") == 1


def test_ctx_outcomes_without_raising_are_settled_on_the_bus(recorded: Recorded) -> None:
    bus = InMemoryBus()
    attempts = []

    @consumer(group="g")
    def handle(message, ctx):
        attempts.append(ctx.attempt)
        if message.value == "bad":
            ctx.dead_letter("invalid payload")
        elif ctx.attempt == 1:
            ctx.retry("not yet")

    bus.subscribe("orders", "g", handle)
    bus.publish("orders", "bad")
    bus.publish("orders", "later")
    bus.dispatch()
    assert attempts == [1, 1, 2]
    assert bus.end_offsets("orders.dlq") == [1]
    assert _outcomes(recorded, "dead_letter") == 1
    assert _outcomes(recorded, "retry") == 1


def test_ctx_retry_on_the_last_attempt_is_a_dead_letter(recorded: Recorded) -> None:
    @consumer("orders", group="g", max_attempts=2)
    def handle(message, ctx):
        ctx.retry("still busy")

    handle({"headers": {h.ATTEMPT: "2"}})
    assert _outcomes(recorded, "dead_letter") == 1
    assert _outcomes(recorded, "retry") == 0


def test_sqs_trace_context_wins_the_last_free_attributes(recorded: Recorded) -> None:
    @producer("orders", system="aws_sqs")
    def send(headers=None):
        return headers

    attributes = {f"app{i}": {"DataType": "String", "StringValue": "v"} for i in range(9)}
    send(attributes)
    assert len(attributes) == 10
    assert h.TRACEPARENT in attributes


def test_deduplicate_skips_a_redelivered_event(recorded: Recorded) -> None:
    calls = []

    @consumer("orders", group="g", deduplicate=10)
    def handle(message):
        calls.append(message)

    message = send({})
    handle(message)
    assert handle(message) is None
    assert len(calls) == 1
    assert _outcomes(recorded, "duplicate") == 1
    assert recorded.spans("process orders")[1].attributes[Attr.OUTCOME] == "duplicate"


def test_deduplicate_does_not_skip_a_retry(recorded: Recorded) -> None:
    calls = []

    @consumer("orders", group="g", deduplicate=10)
    def handle(message, ctx):
        calls.append(1)
        if len(calls) == 1:
            ctx.retry()

    message = send({})
    handle(message)
    handle(message)
    assert len(calls) == 2


def test_batch_span_links_every_producer(recorded: Recorded) -> None:
    @consumer("orders", group="g", batch=True)
    def handle(messages, ctx):
        assert len(ctx) == 3
        ctx.messages[1].dead_letter("bad row")

    handle(iter([send({"n": i}) for i in range(3)]))
    producers = {s.context.span_id for s in recorded.spans("send orders")}
    (span,) = recorded.spans("process orders")
    assert {link.context.span_id for link in span.links} == producers
    assert span.parent is None
    assert span.attributes[Attr.BATCH_COUNT] == 3
    assert _outcomes(recorded, "ok") == 2
    assert _outcomes(recorded, "dead_letter") == 1
    assert recorded.value("messaging_process_duration_seconds_count") == 1
    assert recorded.value("messaging_client_consumed_messages_total") == 3


def test_async_consumer(recorded: Recorded) -> None:
    @consumer("orders", group="g", max_attempts=2)
    async def handle(message, ctx):
        await asyncio.sleep(0)
        if ctx.attempt == 1:
            raise TimeoutError

    bus = InMemoryBus()
    bus.subscribe("orders", "g", handle)

    @producer("orders", system="memory")
    def publish(headers=None):
        bus.publish("orders", "x", headers=headers)

    publish()
    bus.dispatch()
    spans = recorded.spans("process orders")
    assert [s.attributes[Attr.OUTCOME] for s in spans] == ["retry", "ok"]
    parent = recorded.spans("send orders")[0].context.span_id
    assert all(s.parent.span_id == parent for s in spans)


def test_method_handlers_take_the_message_after_self(recorded: Recorded) -> None:
    class Service:
        @consumer("orders", group="g")
        def handle(self, message, ctx):
            return ctx.event_id

    assert Service().handle(send({})) is not None


def test_telemetry_failure_never_reaches_the_handler(recorded: Recorded, monkeypatch, caplog):
    from eventscope.instrumentation import consumer_decorator as consumer_module

    def explode(*args, **kwargs):
        raise RuntimeError("exporter bug")

    monkeypatch.setattr(consumer_module, "extract", explode)
    results = []

    @consumer("orders", group="g")
    def handle(message, ctx):
        results.append(ctx.attempt)
        return "handled"

    assert handle(send({})) == "handled"
    assert handle(send({})) == "handled"
    assert results == [1, 1]
    warnings = [r for r in caplog.records if "telemetry failed" in r.getMessage()]
    assert len(warnings) == 1  # logged once, then quiet


def test_without_configure_the_global_providers_are_used() -> None:
    from eventscope.instrumentation import telemetry

    telemetry.reset()

    @consumer("orders", group="g")
    def handle(message):
        return "ok"

    assert handle({"headers": {}}) == "ok"
    assert telemetry.current().tracer is not None


def test_public_surface_is_reexported() -> None:
    for name in (
        "configure",
        "producer",
        "consumer",
        "InMemoryBus",
        "Retry",
        "DeadLetter",
        "MessageContext",
        "metrics_asgi_app",
        "metrics_wsgi_app",
    ):
        assert hasattr(eventscope, name)
