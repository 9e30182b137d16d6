"""``eventscope demo --broker kafka``: the example system on a real broker (Tansu)."""

from __future__ import annotations

import socket

import pytest

from eventscope.demo import DemoOptions, run_demo
from eventscope.demo.transports import kafka
from eventscope.errors import UsageError

pytestmark = pytest.mark.kafka


def test_the_demo_holds_its_invariants_on_kafka(bootstrap: str) -> None:
    options = DemoOptions(
        broker="kafka",
        connection={"bootstrap": bootstrap},
        messages=120,
        rate=2000,
        poison_rate=0.05,
        duplicate_rate=0.05,
        metrics_port=None,
    )
    result = run_demo(options, live=None)
    assert result.drained and result.invariants_hold
    assert result.published == 120 and result.traced == 120
    assert result.dead_lettered > 0 and result.duplicates > 0
    assert result.retried >= 2 * result.dead_lettered  # three attempts each
    assert result.lag == 0 and all(g["lag"] == 0 for g in result.groups.values())
    # Each group dead-letters a poison order once; billing may also give up on a good
    # order after three gateway timeouts in a row, which shipping then handles.
    assert result.dead_lettered <= result.dlq_depth <= 2 * result.dead_lettered


def test_without_a_bootstrap_the_demo_runs_its_own_broker_and_stops_it() -> None:
    transport = kafka.create({"partitions": 2})
    host, port = transport.bootstrap.split(":")
    socket.create_connection((host, int(port)), timeout=2).close()
    transport.stop()
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=2).close()


def test_the_kafka_demo_refuses_a_url() -> None:
    with pytest.raises(UsageError, match="--bootstrap"):
        kafka.create({"url": "amqp://localhost"})
