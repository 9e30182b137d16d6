"""The Redis Streams lag collector against a real Redis."""

from __future__ import annotations

import socket
import time

import pytest
import redis

from eventscope.errors import UsageError
from eventscope.lag.collector import CollectorError
from eventscope.lag.redis import from_options

pytestmark = pytest.mark.redis


def _collect(redis_url: str, **options):
    collector = from_options({"url": redis_url, **options})
    try:
        return collector.collect()
    finally:
        collector.close()


def _fill(client: redis.Redis, name: str, count: int, groups=("billing",)) -> None:
    for group in groups:
        client.xgroup_create(name, group, id="0", mkstream=True)
    for i in range(count):
        client.xadd(name, {"n": str(i)})


def test_lag_is_added_minus_acknowledged_per_group(
    client: redis.Redis, redis_url: str, name: str
) -> None:
    _fill(client, name, 10, groups=("billing", "shipping"))
    read = client.xreadgroup("billing", "w1", {name: ">"}, count=6)[0][1]
    client.xack(name, "billing", *[entry_id for entry_id, _ in read[:4]])  # consume M = 4

    readings = {r.group: r for r in _collect(redis_url, streams=[name]).lag}
    billing, shipping = readings["billing"], readings["shipping"]
    assert (billing.destination, billing.messages, billing.pending) == (name, 4, 2)
    assert billing.position == 6  # entries-read
    assert (shipping.messages, shipping.pending, shipping.position) == (10, 0, 0)
    consumers = {c.group: c.members for c in _collect(redis_url, streams=[name]).consumers}
    assert consumers == {"billing": 1, "shipping": 0}


def test_lag_is_counted_when_redis_cannot_tell_after_deletions(
    client: redis.Redis, redis_url: str, name: str
) -> None:
    _fill(client, name, 5)
    client.xreadgroup("billing", "w1", {name: ">"}, count=1)
    middle = client.xrange(name)[2][0]
    client.xdel(name, middle)  # Redis reports lag as nil now
    assert client.xinfo_groups(name)[0]["lag"] is None
    (reading,) = _collect(redis_url, streams=[name]).lag
    assert reading.messages == 3


def test_lag_seconds_grow_while_stopped_and_fall_after_catching_up(
    client: redis.Redis, redis_url: str, name: str
) -> None:
    _fill(client, name, 2)
    (first,) = _collect(redis_url, streams=[name]).lag
    time.sleep(0.3)
    (later,) = _collect(redis_url, streams=[name]).lag
    assert first.seconds is not None and later.seconds is not None
    assert later.seconds >= first.seconds + 0.25

    for entry_id, _ in client.xreadgroup("billing", "w1", {name: ">"})[0][1]:
        client.xack(name, "billing", entry_id)
    (caught_up,) = _collect(redis_url, streams=[name]).lag
    assert (caught_up.messages, caught_up.pending, caught_up.seconds) == (0, 0, 0.0)


def test_dead_letter_depth_is_the_dlq_length_or_what_its_readers_have_left(
    client: redis.Redis, redis_url: str, name: str
) -> None:
    _fill(client, name, 1)
    for i in range(3):
        client.xadd(name + ".dlq", {"n": str(i)})
    snapshot = _collect(redis_url)  # every stream key, found with SCAN
    depths = {d.destination: d.messages for d in snapshot.dead_letters}
    assert depths[name + ".dlq"] == 3
    assert name in {r.destination for r in snapshot.lag}

    client.xgroup_create(name + ".dlq", "auditor", id="0")
    (entry_id, _), *_ = client.xreadgroup("auditor", "a", {name + ".dlq": ">"}, count=1)[0][1]
    client.xack(name + ".dlq", "auditor", entry_id)
    snapshot = _collect(redis_url, dead_letters=[name + ".dlq"], streams=[name, name + ".dlq"])
    assert [(d.destination, d.messages) for d in snapshot.dead_letters] == [(name + ".dlq", 2)]
    assert {r.group for r in snapshot.lag} == {"billing"}  # the DLQ's group is not lag


def test_an_unreachable_server_is_a_collector_error() -> None:
    with pytest.raises(CollectorError, match=r"cannot reach Redis at 127\.0\.0\.1:1"):
        _collect("redis://127.0.0.1:1/0", timeout=1)


def test_a_server_that_never_answers_is_a_collector_error_after_the_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never speaks
        port = silent.getsockname()[1]
        with pytest.raises(CollectorError, match="did not answer in time"):
            _collect(f"redis://127.0.0.1:{port}/0", timeout=0.5)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "http://x"}, "expected redis://"),
        ({"url": "redis://host:port/0"}, "url 'redis://host:port/0'"),
        ({"partitions": 3}, "unknown redis option 'partitions'"),
        ({"streams": 5}, "streams: expected a list of names"),
        ({"timeout": "x"}, "timeout: expected seconds"),
    ],
)
def test_bad_options_are_usage_errors(options: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        from_options(options)
