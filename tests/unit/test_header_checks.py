"""Numbers in headers are read strictly, and a publish time must be plausible.

A forged ``eventscope-published-at`` must not become end-to-end latency, a
``eventscope-attempt`` of ``²`` must not switch off the retry policy, and broken
``tracestate``/``baggage`` must not write a log line per message.
"""

from __future__ import annotations

import logging
import time

import pytest

from eventscope import Retry, consumer
from eventscope.instrumentation import headers as h
from eventscope.instrumentation import quiet_parsing
from eventscope.instrumentation.brokers.nats import _count_attempt
from eventscope.instrumentation.header_text import ascii_count
from eventscope.instrumentation.publish_window import PublishWindow
from tests.conftest import Recorded

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
E2E = "eventscope_end_to_end_duration_seconds"
INVALID = "eventscope_consumer_invalid_headers_total"


def _invalid(recorded: Recorded, header: str, problem: str) -> float:
    return recorded.value(INVALID, eventscope_header_name=header, eventscope_header_problem=problem)


@pytest.mark.parametrize("value", ["²", "①", "٣", "\uff13", "-1", " 2", "2 ", "", "1234567", "0x2"])
def test_attempts_are_ascii_digits_or_nothing(value: str) -> None:
    assert ascii_count(value) is None


@pytest.mark.parametrize(("value", "count"), [("1", 1), ("02", 2), ("999999", 999999)])
def test_ascii_counts_are_read(value: str, count: int) -> None:
    assert ascii_count(value) == count


@pytest.mark.parametrize("value", ["²", "①", "٣"])
def test_a_unicode_digit_attempt_keeps_the_retry_policy(recorded: Recorded, value: str) -> None:
    seen = []

    @consumer("orders", group="g", max_attempts=3)
    def handle(message, ctx):
        seen.append(ctx.attempt)
        raise Retry("try again")

    with pytest.raises(Retry):  # a plain dict has no broker to settle the retry
        handle({"headers": {h.ATTEMPT: value}})
    assert seen == [1]  # before: begin() failed, the policy and telemetry were skipped
    assert recorded.value("eventscope_process_outcomes_total", eventscope_outcome="retry") == 1
    assert _invalid(recorded, h.ATTEMPT, "malformed") == 1


def test_core_nats_counts_attempts_past_a_malformed_header() -> None:
    class Msg:
        def __init__(self) -> None:
            self.headers = {h.ATTEMPT: "²"}

    message = Msg()
    _count_attempt(
        message
    )  # raised ValueError before: the message was neither retried nor dead-lettered
    assert message.headers[h.ATTEMPT] == "2"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1", "too_old"),
        ("86400", "too_old"),
        ("1e9", "malformed"),
        ("١٧٣٢٣٦٣٢٠٠", "malformed"),
        ("nan", "malformed"),
        ("1_732_363_200", "malformed"),
        (f"{time.time() + 86400:.6f}", "in_future"),
    ],
)
def test_an_implausible_publish_time_is_counted_not_observed(
    recorded: Recorded, value: str, problem: str
) -> None:
    @consumer("orders", group="g")
    def handle(message):
        return None

    handle({"headers": {h.PUBLISHED_AT: value}})
    assert recorded.value(E2E + "_count") == 0
    assert _invalid(recorded, h.PUBLISHED_AT, problem) == 1


def test_a_plausible_publish_time_is_observed(recorded: Recorded) -> None:
    @consumer("orders", group="g")
    def handle(message):
        return None

    handle({"headers": {h.PUBLISHED_AT: f"{time.time() - 3:.6f}"}})
    handle({"headers": {h.PUBLISHED_AT: f"{time.time() + 60:.6f}"}})  # within the skew
    assert recorded.value(E2E + "_count") == 2
    assert 3 <= recorded.value(E2E + "_sum") < 3600
    assert recorded.value(INVALID) == 0


def test_the_window_is_configurable(recorded: Recorded) -> None:
    @consumer("orders", group="g", max_message_age=60, clock_skew=0)
    def handle(message):
        return None

    handle({"headers": {h.PUBLISHED_AT: f"{time.time() - 120:.6f}"}})
    handle({"headers": {h.PUBLISHED_AT: f"{time.time() + 30:.6f}"}})
    assert _invalid(recorded, h.PUBLISHED_AT, "too_old") == 1
    assert _invalid(recorded, h.PUBLISHED_AT, "in_future") == 1
    assert recorded.value(E2E + "_count") == 0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0])
def test_the_window_must_be_finite(bad: float) -> None:
    with pytest.raises(ValueError, match="finite number of seconds"):
        PublishWindow(max_age=bad)
    with pytest.raises(ValueError, match="finite number of seconds"):
        consumer("orders", clock_skew=bad)


def test_malformed_tracestate_and_baggage_are_logged_once_per_cause(
    recorded: Recorded, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    @consumer("orders", group="g")
    def handle(message):
        return None

    monkeypatch.setattr(quiet_parsing._filter, "seen", set())  # earlier tests saw causes too
    caplog.set_level(logging.WARNING)
    for i in range(200):
        sender_text = f"secret-{i}-" + "x" * 1000
        handle(
            {
                "headers": {
                    h.TRACEPARENT: TRACEPARENT,
                    h.TRACESTATE: f"not a member {sender_text}",
                    h.BAGGAGE: f"%%%;;== {sender_text}",
                }
            }
        )
    messages = [r.getMessage() for r in caplog.records]
    assert 1 <= len(messages) <= 4, messages  # one per kind of problem, not per message
    assert all(r.name == "eventscope" for r in caplog.records)
    assert not any("secret-" in m for m in messages)
    assert len(recorded.spans("process orders")) == 200


def test_the_application_own_parsing_logs_as_before(caplog: pytest.LogCaptureFixture) -> None:
    from opentelemetry.trace import TraceState

    caplog.set_level(logging.WARNING)
    TraceState.from_header(["application's own bad member"])
    assert [r.name for r in caplog.records] == ["opentelemetry.trace.span"]
