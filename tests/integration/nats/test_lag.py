"""The JetStream lag collector against a real NATS server."""

from __future__ import annotations

import asyncio
import socket

import pytest
from nats.js.api import AckPolicy, ConsumerConfig

from eventscope.errors import UsageError
from eventscope.lag.collector import CollectorError
from eventscope.lag.nats import from_options

pytestmark = pytest.mark.nats


async def _setup(nc, name: str, published: int, groups: tuple[str, ...] = ("billing",)):
    js = nc.jetstream()
    await js.add_stream(name=name, subjects=[name, name + ".dlq"])
    for group in groups:
        await js.add_consumer(
            name,
            ConsumerConfig(durable_name=group, filter_subject=name, ack_policy=AckPolicy.EXPLICIT),
        )
    for i in range(published):
        await js.publish(name, str(i).encode())
    return js


async def _collect(nats_url: str, **options):
    collector = from_options({"url": nats_url, **options})
    try:
        return await asyncio.to_thread(collector.collect)  # a blocking call, like the exporter's
    finally:
        collector.close()


async def test_lag_is_published_minus_acknowledged_per_durable_consumer(
    nc, nats_url: str, name: str
) -> None:
    js = await _setup(nc, name, 10, groups=("billing", "shipping"))
    pull = await js.pull_subscribe_bind("billing", name)
    for msg in await pull.fetch(4, timeout=5):  # consume M = 4
        await msg.ack_sync()
    await pull.fetch(2, timeout=5)  # delivered, not acknowledged

    snapshot = await _collect(nats_url, groups=["billing", "shipping"])
    readings = {r.group: r for r in snapshot.lag}
    billing, shipping = readings["billing"], readings["shipping"]
    assert (billing.destination, billing.messages, billing.pending) == (name, 4, 2)
    assert billing.position == 4  # the ack floor's stream sequence
    assert (shipping.messages, shipping.pending, shipping.position) == (10, 0, 0)
    assert billing.seconds is not None and billing.seconds >= 0
    await js.delete_stream(name)


async def test_lag_seconds_grow_while_stopped_and_fall_after_catching_up(
    nc, nats_url: str, name: str
) -> None:
    js = await _setup(nc, name, 3)
    (first,) = (await _collect(nats_url, groups=["billing"])).lag
    await asyncio.sleep(0.3)
    (later,) = (await _collect(nats_url, groups=["billing"])).lag
    assert first.seconds is not None and later.seconds is not None
    assert later.seconds >= first.seconds + 0.25

    pull = await js.pull_subscribe_bind("billing", name)
    for msg in await pull.fetch(3, timeout=5):
        await msg.ack_sync()
    (caught_up,) = (await _collect(nats_url, groups=["billing"])).lag
    assert (caught_up.messages, caught_up.pending, caught_up.seconds) == (0, 0, 0.0)
    await js.delete_stream(name)


async def test_dead_letter_depth_counts_the_dlq_subject(nc, nats_url: str, name: str) -> None:
    js = await _setup(nc, name, 1)
    for i in range(3):
        await js.publish(name + ".dlq", str(i).encode())
    snapshot = await _collect(nats_url)
    depths = {d.destination: d.messages for d in snapshot.dead_letters}
    assert depths[name + ".dlq"] == 3
    assert name + ".dlq" not in {r.destination for r in snapshot.lag}

    # Once a durable consumer reads the DLQ, depth is what it has left to consume.
    await js.add_consumer(
        name, ConsumerConfig(durable_name="auditor", filter_subject=name + ".dlq")
    )
    pull = await js.pull_subscribe_bind("auditor", name)
    await (await pull.fetch(1, timeout=5))[0].ack_sync()
    snapshot = await _collect(nats_url, dead_letters=[name + ".dlq"])
    assert [(d.destination, d.messages) for d in snapshot.dead_letters] == [(name + ".dlq", 2)]
    await js.delete_stream(name)


def test_an_unreachable_server_is_a_collector_error() -> None:
    collector = from_options({"url": "nats://127.0.0.1:1", "timeout": 1})
    with pytest.raises(CollectorError, match=r"cannot connect to NATS at nats://127\.0\.0\.1:1"):
        collector.collect()
    collector.close()


def test_a_server_that_never_answers_is_a_collector_error_after_the_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never speaks
        port = silent.getsockname()[1]
        collector = from_options({"url": f"nats://127.0.0.1:{port}", "timeout": 0.5})
        with pytest.raises(CollectorError, match="NATS"):
            collector.collect()
        collector.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"url": "http://x"}, "expected nats://"),
        ({"vhost": "/"}, "unknown nats option 'vhost'"),
        ({"dead_letters": {"a": 1}}, "dead_letters: expected a list of names"),
        ({"timeout": -1}, "timeout: expected a positive number"),
    ],
)
def test_bad_options_are_usage_errors(options: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        from_options(options)
