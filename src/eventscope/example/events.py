"""The ``order placed`` event."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

SKUS = ("book", "lamp", "chair", "kettle", "desk", "plant")


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    sku: str
    quantity: int
    amount_cents: int
    currency: str = "EUR"

    def to_payload(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Order:
        """Parse and validate; a malformed payload raises, every time (a poison message)."""
        order = cls(**payload)
        if order.quantity <= 0 or order.amount_cents <= 0:
            raise ValueError(f"order {order.order_id} has a non-positive quantity or amount")
        return order


def make_order(number: int, rng: random.Random, *, poison: bool = False) -> dict[str, Any]:
    """The payload of order ``number``; a poison order fails validation for good."""
    quantity = rng.randint(1, 4)
    order = Order(
        order_id=f"o-{number:06d}",
        customer_id=f"c-{rng.randint(1, 250):04d}",
        sku=rng.choice(SKUS),
        quantity=-quantity if poison else quantity,
        amount_cents=quantity * rng.randint(500, 9_000),
    )
    return order.to_payload()
