"""Interoperability with OpenTelemetry's contrib instrumentations, one process per side.

Each direction runs a producer process then a consumer process (``interop_side``),
over the real broker, and checks what the conventions ask of the pair: one trace, the
consumer's span a child of the producer's (or, for the contrib confluent-kafka consumer,
linked to it, as that instrumentation does between its own producers and consumers),
the parent's ``tracestate`` carried, and the baggage entry reaching the handler.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.integration.interop_side import BAGGAGE, PARENT

ROOT = Path(__file__).resolve().parents[2]
DIRECTIONS = [("official", "eventscope"), ("eventscope", "official")]


def run_side(who: str, role: str, library: str, address: str, destination: str) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.integration.interop_side",
            who,
            role,
            library,
            address,
            destination,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_pair(library: str, producer: str, consumer: str, address: str, destination: str) -> None:
    sent = run_side(producer, "produce", library, address, destination)
    received = run_side(consumer, "consume", library, address, destination)
    # The contrib pika instrumentation makes two PRODUCER spans per publish (on the
    # BlockingChannel and on its inner Channel); the message carries the inner one's.
    sends = {s["span_id"]: s for s in sent["spans"] if s["kind"] == "PRODUCER"}
    assert {s["trace_id"] for s in sends.values()} == {PARENT.trace_id}
    (send,) = [s for s in sends.values() if s["parent"] == PARENT.span_id]
    consumers = [s for s in received["spans"] if s["kind"] == "CONSUMER"]
    assert send["trace_state"] == "vendor=kept"
    assert received["headers"]["tracestate"] == "vendor=kept"
    assert "tenant=acme" in received["headers"]["baggage"]
    if consumer == "official" and library.endswith("kafka"):
        # The contrib Kafka consumers open their span as the poll returns: confluent-kafka's
        # is linked to the producer's, aiokafka's a child; neither puts the message's
        # baggage in the handler's context (it reached the consumer, checked above).
        assert any(s["parent"] in sends or set(sends) & set(s["links"]) for s in consumers)
        return
    (process,) = [s for s in consumers if s["parent"] in sends]
    assert process["trace_id"] == PARENT.trace_id
    assert process["trace_state"] == "vendor=kept"
    assert received["baggage"] == BAGGAGE[1]
