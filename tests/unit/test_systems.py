"""The messaging systems table: the label values dashboards filter on, and DLQ names."""

from __future__ import annotations

import pytest

from eventscope import catalog


def test_system_names_are_the_messaging_system_values() -> None:
    assert [s.name for s in catalog.SYSTEMS] == [
        "kafka",
        "rabbitmq",
        "nats",
        "redis",
        "aws_sqs",
        "memory",
    ]


@pytest.mark.parametrize(
    ("system", "destination", "dead_letter"),
    [
        (catalog.KAFKA, "orders", "orders.dlq"),
        (catalog.RABBITMQ, "orders", "orders.dlq"),
        (catalog.NATS, "orders.created", "orders.created.dlq"),
        (catalog.REDIS, "orders", "orders.dlq"),
        (catalog.MEMORY, "orders", "orders.dlq"),
        (catalog.AWS_SQS, "orders", "orders-dlq"),
        (catalog.AWS_SQS, "orders.fifo", "orders-dlq.fifo"),
    ],
)
def test_dead_letter_destination(system: catalog.System, destination: str, dead_letter: str):
    assert system.dead_letter_destination(destination) == dead_letter
    assert system.is_dead_letter(dead_letter)
    assert not system.is_dead_letter(destination)
