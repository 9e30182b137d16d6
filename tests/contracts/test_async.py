"""Contracts for async code: ``async def`` providers and states, and an async deliver.

aio-pika and aiokafka teams write coroutines; an ``async def`` under ``@provides`` must
be awaited (not reported as "sent no message" with a "never awaited" warning), an async
generator state must be torn down after its ``yield``, and an async test must be able to
deliver to an async handler on its own running loop.
"""

from __future__ import annotations

import asyncio
import json
import random
import warnings

import pytest

from eventscope import producer
from eventscope.contracts import ContractError, MessagePact, ProviderRegistry, verify_provider
from eventscope.example import make_order
from tests.contracts.test_provider import ORDER, PLACED, STATE


@pytest.fixture(scope="module")
def pacts(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pacts")
    pact = MessagePact("billing", "orders-service", pacts=directory)
    pact.expect(
        PLACED, destination="orders", body=ORDER, given={STATE: {"order_id": "o-000001"}}
    ).deliver(lambda message: None)
    return directory


class AsyncConnection:
    """What an async client's connection looks like to a provider: loop-bound."""

    def __init__(self, capture) -> None:
        self.capture = capture
        self.loop = asyncio.get_running_loop()
        self.closed = False

    async def publish(self, destination: str, body: bytes, headers: dict) -> None:
        assert asyncio.get_running_loop() is self.loop, "used from another event loop"
        await asyncio.sleep(0)
        self.capture.send(destination, json.loads(body), headers=headers)


def async_registry(events: list[str]) -> ProviderRegistry:
    registry = ProviderRegistry()

    @registry.provider_state(STATE)
    async def order_ready(params, capture):
        connection = AsyncConnection(capture)
        events.append("set up")
        order = make_order(1, random.Random(7))
        order["order_id"] = params["order_id"]
        yield {"order": order, "connection": connection}
        connection.closed = True
        events.append("torn down")

    @producer("orders", system="rabbitmq")
    async def publish(connection, order: dict, headers: dict | None = None) -> None:
        await connection.publish("orders", json.dumps(order).encode(), headers)

    @registry.provides(PLACED)
    async def order_placed(given):
        ready = given[STATE]
        await publish(ready["connection"], ready["order"])
        events.append("published")

    return registry


def _verify(pacts, registry):
    run = verify_provider("orders-service", [pacts], registry=registry)
    (outcome,) = run.outcomes
    return outcome


def test_an_async_provider_and_async_generator_state_are_awaited_and_torn_down(pacts):
    events: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # "coroutine ... was never awaited"
        outcome = _verify(pacts, async_registry(events))
    assert outcome.passed, outcome.mismatches or outcome.problem
    assert outcome.sent.body["order_id"] == "o-000001"
    assert "traceparent" in outcome.sent.headers
    assert events == ["set up", "published", "torn down"]


async def test_verification_works_from_inside_an_async_test(pacts):
    events: list[str] = []
    outcome = _verify(pacts, async_registry(events))
    assert outcome.passed, outcome.mismatches or outcome.problem
    assert events == ["set up", "published", "torn down"]


def test_an_async_provider_that_raises_is_reported_as_its_exception(pacts):
    registry = ProviderRegistry()

    @registry.provider_state(STATE)
    async def order_ready(params):
        return params

    @registry.provides(PLACED)
    async def order_placed(bus):
        await asyncio.sleep(0)
        raise ConnectionError("broker closed the channel")

    outcome = _verify(pacts, registry)
    assert not outcome.passed
    assert "raised ConnectionError: broker closed the channel" in outcome.problem


async def test_deliver_async_awaits_the_handler_on_the_tests_own_loop(tmp_path):
    loop = asyncio.get_running_loop()
    seen = []

    async def handle(message):
        assert asyncio.get_running_loop() is loop
        seen.append(message.value["order_id"])
        return "ok"

    pact = MessagePact("billing", "orders-service", pacts=tmp_path)
    expected = pact.expect(PLACED, destination="orders", body=ORDER)
    assert await expected.deliver_async(handle) == "ok"
    assert seen == ["o-000001"]
    assert (tmp_path / "billing-orders-service.json").is_file()


async def test_deliver_of_a_coroutine_inside_a_running_loop_says_what_to_write(tmp_path):
    async def handle(message):
        return None

    pact = MessagePact("billing", "orders-service", pacts=tmp_path)
    expected = pact.expect(PLACED, destination="orders", body=ORDER)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ContractError, match=r"await expected\.deliver_async\(handler\)"):
            expected.deliver(handle)
    assert not (tmp_path / "billing-orders-service.json").exists()
