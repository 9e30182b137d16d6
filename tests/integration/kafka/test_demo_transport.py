"""The Kafka demo transport: its own Tansu when given no bootstrap, and its options.

The demo's run on Kafka is in ``tests/integration/test_demo.py``, with the other brokers.
"""

from __future__ import annotations

import socket

import pytest

from eventscope.demo.transports import kafka
from eventscope.errors import UsageError

pytestmark = pytest.mark.kafka


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
