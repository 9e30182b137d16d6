"""Delayed RabbitMQ retries without a broker: the waits, and what the headers carry."""

from __future__ import annotations

import pytest

from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import amqp_retry
from eventscope.instrumentation.brokers.amqp_retry import RetryDelay


def test_fixed_and_exponential_waits() -> None:
    assert [RetryDelay(5).milliseconds(n) for n in (1, 2, 9)] == [5000, 5000, 5000]
    backoff = RetryDelay(1, factor=2, maximum=10)
    assert [backoff.milliseconds(n) for n in range(1, 7)] == [1000, 2000, 4000, 8000, 10000, 10000]
    assert RetryDelay(0.5, factor=10).milliseconds(10**6) == 2**31  # RabbitMQ's TTL limit
    assert amqp_retry.retry_delay(2) == RetryDelay(2)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"initial": 0}, "at least 1 ms"),
        ({"initial": float("nan")}, "number of seconds"),
        ({"initial": 1, "factor": 0.5}, "factor must be 1 or more"),
        ({"initial": 2, "maximum": 1}, "must be at least the initial"),
    ],
)
def test_nonsense_delays_are_refused_when_configured(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetryDelay(**arguments)


def test_retry_delay_must_be_seconds_or_a_retry_delay() -> None:
    with pytest.raises(TypeError, match="retry_delay"):
        amqp_retry.retry_delay("5s")  # type: ignore[arg-type]


def test_the_copy_remembers_where_it_came_from_and_which_attempt_is_next() -> None:
    first = amqp_retry.retry_headers(
        {h.TRACEPARENT: "00-x"},
        exchange="orders",
        routing_key="eu",
        queue="billing",
        failed_attempt=1,
    )
    assert first == {
        h.TRACEPARENT: "00-x",
        h.ATTEMPT: "2",
        h.ORIGINAL_DESTINATION: "orders",
        amqp_retry.ORIGINAL_ROUTING_KEY: "eu",
        amqp_retry.RETRY_QUEUE: "billing",
    }
    # back on "billing" from the default exchange: read as the original delivery
    assert amqp_retry.destination(first, "", "billing") == "orders"
    assert amqp_retry.original_routing_key(first, "", "billing") == "eu"
    assert amqp_retry.earlier_attempts(first, "", "billing") == 1
    second = amqp_retry.retry_headers(
        first, exchange="", routing_key="billing", queue="billing", failed_attempt=2
    )
    assert second[h.ORIGINAL_DESTINATION] == "orders"
    assert second[h.ATTEMPT] == "3"


def test_the_headers_mean_nothing_once_the_message_is_elsewhere() -> None:
    copy = amqp_retry.retry_headers(
        {}, exchange="orders", routing_key="", queue="billing", failed_attempt=2
    )
    # dead-lettered into billing.dlq, or re-published by hand to another exchange
    assert amqp_retry.destination(copy, "", "billing.dlq") == "billing.dlq"
    assert amqp_retry.earlier_attempts(copy, "", "billing.dlq") == 0
    assert amqp_retry.destination(copy, "audit", "billing") == "audit"
    forged = {amqp_retry.RETRY_QUEUE: b"billing", h.ATTEMPT: "not-a-number"}
    assert amqp_retry.earlier_attempts(forged, "", "billing") == 0
