"""NatsInstrumentor against a real NATS server with JetStream: nats-py's own
connections, traced and settling, until ``uninstrument()``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from eventscope import catalog
from eventscope.catalog import Attr, prometheus_label
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import nats as instrumented
from eventscope.instrumentation.brokers.nats_instrumentor import NatsInstrumentor
from tests.conftest import Recorded

pytestmark = pytest.mark.nats

GROUP = prometheus_label(Attr.CONSUMER_GROUP)
OUTCOME = prometheus_label(Attr.OUTCOME)
ORIGINAL_PUBLISH = Client.publish


def _outcomes(recorded: Recorded, outcome: str, group: str) -> float:
    return recorded.value(catalog.PROCESS_OUTCOMES.series(), **{OUTCOME: outcome, GROUP: group})


async def _until(done, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not done():
            await asyncio.sleep(0.02)


@pytest.fixture
def instrumentor() -> Iterator[NatsInstrumentor]:
    instrumentor = NatsInstrumentor()
    instrumentor.instrument(max_attempts=3)
    try:
        yield instrumentor
    finally:
        instrumentor.uninstrument()


@pytest.fixture
async def stream(nc, name: str) -> AsyncIterator[str]:
    js = nc.jetstream()
    await js.add_stream(name=name, subjects=[name, name + ".dlq"])
    yield name
    await js.delete_stream(name)


async def test_a_jetstream_push_consumer_is_traced_retried_and_dead_lettered(
    recorded: Recorded, instrumentor: NatsInstrumentor, nc, stream: str
) -> None:
    js = nc.jetstream()  # nats-py's own objects
    attempts: list[int] = []

    async def bill(msg: Msg, ctx) -> None:  # an ordinary callback
        attempts.append(ctx.attempt)
        raise ValueError("card declined")

    await js.subscribe(stream, durable="billing", cb=bill)
    await js.publish(stream, b"poison")
    await _until(lambda: _outcomes(recorded, "dead_letter", "billing") == 1)

    assert attempts == [1, 2, 3]
    assert _outcomes(recorded, "retry", "billing") == 2
    (sent,) = recorded.spans(f"send {stream}")  # acks and the dead-letter copy: no sends
    assert recorded.spans(f"send {stream}.dlq") == []
    assert all(not s.name.startswith("send $") for s in recorded.spans())
    for span in recorded.spans(f"process {stream}"):
        assert span.parent.span_id == sent.context.span_id
    dead = await js.get_last_msg(stream, stream + ".dlq")
    assert dead.headers[h.TRACEPARENT].split("-")[1] == f"{sent.context.trace_id:032x}"
    assert dead.headers[h.ORIGINAL_DESTINATION] == stream


async def test_core_requests_are_traced_and_replies_to_inboxes_are_not(
    recorded: Recorded, instrumentor: NatsInstrumentor, nc, name: str
) -> None:
    async def answer(msg: Msg) -> None:
        await msg.respond(b"pong")  # a publish to the requester's _INBOX

    await nc.subscribe(name, queue="pingers", cb=answer)
    reply = await nc.request(name, b"ping", timeout=5)
    assert reply.data == b"pong"
    await _until(lambda: _outcomes(recorded, "ok", "pingers") == 1)
    (sent,) = recorded.spans(f"send {name}")
    (process,) = recorded.spans(f"process {name}")
    assert process.parent.span_id == sent.context.span_id
    assert [s.name for s in recorded.spans() if s.name.startswith("send")] == [f"send {name}"]


async def test_a_connection_or_callback_instrumented_by_hand_is_traced_once(
    recorded: Recorded, instrumentor: NatsInstrumentor, nc, name: str
) -> None:
    handled: list[Msg] = []

    @instrumented.consumer("mailer")
    async def mail(msg: Msg) -> None:
        handled.append(msg)

    await nc.subscribe(name, cb=mail)
    await instrumented.instrument(nc).publish(name, b"welcome")
    await _until(lambda: len(handled) == 1)
    (sent,) = recorded.spans(f"send {name}")
    (process,) = recorded.spans(f"process {name}")
    assert handled[0].headers[h.TRACEPARENT].split("-")[2] == f"{sent.context.span_id:016x}"
    assert process.attributes[Attr.CONSUMER_GROUP] == "mailer"


async def test_uninstrument_gives_nats_py_its_own_methods_back(
    recorded: Recorded, nats_url: str, name: str
) -> None:
    instrumentor = NatsInstrumentor()
    instrumentor.instrument()
    instrumentor.instrument()  # twice is harmless
    instrumentor.uninstrument()
    assert Client.publish is ORIGINAL_PUBLISH and not instrumentor.is_instrumented
    nc = await nats.connect(nats_url)
    try:
        received: list[Msg] = []

        async def collect(msg: Msg) -> None:
            received.append(msg)

        await nc.subscribe(name, cb=collect)
        await nc.publish(name, b"plain")
        await _until(lambda: len(received) == 1)
    finally:
        await nc.close()
    assert received[0].headers is None
    assert recorded.spans() == []
