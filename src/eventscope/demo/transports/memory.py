"""The demo on the in-memory bus."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from eventscope.catalog import MEMORY
from eventscope.lag.readings import ConsumerReading, DepthReading, LagReading
from eventscope.memory_bus import InMemoryBus, Message


class MemoryTransport:
    system = MEMORY.name
    virtual_host = None

    def __init__(self, bus: InMemoryBus) -> None:
        self.bus = bus

    def reserve(self, topic: str) -> str:
        """The bus belongs to this run."""
        return topic

    def declare(self, topic: str, groups: Sequence[str]) -> None:
        self.bus.create_topic(topic)

    def publish(
        self, topic: str, payload: dict, *, key: str | None, headers: dict[str, str]
    ) -> None:
        self.bus.publish(topic, payload, key=key, headers=headers)

    def subscribe(
        self, topic: str, group: str, handler: Callable[[Any], Any], *, max_attempts: int
    ) -> None:
        self.bus.subscribe(topic, group, handler, max_attempts=max_attempts)

    def decode(self, message: Message) -> dict:
        return message.value

    def start(self) -> None:
        self.bus.start()

    def drain(self, timeout: float) -> bool:
        return self.bus.drain(timeout)

    def stop(self) -> None:
        self.bus.stop()

    def lag(self, group: str, topic: str) -> int:
        return self.bus.lag(group, topic)

    def lag_readings(self) -> Iterable[LagReading]:
        return self.bus.lag_readings()

    def consumer_readings(self) -> Iterable[ConsumerReading]:
        return self.bus.consumer_readings()

    def dead_letter_depths(self) -> Iterable[DepthReading]:
        return self.bus.dead_letter_depths()


def create(options: dict[str, Any]) -> MemoryTransport:
    return MemoryTransport(InMemoryBus(partitions=options.get("partitions", 3)))
