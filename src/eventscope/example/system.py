"""Wiring: one ``orders`` topic, two consumer groups, retries and a dead-letter topic.

Billing calls a (simulated) payment gateway that now and then times out: those
orders are retried and go through.  Poison orders fail validation in both groups,
are retried up to ``MAX_ATTEMPTS`` times and end in the dead-letter destination.
Both consumers deduplicate by event id, so an order the publisher sent twice is
recorded as a duplicate instead of being charged or shipped twice: in each instance's
memory by default, or in a store all instances of a group share
(``deduplicate=RedisDedupStore(...)``, with ``instances`` consumer instances per group).

The system runs on any transport with the members of :class:`OrderTransport` (each
``eventscope demo`` transport has them: the in-memory bus or a real broker): it only
publishes, subscribes and decodes through it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

from eventscope.example.events import Order
from eventscope.example.transport import OrderTransport
from eventscope.instrumentation import DedupStore, consumer, producer

TOPIC = "orders"
MAX_ATTEMPTS = 3
BILLING = "billing"
SHIPPING = "shipping"
GROUPS = (BILLING, SHIPPING)


class GatewayTimeout(Exception):
    """The payment gateway did not answer in time (transient)."""


class OrderSystem:
    """The example application."""

    def __init__(
        self,
        transport: OrderTransport,
        *,
        gateway_failure_rate: float = 0.03,
        work: bool = True,
        seed: int = 7,
        topic: str = TOPIC,
        deduplicate: int | DedupStore = 100_000,
        instances: int = 1,
        extra_work_ms: Callable[[str], float] | None = None,
    ) -> None:
        self.transport = transport
        self.topic = topic
        self.gateway_failure_rate = gateway_failure_rate
        self.work = work
        self.extra_work_ms = extra_work_ms
        self._random = random.Random(seed)
        self._random_lock = threading.Lock()
        self.charged: set[str] = set()
        self.shipped: set[str] = set()
        # The producer's system is the transport's, known only now.
        self.place_order = producer(topic, system=transport.system)(self._send)
        members = [self._instance(deduplicate) for _ in range(instances)]
        self.bill, self.ship = members[0]
        transport.declare(topic, GROUPS)
        for bill, ship in members:
            transport.subscribe(topic, BILLING, bill, max_attempts=MAX_ATTEMPTS)
            transport.subscribe(topic, SHIPPING, ship, max_attempts=MAX_ATTEMPTS)

    def _instance(self, deduplicate: int | DedupStore) -> tuple[Any, Any]:
        """One instance of each consumer group, as a separate process would run it: its
        own handlers, so its own memory of event ids unless ``deduplicate`` is a store
        that every instance shares."""
        bill = consumer(group=BILLING, max_attempts=MAX_ATTEMPTS, deduplicate=deduplicate)
        ship = consumer(group=SHIPPING, max_attempts=MAX_ATTEMPTS, deduplicate=deduplicate)
        return bill(self._bill), ship(self._ship)

    def _chance(self) -> float:
        with self._random_lock:
            return self._random.random()

    def _work(self, group: str, low_ms: float, high_ms: float) -> None:
        """Simulated work; ``extra_work_ms(group)`` adds to it (a dependency turned slow)."""
        extra = self.extra_work_ms(group) if self.extra_work_ms is not None else 0.0
        if self.work or extra:
            usual = low_ms + (high_ms - low_ms) * self._chance() if self.work else 0.0
            time.sleep((usual + extra) / 1000)

    def _send(self, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self.transport.publish(
            self.topic, payload, key=payload.get("customer_id"), headers=headers or {}
        )

    def _bill(self, message: Any) -> None:
        order = Order.from_payload(self.transport.decode(message))
        self._work(BILLING, 0.5, 3.0)
        if self._chance() < self.gateway_failure_rate:
            raise GatewayTimeout(f"payment gateway timed out for {order.order_id}")
        self.charged.add(order.order_id)

    def _ship(self, message: Any) -> None:
        order = Order.from_payload(self.transport.decode(message))
        self._work(SHIPPING, 0.2, 1.0)
        self.shipped.add(order.order_id)
