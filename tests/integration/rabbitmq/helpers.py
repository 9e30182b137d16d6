"""Topology and polling shared by the RabbitMQ tests."""

from __future__ import annotations

import time
from collections.abc import Callable

import pika

from eventscope import catalog
from eventscope.catalog import Attr, prometheus_label
from tests.conftest import Recorded

GROUP = prometheus_label(Attr.CONSUMER_GROUP)
OUTCOME = prometheus_label(Attr.OUTCOME)
DESTINATION = prometheus_label(Attr.DESTINATION)


def declare(
    channel: pika.adapters.blocking_connection.BlockingChannel,
    name: str,
    queue_type: str = "quorum",
) -> None:
    """A fanout exchange ``name`` feeding queue ``name``, dead-lettering into ``name.dlq``."""
    channel.exchange_declare(name, "fanout")
    channel.queue_declare(name + ".dlq", durable=True)
    channel.queue_declare(
        name,
        durable=True,
        arguments={
            "x-queue-type": queue_type,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": name + ".dlq",
        },
    )
    channel.queue_bind(name, name)


def depth(channel: pika.adapters.blocking_connection.BlockingChannel, queue: str) -> int:
    return channel.queue_declare(queue, passive=True).method.message_count


def pump(
    connection: pika.BlockingConnection, done: Callable[[], bool], timeout: float = 10.0
) -> None:
    """Run the connection's callbacks until ``done()`` (fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out waiting for RabbitMQ deliveries"
        connection.process_data_events(time_limit=0.05)


def outcomes(recorded: Recorded, outcome: str, group: str) -> float:
    return recorded.value(catalog.PROCESS_OUTCOMES.series(), **{OUTCOME: outcome, GROUP: group})


def spans_of(recorded: Recorded, operation: str, exchange: str) -> list:
    """The ``send``/``process`` spans of messages published to ``exchange``: semconv 1.44
    names them ``send {exchange}:{routing key}`` and ``process {exchange}:{key}:{queue}``."""
    prefix = f"{operation} {exchange}"
    return [s for s in recorded.spans() if s.name == prefix or s.name.startswith(prefix + ":")]
