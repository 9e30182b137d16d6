"""Fuzzing the runtime: consumer headers, lag-collector answers and command-line flags.

Each property is what a person relies on, whatever arrives:

- a consumer's handler runs exactly once with an attempt >= 1, end-to-end latency is
  only observed inside the plausibility window, invalid headers are counted under
  bounded labels, and OpenTelemetry's parsers do not log per message;
- a lag collection returns readings or one short :class:`CollectorError` line, never
  another exception, whatever a (fake, local) management API or Redis answers;
- ``eventscope lag --timeout`` and ``eventscope demo``'s number flags accept finite
  numbers only, and anything else is exit 2 with one line.

Example counts are fixed (no time-based stopping, so a run is reproducible); the suite
takes about half a minute.  ``EVENTSCOPE_FUZZ_SCALE=10`` tries ten times as many.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventscope import catalog, consumer
from eventscope.cli import build_parser, main
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.publish_window import DEFAULT_CLOCK_SKEW, DEFAULT_MAX_AGE
from eventscope.lag import CollectorError, Snapshot, build_collector
from eventscope.lag.deadline import collect_within
from tests.conftest import Recorded
from tests.fuzz.conftest import TRIED
from tests.raw_servers import http_reply, serving

SCALE = int(os.environ.get("EVENTSCOPE_FUZZ_SCALE", "1"))
QUICK = settings(
    max_examples=300 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NETWORK = settings(QUICK, max_examples=150 * SCALE)


# --- headers ---------------------------------------------------------------------------

UNICODE_DIGITS = st.sampled_from(["²", "①", "٣", "\uff13", "߂", "໕", "\U0001d7d7", "¹", "⑩"])
NOW = time.time()
NUMBERISH = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=NOW - 10 * DEFAULT_MAX_AGE, max_value=NOW + 10 * DEFAULT_MAX_AGE).map(
        lambda t: f"{t:.6f}"
    ),
    st.lists(st.one_of(st.sampled_from("0123456789.e-+_ "), UNICODE_DIGITS), max_size=14).map(
        "".join
    ),
)
TEXTISH = st.one_of(
    st.text(max_size=200),
    st.text(alphabet="abc=,;%&- \t\"'0123456789", max_size=200),
    st.just("x" * 9000),
)
VALUES = st.one_of(
    NUMBERISH, TEXTISH, st.binary(max_size=100), st.none(), st.integers(), st.floats()
)
NAMES = st.sampled_from(
    [h.TRACEPARENT, h.TRACESTATE, h.BAGGAGE, h.EVENT_ID, h.PUBLISHED_AT, h.ATTEMPT, "x-other"]
)
TRACEPARENTS = st.one_of(
    st.just("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), st.text(max_size=60)
)
HEADERS = st.dictionaries(NAMES, VALUES, max_size=7).flatmap(
    lambda d: (
        st.builds(lambda tp: {**d, h.TRACEPARENT: tp}, TRACEPARENTS)
        if h.TRACESTATE in d or h.BAGGAGE in d
        else st.just(d)
    )
)


class _Attr:
    def __init__(self, headers: Any) -> None:
        self.headers = headers


class _Method:
    def __init__(self, headers: Any) -> None:
        self._headers = headers

    def headers(self) -> Any:
        return self._headers


def _bytes(value: Any) -> Any:
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value


CARRIER_SHAPES = {
    "dict": lambda hs: {"headers": hs},
    "kafka-list": lambda hs: {"headers": [(k, _bytes(v)) for k, v in hs.items()]},
    "kafka-bytes-keys": lambda hs: {"headers": [(k.encode(), _bytes(v)) for k, v in hs.items()]},
    "sqs": lambda hs: {
        "MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in hs.items()}
    },
    "redis-entry": lambda hs: ("1-0", {**hs, "payload": "{}"}),
    "attribute": lambda hs: _Attr(hs),
    "method": lambda hs: _Method(hs),
    "bare-mapping": lambda hs: dict(hs),
}
"""Every way a message can carry its headers that the decorator reads."""


def _check_recorded(recorded: Recorded) -> None:
    count = recorded.value(catalog.END_TO_END_DURATION.series("_count"))
    total = recorded.value(catalog.END_TO_END_DURATION.series("_sum"))
    assert total <= count * (DEFAULT_MAX_AGE + 60), "a latency outside the window was observed"
    problems = {p.value for p in catalog.HeaderProblem}
    for family in recorded.registry.collect():
        for sample in family.samples:
            if sample.name == catalog.INVALID_HEADERS.prometheus_name:
                assert sample.labels["eventscope_header_name"] in (h.PUBLISHED_AT, h.ATTEMPT)
                assert sample.labels["eventscope_header_problem"] in problems


@pytest.fixture
def parser_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.WARNING)
    yield caplog
    from_otel = [r for r in caplog.records if r.name.startswith("opentelemetry")]
    assert from_otel == [], "OpenTelemetry logged about a message's header"
    # One line per kind of malformed header, never one per message.
    assert len([r for r in caplog.records if r.name == "eventscope"]) <= 12


@QUICK
@given(shape=st.sampled_from(sorted(CARRIER_SHAPES)), headers=HEADERS, run=st.sampled_from(
    ["sync", "async", "batch"]))  # fmt: skip
def test_any_headers_in_any_carrier_shape(
    recorded: Recorded, parser_logs: pytest.LogCaptureFixture, shape: str, headers: dict, run: str
) -> None:
    TRIED["headers (8 carrier shapes, sync/async/batch)"] += 1
    message = CARRIER_SHAPES[shape](headers)
    attempts: list[int] = []

    if run == "batch":

        @consumer("orders", group="g", batch=True, max_attempts=3)
        def handle_batch(messages, ctx):
            attempts.extend(c.attempt for c in ctx)
            return "done"

        assert handle_batch([message, message]) == "done"
        assert len(attempts) == 2
    elif run == "async":

        @consumer("orders", group="g", max_attempts=3)
        async def handle_async(message, ctx):
            attempts.append(ctx.attempt)
            return "done"

        assert asyncio.run(handle_async(message)) == "done"
    else:

        @consumer("orders", group="g", max_attempts=3)
        def handle(message, ctx):
            attempts.append(ctx.attempt)
            return "done"

        assert handle(message) == "done"
    assert attempts and all(type(a) is int and a >= 1 for a in attempts)
    _check_recorded(recorded)


@QUICK
@given(value=NUMBERISH)
def test_a_published_at_is_observed_only_inside_the_window(recorded: Recorded, value: str) -> None:
    TRIED["published-at values"] += 1

    @consumer("orders", group="g")
    def handle(message):
        return None

    # The fixture's registry lives for the whole test: compare before and after.
    observed_before = recorded.value(catalog.END_TO_END_DURATION.series("_count"))
    invalid_before = recorded.value(catalog.INVALID_HEADERS.prometheus_name)
    before = time.time()
    handle({"headers": {h.PUBLISHED_AT: value}})
    observed = recorded.value(catalog.END_TO_END_DURATION.series("_count")) - observed_before
    invalid = recorded.value(catalog.INVALID_HEADERS.prometheus_name) - invalid_before
    plausible = (
        value.isascii()
        and value.replace(".", "", 1).isdigit()
        and before - DEFAULT_MAX_AGE - 1 <= float(value) <= time.time() + DEFAULT_CLOCK_SKEW + 1
        and float(value) > 0
    )
    assert observed + invalid == 1, "a publish time is either observed or counted invalid"
    if observed:
        assert plausible, f"{value!r} was observed as latency"


# --- lag collectors ----------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip
QUEUE_FIELDS = st.sampled_from(
    [
        "name", "messages_ready", "messages_unacknowledged", "consumers",
        "head_message_timestamp", "message_stats", "source", "destination", "destination_type",
    ]
)  # fmt: skip
QUEUE_LIKE = st.lists(st.dictionaries(QUEUE_FIELDS, JSON_VALUES, max_size=6), max_size=4)
MANAGEMENT_ANSWERS = st.one_of(
    JSON_VALUES.map(lambda v: http_reply(json.dumps(v).encode())),
    QUEUE_LIKE.map(lambda v: http_reply(json.dumps(v).encode())),
    st.binary(max_size=300).map(http_reply),
    st.binary(max_size=300),
    st.sampled_from([b"INFO {}\r\n", b"-ERR\r\n", b"HTTP/1.1 999 ?\r\n\r\n", b"HTTP/1.1 200\r\n"]),
    st.sampled_from(["401 Unauthorized", "404 Not Found", "500 Oops"]).map(
        lambda status: http_reply(b"{}", status)
    ),
)


class _Answers:
    """What the fake server sends next; set per example."""

    def __init__(self) -> None:
        self.replies: list[bytes] = [b""]

    def reply(self, index: int) -> bytes:
        return self.replies[min(index, len(self.replies) - 1)]


@pytest.fixture(scope="module")
def management_api() -> Iterator[tuple[int, _Answers]]:
    answers = _Answers()

    def answer(connection: socket.socket) -> None:
        connection.settimeout(2)
        connection.recv(65536)
        connection.sendall(answers.reply(0))

    with serving(answer) as port:
        yield port, answers


def _one_line_or_snapshot(collector: Any, where: str) -> None:
    try:
        snapshot = collect_within(collector, 3.0, where)
    except CollectorError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 600, message
    else:
        assert isinstance(snapshot, Snapshot)
    finally:
        collector.close()


@NETWORK
@given(answer=MANAGEMENT_ANSWERS)
def test_any_management_api_answer(management_api: tuple[int, _Answers], answer: bytes) -> None:
    TRIED["RabbitMQ management API answers"] += 1
    port, answers = management_api
    answers.replies = [answer]
    collector = build_collector("rabbitmq", {"url": f"http://127.0.0.1:{port}", "timeout": 3})
    _one_line_or_snapshot(collector, "fake management API")


def _resp(value: Any) -> bytes:
    """A Python value in the Redis protocol (RESP2)."""
    if value is None:
        return b"$-1\r\n"
    if isinstance(value, bool):
        return b":1\r\n" if value else b":0\r\n"
    if isinstance(value, int):
        return b":%d\r\n" % value
    if isinstance(value, bytes):
        return b"$%d\r\n%s\r\n" % (len(value), value)
    if isinstance(value, str):
        return b"-" + value.encode().replace(b"\r", b"").replace(b"\n", b"") + b"\r\n"
    return b"*%d\r\n" % len(value) + b"".join(_resp(v) for v in value)


RESP_VALUES = st.recursive(
    st.none() | st.integers(min_value=-5, max_value=10**6) | st.binary(max_size=12)
    | st.sampled_from([b"name", b"billing", b"lag", b"pending", b"consumers", b"1-0",
                       b"last-delivered-id", b"entries-read", b"stream", b"orders.dlq"])
    | st.text(alphabet="ERR WRONGTYPE", min_size=1, max_size=10),
    lambda inner: st.lists(inner, max_size=8),
    max_leaves=30,
)  # fmt: skip
REDIS_ANSWERS = st.one_of(
    st.lists(RESP_VALUES.map(_resp), min_size=1, max_size=6),
    st.lists(st.binary(max_size=40), min_size=1, max_size=3),
)


@pytest.fixture(scope="module")
def fake_redis() -> Iterator[tuple[int, _Answers]]:
    """Answers the connection handshake, one stream key to SCAN, then the fuzzed replies."""
    answers = _Answers()

    def answer(connection: socket.socket) -> None:
        connection.settimeout(2)
        fuzzed = 0
        pending = b""
        while True:
            data = connection.recv(65536)
            if not data:
                return
            pending += data
            for command in _commands(pending):
                name = command[0].upper() if command else b""
                if name in (b"CLIENT", b"SELECT", b"HELLO", b"PING", b"AUTH"):
                    connection.sendall(b"+OK\r\n")
                elif name == b"SCAN":
                    connection.sendall(_resp([b"0", [b"orders", b"orders.dlq"]]))
                else:
                    connection.sendall(answers.reply(fuzzed))
                    fuzzed += 1
            pending = b""

    with serving(answer) as port:
        yield port, answers


def _commands(data: bytes) -> list[list[bytes]]:
    """Commands in what redis-py sent (arrays of bulk strings), enough for a fake."""
    commands, parts = [], data.split(b"\r\n")
    i = 0
    while i < len(parts) and parts[i].startswith(b"*"):
        count = int(parts[i][1:])
        commands.append([parts[i + 2 + 2 * k] for k in range(count)])
        i += 1 + 2 * count
    return commands


@NETWORK
@given(replies=REDIS_ANSWERS)
def test_any_redis_reply(fake_redis: tuple[int, _Answers], replies: list[bytes]) -> None:
    TRIED["Redis replies"] += 1
    port, answers = fake_redis
    answers.replies = replies
    collector = build_collector("redis", {"url": f"redis://127.0.0.1:{port}/0", "timeout": 3})
    _one_line_or_snapshot(collector, "fake Redis")


# --- command-line flags ----------------------------------------------------------------

FLAG_VALUES = st.one_of(
    NUMBERISH,
    st.sampled_from(["inf", "-inf", "nan", "NaN", "1e309", "-0", "0x10", "1_000", " 5", "5 "]),
    st.text(max_size=12),
).filter(lambda v: not v.startswith("-") or v[1:2].isdigit() or v[1:4] in ("inf", "nan"))


@QUICK
@given(value=FLAG_VALUES)
def test_lag_timeout_flag(capsys: pytest.CaptureFixture[str], value: str) -> None:
    TRIED["eventscope lag --timeout values"] += 1
    code = main(
        ["lag", "--broker", "redis", "--url", "redis://127.0.0.1:1/0", f"--timeout={value}"]
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if 0 < seconds <= 3600:
        assert code == 1 and "redis" in err  # a valid timeout; nothing listens on port 1
    else:
        assert code == 2 and "timeout" in err


DEMO_FLAGS = ("--rate", "--poison-rate", "--duplicate-rate", "--duration")


@QUICK
@given(flag=st.sampled_from(DEMO_FLAGS), value=FLAG_VALUES)
def test_demo_number_flags(flag: str, value: str) -> None:
    TRIED["eventscope demo number flags"] += 1
    parser = build_parser()
    try:
        args = parser.parse_args(["demo", f"{flag}={value}"])
    except SystemExit as exc:
        assert exc.code == 2
        return
    parsed = getattr(args, flag.removeprefix("--").replace("-", "_"))
    assert math.isfinite(parsed) and parsed >= 0
