"""The provider side: the real producer is verified, and every way to break it reads clearly."""

from __future__ import annotations

import random
import re

import pytest
from pact import match

from eventscope.contracts import EVENT_ID_PATTERN, MessagePact, ProviderRegistry, verify_provider
from eventscope.contracts.report import describe_outcome
from eventscope.demo.transports.memory import MemoryTransport
from eventscope.example import OrderSystem, make_order

STATE = "an order is ready to be placed"
PLACED = "an order placed event"
ORDER = {
    "order_id": match.regex("o-000001", regex=r"^o-[0-9]{6}$"),
    "customer_id": match.str("c-0042"),
    "sku": match.str("book"),
    "quantity": match.int(2),
    "amount_cents": match.int(1998),
}


class RenamingTransport(MemoryTransport):
    """A transport whose publish renames a header: a producer change consumers feel."""

    def __init__(self, bus, old: str, new: str) -> None:
        super().__init__(bus)
        self.old, self.new = old, new

    def publish(self, topic, payload, *, key, headers):
        headers[self.new] = headers.pop(self.old)
        super().publish(topic, payload, key=key, headers=headers)


@pytest.fixture(scope="module")
def pacts(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pacts")
    pact = MessagePact("billing", "orders-service", pacts=directory)
    expected = pact.expect(
        PLACED, destination="orders", body=ORDER, given={STATE: {"order_id": "o-000001"}}
    )
    expected.deliver(lambda message: None)
    return directory


def registry_with(place, *, state: bool = True) -> ProviderRegistry:
    """A provider whose ``@provides(PLACED)`` calls ``place(bus, order)``."""
    registry = ProviderRegistry()
    if state:

        @registry.provider_state(STATE)
        def order_ready(params):
            order = make_order(1, random.Random(7))
            order["order_id"] = params["order_id"]
            return order

    @registry.provides(PLACED)
    def order_placed(bus, given):
        place(bus, given.get(STATE) or make_order(1, random.Random(7)))

    return registry


def place_order(bus, order) -> None:
    OrderSystem(MemoryTransport(bus), work=False).place_order(order)


def verify(pacts, registry):
    run = verify_provider(
        "orders-service", [pacts], registry=registry, destinations={PLACED: "orders"}
    )
    (outcome,) = run.outcomes
    return outcome, describe_outcome(outcome, "orders-service", "pacts/billing-orders-service.json")


def test_the_real_producer_passes_with_the_headers_it_really_sends(pacts):
    outcome, _ = verify(pacts, registry_with(place_order))
    assert outcome.passed, outcome.mismatches
    assert outcome.sent.destination == "orders"
    assert outcome.sent.body["order_id"] == "o-000001"
    assert {"traceparent", "eventscope-event-id", "eventscope-published-at"} <= set(
        outcome.sent.headers
    )


def test_a_field_of_another_type_fails_naming_the_field(pacts):
    def place(bus, order):
        place_order(bus, {**order, "quantity": str(order["quantity"])})

    outcome, text = verify(pacts, registry_with(place))
    assert not outcome.passed
    assert "billing expects 'an order placed event' given 'an order is ready to be placed'" in text
    assert "body $.quantity: Expected '3' (String) to be an integer" in text
    assert "contract example: 2" in text
    assert 'actual:           "3"' in text


def test_a_removed_field_fails_naming_the_field(pacts):
    def place(bus, order):
        place_order(bus, {k: v for k, v in order.items() if k != "sku"})

    _, text = verify(pacts, registry_with(place))
    assert "body $: Actual map is missing the following keys: sku" in text


def test_a_renamed_header_fails_naming_the_header(pacts):
    def place(bus, order):
        system = OrderSystem(RenamingTransport(bus, "traceparent", "trace-parent"), work=False)
        system.place_order(order)

    _, text = verify(pacts, registry_with(place))
    assert "metadata 'traceparent': Expected message metadata 'traceparent' but was missing" in text
    assert '"trace-parent": "00-' in text  # the message as sent is shown


def test_a_header_of_the_wrong_shape_fails_with_the_pattern(pacts):
    def place(bus, order):
        bus.publish("orders", order, headers={"traceparent": "not-a-traceparent"})

    _, text = verify(pacts, registry_with(place))
    assert "metadata 'traceparent': Expected 'not-a-traceparent' to match" in text
    assert "metadata 'eventscope-event-id': Expected message metadata" in text


def test_provider_code_that_raises_is_reported_as_its_exception(pacts):
    def place(bus, order):
        raise ConnectionError("payment gateway unreachable")

    outcome, text = verify(pacts, registry_with(place))
    assert outcome.mismatches == ()
    assert "the provider's code failed:" in text
    assert "raised ConnectionError: payment gateway unreachable" in text
    assert f"{__file__}" in text  # the traceback points at the provider's code


def test_a_message_sent_elsewhere_and_a_state_nobody_set_up_are_named(pacts):
    def place(bus, order):
        bus.publish("invoices", order)

    _, text = verify(pacts, registry_with(place))
    assert "sent no message to 'orders' (it sent to: invoices)" in text

    _, text = verify(pacts, registry_with(place_order, state=False))
    assert (
        "no @provider_state('an order is ready to be placed') for provider 'orders-service'" in text
    )


def test_a_generator_state_is_torn_down_after_the_interaction(pacts):
    events = []
    registry = ProviderRegistry()

    @registry.provider_state(STATE)
    def order_ready(params, bus):
        events.append("setup")
        yield {**make_order(1, random.Random(7)), "order_id": params["order_id"]}
        events.append("teardown")

    @registry.provides(PLACED)
    def order_placed(bus, given):
        events.append("produce")
        place_order(bus, given[STATE])

    outcome, _ = verify(pacts, registry)
    assert outcome.passed
    assert events == ["setup", "produce", "teardown"]


def test_registrations_are_checked_when_decorating():
    registry = ProviderRegistry()
    with pytest.raises(
        TypeError, match="asks for 'order'; it can take: bus, capture, params, given"
    ):

        @registry.provides(PLACED)
        def wrong(order):
            pass

    @registry.provides(PLACED)
    def first(bus):
        pass

    with pytest.raises(ValueError, match="registered twice"):

        @registry.provides(PLACED)
        def second(bus):
            pass


def test_the_capture_reads_any_header_shape_the_producer_fills():
    from eventscope import producer
    from eventscope.contracts import MessageCapture

    capture = MessageCapture()

    @producer("orders", system="kafka")
    def send(order, headers=None):  # a Kafka client's header list, filled by @producer
        capture.send("orders", order, headers=headers, key=order["customer_id"])

    send({"customer_id": "c-1"}, [("x-tenant", b"acme")])
    capture.bus.publish("orders", {"customer_id": "c-2"}, headers={"x-tenant": "beta"})

    kafka, memory = capture.messages()
    assert kafka.headers["x-tenant"] == "acme"
    assert re.fullmatch(EVENT_ID_PATTERN, kafka.headers["eventscope-event-id"])
    assert (kafka.key, kafka.contents()) == ("c-1", b'{"customer_id": "c-1"}')
    assert (memory.destination, memory.headers) == ("orders", {"x-tenant": "beta"})
    assert memory.metadata() == {"x-tenant": "beta", "destination": "orders"}
