"""Verifying producers written against a client library, not eventscope's transports.

The provider's real publishing code runs with its client's sending object replaced by
a capturing one, wrapped in eventscope's instrumentation as in production; what it sends
(body and the trace headers the instrumentation adds) is verified against the pact.
"""

from __future__ import annotations

import json
import random

import aio_pika
import pika
import pytest

from eventscope.contracts import MessagePact, ProviderRegistry, verify_provider
from eventscope.contracts.client_capture import capture_channel, capture_exchange, capture_producer
from eventscope.example import make_order
from eventscope.instrumentation.brokers import aio_pika as aio_pika_integration
from eventscope.instrumentation.brokers import kafka as kafka_integration
from eventscope.instrumentation.brokers import rabbitmq as pika_integration
from tests.contracts.test_provider import ORDER, PLACED, STATE


@pytest.fixture(scope="module")
def pacts(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pacts")
    pact = MessagePact("billing", "orders-service", pacts=directory)
    pact.expect(
        PLACED, destination="orders", body=ORDER, given={STATE: {"order_id": "o-000001"}}
    ).deliver(lambda message: None)
    return directory


def _order(params) -> dict:
    order = make_order(1, random.Random(7))
    order["order_id"] = params["order_id"]
    return order


def _verify(pacts, provides) -> object:
    registry = ProviderRegistry()
    registry.provider_state(STATE)(_order)
    registry.provides(PLACED)(provides)
    (outcome,) = verify_provider("orders-service", [pacts], registry=registry).outcomes
    return outcome


def test_an_aio_pika_producer(pacts) -> None:
    async def place_order(exchange, order: dict) -> None:  # the service's own code
        message = aio_pika.Message(json.dumps(order).encode(), content_type="application/json")
        await exchange.publish(message, routing_key="")

    async def order_placed(capture, given):
        exchange = aio_pika_integration.instrument_exchange(capture_exchange(capture, "orders"))
        await place_order(exchange, given[STATE])

    outcome = _verify(pacts, order_placed)
    assert outcome.passed, outcome.mismatches or outcome.problem
    assert "traceparent" in outcome.sent.headers


def test_a_pika_producer(pacts) -> None:
    def place_order(channel, order: dict) -> None:
        properties = pika.BasicProperties(content_type="application/json")
        channel.basic_publish("orders", "", json.dumps(order).encode(), properties)

    def order_placed(capture, given):
        channel = pika_integration.instrument_channel(capture_channel(capture))
        place_order(channel, given[STATE])

    outcome = _verify(pacts, order_placed)
    assert outcome.passed, outcome.mismatches or outcome.problem
    assert "traceparent" in outcome.sent.headers


def test_a_confluent_kafka_producer(pacts) -> None:
    def place_order(producer, order: dict) -> None:
        producer.produce("orders", json.dumps(order).encode(), key=order["order_id"])
        producer.flush()

    def order_placed(capture, given):
        place_order(kafka_integration.instrument_producer(capture_producer(capture)), given[STATE])

    outcome = _verify(pacts, order_placed)
    assert outcome.passed, outcome.mismatches or outcome.problem
    assert "traceparent" in outcome.sent.headers
    assert outcome.sent.key == "o-000001"


def test_a_producer_that_drops_the_trace_headers_fails(pacts) -> None:
    async def order_placed(capture, given):  # the exchange is not instrumented
        message = aio_pika.Message(json.dumps(given[STATE]).encode())
        await capture_exchange(capture, "orders").publish(message, routing_key="")

    outcome = _verify(pacts, order_placed)
    assert not outcome.passed
    assert "'traceparent'" in {m.where for m in outcome.mismatches}
