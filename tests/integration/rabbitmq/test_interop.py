"""pika and aio-pika: the contrib instrumentation on one side, eventscope on the other,
each in a process of its own, against RabbitMQ (see tests/integration/interop.py)."""

from __future__ import annotations

import pika
import pytest

from tests.integration.interop import DIRECTIONS, check_pair

pytestmark = pytest.mark.rabbitmq


@pytest.mark.parametrize("library", ["pika", "aio-pika"])
@pytest.mark.parametrize(("producer", "consumer"), DIRECTIONS)
def test_one_trace_across_processes(
    amqp_url: str,
    connection: pika.BlockingConnection,
    name: str,
    library: str,
    producer: str,
    consumer: str,
) -> None:
    connection.channel().queue_declare(name, durable=True)
    check_pair(library, producer, consumer, amqp_url, name)
