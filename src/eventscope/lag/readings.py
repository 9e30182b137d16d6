"""What a lag collector reports, in one shape for every broker.

Each broker has its own words (Kafka offsets, RabbitMQ ready/unacked, JetStream
pending/ack-pending, Redis Streams lag/pending); collectors translate them into these
readings, and the exporters turn readings into the catalog's metrics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class LagReading:
    """One consumer group's position on one partition (or queue, or stream)."""

    system: str
    destination: str
    group: str
    partition: str
    messages: int
    """Published but not yet consumed (committed / acknowledged) by the group."""
    seconds: float | None = None
    """Age of the oldest message the group has not consumed (estimated where noted)."""
    pending: int | None = None
    """Delivered to the group but not acknowledged yet."""
    position: int | None = None
    """Committed position; flat while ``messages > 0`` means the group is stalled."""


@dataclass(frozen=True, slots=True)
class ConsumerReading:
    """Facts about a group on a destination as a whole."""

    system: str
    destination: str
    group: str
    members: int | None = None
    redelivered: int | None = None


@dataclass(frozen=True, slots=True)
class DepthReading:
    """Messages waiting in one dead-letter destination."""

    system: str
    destination: str
    messages: int


@runtime_checkable
class LagSource(Protocol):
    """Anything that can say, when asked, how far behind its consumers are."""

    def lag_readings(self) -> Iterable[LagReading]: ...

    def dead_letter_depths(self) -> Iterable[DepthReading]: ...


def consumer_readings(source: LagSource) -> Iterable[ConsumerReading]:
    """The source's per-group readings, for sources that have them."""
    read = getattr(source, "consumer_readings", None)
    return read() if read is not None else ()
