"""orders-service's side of its consumers' contracts.

The functions below run the real producer, ``OrderSystem.place_order`` with its
``@producer`` decorator, on the bus the verification hands them; what it publishes,
headers included, is checked against every pact in pacts/ for orders-service.  The
plugin adds one test item per interaction: ``pacts/billing-orders-service.json::an order
placed event::provider`` and so on.
"""

import random

from eventscope.contracts import provider_state, provides
from eventscope.demo.transports.memory import MemoryTransport
from eventscope.example import OrderSystem, make_order


@provider_state("an order is ready to be placed")
def an_order_ready_to_be_placed(params):
    order = make_order(1, random.Random(7))
    order["order_id"] = params["order_id"]
    return order


@provides("an order placed event")
def order_placed(bus, given):
    system = OrderSystem(MemoryTransport(bus), work=False)
    system.place_order(given["an order is ready to be placed"])
