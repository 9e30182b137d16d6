"""The RabbitMQ lag collector against the real management API."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pika
import pytest

from eventscope.errors import UsageError
from eventscope.lag.collector import CollectorError, Snapshot
from eventscope.lag.rabbitmq import RabbitMQCollector, from_options
from tests.integration.rabbitmq.conftest import URL
from tests.integration.rabbitmq.helpers import declare

pytestmark = pytest.mark.rabbitmq


def _eventually(collector: RabbitMQCollector, check: Callable[[Snapshot], bool]) -> Snapshot:
    """Collect until ``check`` holds: the management API refreshes some figures every 5 s."""
    deadline = time.monotonic() + 15
    while True:
        snapshot = collector.collect()
        if check(snapshot) or time.monotonic() > deadline:
            return snapshot
        time.sleep(0.2)


def _publish(channel, name: str, count: int) -> None:
    stamp = int(time.time()) - 30  # published "30 s ago": a head-message age to read
    for i in range(count):
        channel.basic_publish(name, "", str(i).encode(), pika.BasicProperties(timestamp=stamp))


@pytest.fixture
def collector(vhost: str, name: str):
    collector = from_options({"url": URL, "vhost": vhost, "groups": [name], "timeout": 5})
    yield collector
    collector.close()


def test_lag_is_published_minus_acknowledged_and_pending_is_unacknowledged(
    connection: pika.BlockingConnection, name: str, collector: RabbitMQCollector
) -> None:
    channel = connection.channel()
    channel.confirm_delivery()
    declare(channel, name, "classic")
    _publish(channel, name, 10)
    for _ in range(4):  # consume M = 4
        method, _, _ = channel.basic_get(name)
        channel.basic_ack(method.delivery_tag)
    held = [channel.basic_get(name)[0] for _ in range(2)]  # delivered, not acknowledged

    # Acknowledgement totals and the head message's age refresh on separate samples.
    (reading,) = _eventually(
        collector, lambda s: s.lag and s.lag[0].position == 4 and s.lag[0].seconds is not None
    ).lag
    assert (reading.destination, reading.group) == (name, name)  # bound exchange, queue
    assert reading.messages == 10 - 4 - 2
    assert reading.pending == 2
    assert reading.position == 4  # acknowledgements so far
    assert reading.seconds is not None and reading.seconds >= 30

    for method in held:
        channel.basic_nack(method.delivery_tag, requeue=True)
    (reading,) = collector.collect().lag
    assert (reading.messages, reading.pending) == (6, 0)


def test_lag_seconds_grow_while_the_consumer_is_stopped_and_fall_once_it_catches_up(
    connection: pika.BlockingConnection, name: str, collector: RabbitMQCollector
) -> None:
    channel = connection.channel()
    channel.confirm_delivery()
    declare(channel, name, "classic")
    channel.basic_publish(name, "", b"x", pika.BasicProperties(timestamp=int(time.time())))
    first = _eventually(collector, lambda s: s.lag[0].seconds is not None).lag[0].seconds
    time.sleep(1.1)
    later = collector.collect().lag[0].seconds
    assert first is not None and later is not None and later > first

    received: list[bytes] = []
    channel.basic_consume(name, lambda ch, m, p, body: received.append(body), auto_ack=True)
    while not received:
        connection.process_data_events(time_limit=0.05)
    (reading,) = collector.collect().lag
    assert reading.messages == 0 and reading.seconds == 0.0
    members = _eventually(collector, lambda s: s.consumers[0].members == 1).consumers[0]
    assert members.members == 1


def test_dead_letter_depth_is_what_was_dead_lettered(
    connection: pika.BlockingConnection, vhost: str, name: str
) -> None:
    channel = connection.channel()
    channel.confirm_delivery()
    declare(channel, name, "quorum")
    _publish(channel, name, 5)
    for _ in range(3):
        method, _, _ = channel.basic_get(name)
        channel.basic_nack(method.delivery_tag, requeue=False)
    collector = from_options({"url": URL, "vhost": vhost, "groups": [name]})

    def depths(snapshot: Snapshot) -> dict[str, int]:
        # Default dead letters: every queue named *.dlq (other tests' too, in this vhost).
        return {d.destination: d.messages for d in snapshot.dead_letters}

    snapshot = _eventually(collector, lambda s: depths(s).get(f"{name}.dlq") == 3)
    assert depths(snapshot)[f"{name}.dlq"] == 3
    assert [r.group for r in snapshot.lag] == [name]  # the DLQ is a depth, not a group


def test_an_unreachable_broker_is_a_collector_error_not_zeros() -> None:
    collector = from_options({"url": "http://guest:guest@127.0.0.1:1", "timeout": 1})
    with pytest.raises(CollectorError, match="cannot reach the RabbitMQ management API"):
        collector.collect()


def test_a_broker_that_never_answers_is_a_collector_error_after_the_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never speaks
        port = silent.getsockname()[1]
        collector = from_options({"url": f"http://guest:guest@127.0.0.1:{port}", "timeout": 0.5})
        with pytest.raises(CollectorError, match="timed out"):
            collector.collect()


def test_wrong_credentials_and_a_missing_vhost_say_so() -> None:
    with pytest.raises(CollectorError, match="rejected user 'nobody'"):
        from_options({"url": "http://nobody:wrong@127.0.0.1:15672"}).collect()
    with pytest.raises(CollectorError, match="no virtual host 'no-such-vhost'"):
        from_options({"url": URL, "vhost": "no-such-vhost"}).collect()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "ftp://host"}, "expected http://"),
        ({"url": 5}, "url: expected a string"),
        ({"groups": "billing", "bootstrap": "x"}, "unknown rabbitmq option 'bootstrap'"),
        ({"groups": [1]}, "groups: expected a list of names"),
        ({"timeout": "soon"}, "timeout: expected seconds"),
        ({"timeout": 0}, "timeout: expected a positive number"),
    ],
)
def test_bad_options_are_usage_errors(options: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        from_options(options)


def test_an_amqp_url_maps_to_its_management_api() -> None:
    collector = from_options({"url": "amqp://ann:s%40cret@broker.example:5672/orders"})
    assert (collector.base, collector.username, collector.password, collector.vhost) == (
        "http://broker.example:15672",
        "ann",
        "s@cret",
        "orders",
    )
