"""shipping's contract with orders-service: it ships without caring about the currency."""

import pytest
from pact import match

from eventscope import InMemoryBus
from eventscope.demo.transports.memory import MemoryTransport
from eventscope.example import OrderSystem

pytestmark = pytest.mark.eventscope_pact(consumer="shipping", provider="orders-service")

ORDER_PLACED = {
    "order_id": match.regex("o-000001", regex=r"^o-[0-9]{6}$"),
    "customer_id": match.str("c-0042"),
    "sku": match.str("book"),
    "quantity": match.int(2),
    "amount_cents": match.int(1998),
}


def test_shipping_ships_a_placed_order(message_pact):
    system = OrderSystem(MemoryTransport(InMemoryBus()), work=False)
    placed = message_pact.expect(
        "an order placed event",
        destination="orders",
        given={"an order is ready to be placed": {"order_id": "o-000001"}},
        body=ORDER_PLACED,
    )

    placed.deliver(system.ship)

    assert system.shipped == {"o-000001"}
