"""Property: whatever arrives in the headers, the handler runs and telemetry is recorded."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventscope import consumer
from eventscope.instrumentation import headers as h
from tests.conftest import Recorded

NAMES = st.sampled_from(
    [h.TRACEPARENT, h.TRACESTATE, h.BAGGAGE, h.EVENT_ID, h.PUBLISHED_AT, h.ATTEMPT, "other"]
)
VALUES = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300),
    st.integers(),
    st.floats(allow_nan=True),
    st.none(),
    st.lists(st.text(max_size=5), max_size=3),
    st.text(alphabet="0123456789abcdef-", min_size=50, max_size=60),
)
DICT_HEADERS = st.dictionaries(NAMES, VALUES, max_size=7)
KAFKA_HEADERS = st.lists(st.tuples(NAMES, VALUES), max_size=7)
ODD_SHAPES = st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(VALUES, max_size=3))


@settings(
    max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(headers=st.one_of(DICT_HEADERS, KAFKA_HEADERS, ODD_SHAPES))
def test_random_headers_never_fail_the_handler(recorded: Recorded, headers: object) -> None:
    calls = []

    @consumer("orders", group="g", max_attempts=3)
    def handle(message, ctx):
        calls.append(ctx.attempt)
        return "done"

    assert handle({"headers": headers}) == "done"
    assert len(calls) == 1 and calls[0] >= 1
    span = recorded.spans("process orders")[-1]
    assert span.attributes["eventscope.outcome"] == "ok"
