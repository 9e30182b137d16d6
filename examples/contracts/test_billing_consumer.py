"""billing's contract with orders-service: the order placed event it can charge."""

import pytest
from pact import match

from eventscope import InMemoryBus
from eventscope.demo.transports.memory import MemoryTransport
from eventscope.example import OrderSystem

pytestmark = pytest.mark.eventscope_pact(consumer="billing", provider="orders-service")

ORDER_PLACED = {
    "order_id": match.regex("o-000001", regex=r"^o-[0-9]{6}$"),
    "customer_id": match.str("c-0042"),
    "sku": match.str("book"),
    "quantity": match.int(2),
    "amount_cents": match.int(1998),
    "currency": match.regex("EUR", regex=r"^[A-Z]{3}$"),
}


def test_billing_charges_a_placed_order(message_pact):
    system = OrderSystem(MemoryTransport(InMemoryBus()), work=False, gateway_failure_rate=0.0)
    placed = message_pact.expect(
        "an order placed event",
        destination="orders",
        given={"an order is ready to be placed": {"order_id": "o-000001"}},
        body=ORDER_PLACED,
    )

    placed.deliver(system.bill)

    assert system.charged == {"o-000001"}
