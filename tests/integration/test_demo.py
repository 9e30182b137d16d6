"""``eventscope demo --broker <broker>``: the example system on each real broker.

One test, one parameter per broker, each carrying its broker's marker (``-m nats``
selects the NATS run).  Each parameter asks for its own broker's fixture only when it
runs, so the NATS run starts no Tansu.  After the invariants, each broker is checked
for what the demo must have removed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import nats
import pytest
import redis
from confluent_kafka.admin import AdminClient

from eventscope.demo import DemoOptions, DemoResult, run_demo
from eventscope.demo.transports.nats import stream_name
from eventscope.demo.transports.redis import LIVE, MARKER
from tests.integration.rabbitmq.conftest import URL, management_get

Connect = Callable[[pytest.FixtureRequest], dict[str, str]]


def _kafka(request: pytest.FixtureRequest) -> dict[str, str]:
    return {"bootstrap": request.getfixturevalue("bootstrap")}


def _rabbitmq(request: pytest.FixtureRequest) -> dict[str, str]:
    return {"url": URL}


def _nats(request: pytest.FixtureRequest) -> dict[str, str]:
    return {"url": request.getfixturevalue("nats_url")}


def _redis(request: pytest.FixtureRequest) -> dict[str, str]:
    return {"url": request.getfixturevalue("redis_url")}


def _no_demo_topic(connection: dict[str, str], result: DemoResult) -> None:
    """On a given cluster the demo deletes its own topics (``orders-<run id>``...)."""
    admin = AdminClient({"bootstrap.servers": connection["bootstrap"]})
    topics = admin.list_topics(timeout=10).topics
    assert result.destination.startswith("orders-")
    assert result.destination not in topics and f"{result.destination}.dlq" not in topics


def _no_demo_vhost(connection: dict[str, str], result: DemoResult) -> None:
    """The run's own virtual host is gone (other runs may hold theirs meanwhile)."""
    vhosts = [v["name"] for v in management_get("/api/vhosts")]
    assert result.virtual_host is not None and result.virtual_host.startswith("eventscope-demo-")
    assert result.virtual_host not in vhosts


def _no_demo_stream(connection: dict[str, str], result: DemoResult) -> None:
    async def stream_names() -> list[str]:
        nc = await nats.connect(connection["url"])
        try:
            return [s.config.name for s in await nc.jetstream().streams_info()]
        finally:
            await nc.close()

    assert stream_name(result.destination) not in asyncio.run(stream_names())


def _no_demo_keys(connection: dict[str, str], result: DemoResult) -> None:
    client = redis.Redis.from_url(connection["url"], decode_responses=True)
    try:
        topic = result.destination
        assert not client.exists(topic, f"{topic}.dlq", MARKER + topic, LIVE + topic)
    finally:
        client.close()


BROKERS = [
    pytest.param("kafka", _kafka, _no_demo_topic, marks=pytest.mark.kafka, id="kafka"),
    pytest.param("rabbitmq", _rabbitmq, _no_demo_vhost, marks=pytest.mark.rabbitmq, id="rabbitmq"),
    pytest.param("nats", _nats, _no_demo_stream, marks=pytest.mark.nats, id="nats"),
    pytest.param("redis", _redis, _no_demo_keys, marks=pytest.mark.redis, id="redis"),
]


@pytest.mark.parametrize(("broker", "connect", "assert_removed"), BROKERS)
def test_the_demo_holds_its_invariants_and_leaves_nothing_behind(
    broker: str,
    connect: Connect,
    assert_removed: Callable[[dict[str, str], DemoResult], None],
    request: pytest.FixtureRequest,
) -> None:
    connection = connect(request)
    result = run_demo(
        DemoOptions(
            broker=broker,
            connection=connection,
            messages=120,
            rate=2000,
            poison_rate=0.05,
            duplicate_rate=0.05,
            metrics_port=None,
        ),
        live=None,
    )
    assert result.drained and result.invariants_hold
    assert result.published == 120 and result.traced == 120
    assert result.dead_lettered > 0 and result.duplicates > 0
    assert result.retried >= 2 * result.dead_lettered  # three attempts each
    assert result.lag == 0 and all(g["lag"] == 0 for g in result.groups.values())
    # Each group dead-letters a poison order once; billing may also give up on a good
    # order after three gateway timeouts in a row, which shipping then handles.
    assert result.dead_lettered <= result.dlq_depth <= 2 * result.dead_lettered
    assert_removed(connection, result)
