"""The consumer side: examples reach the real handler, and only delivered ones are written."""

from __future__ import annotations

import json
import re

import pytest
from pact import match

from eventscope import MessageContext, consumer
from eventscope.contracts import (
    EVENT_ID_PATTERN,
    TRACEPARENT_PATTERN,
    ContractError,
    MessagePact,
    PactFiles,
    read_pact,
)
from eventscope.contracts.headers import EXAMPLE_PUBLISHED_AT, EXAMPLE_TRACEPARENT

ORDER = {
    "order_id": match.regex("o-000001", regex=r"^o-[0-9]{6}$"),
    "quantity": match.int(2),
    "lines": match.each_like({"sku": match.str("book")}),
}
GIVEN = {"an order is ready to be placed": {"order_id": "o-000001"}}


def test_deliver_runs_the_consumer_decorator_and_writes_a_v4_message_pact(tmp_path):
    seen: list[tuple[dict, MessageContext]] = []

    @consumer(group="billing")
    def bill(message, ctx: MessageContext) -> None:
        seen.append((message.value, ctx))

    pact = MessagePact("billing", "orders-service", pacts=tmp_path)
    expected = pact.expect("an order placed event", destination="orders", body=ORDER, given=GIVEN)
    expected.deliver(bill)

    (body, ctx) = seen[0]
    assert body == {"order_id": "o-000001", "quantity": 2, "lines": [{"sku": "book"}]}
    # what the decorator extracted from the example's headers
    assert re.fullmatch(EVENT_ID_PATTERN, ctx.event_id)
    assert ctx.event_id == ctx.headers["eventscope-event-id"]
    assert ctx.published_at == float(EXAMPLE_PUBLISHED_AT)
    assert ctx.headers["traceparent"] == EXAMPLE_TRACEPARENT
    assert ctx.destination == "orders"

    document = json.loads((tmp_path / "billing-orders-service.json").read_text())
    assert document["metadata"]["pactSpecification"]["version"] == "4.0"
    (interaction,) = document["interactions"]
    assert interaction["type"] == "Asynchronous/Messages"
    assert interaction["providerStates"] == [
        {"name": "an order is ready to be placed", "params": {"order_id": "o-000001"}}
    ]
    assert interaction["metadata"]["destination"] == "orders"
    rules = interaction["matchingRules"]
    assert rules["metadata"]["traceparent"]["matchers"] == [
        {"match": "regex", "regex": TRACEPARENT_PATTERN}
    ]
    assert {"eventscope-event-id", "eventscope-published-at"} <= set(rules["metadata"])
    assert rules["body"]["$.quantity"]["matchers"] == [{"match": "integer"}]
    assert rules["body"]["$.lines"]["matchers"] == [{"match": "type"}]

    (read,) = read_pact(tmp_path / "billing-orders-service.json").messages
    assert (read.consumer, read.provider, read.destination) == (
        "billing",
        "orders-service",
        "orders",
    )
    assert read.state_names == ("an order is ready to be placed",)
    assert read.body == body


def test_a_handler_that_fails_propagates_and_nothing_is_written(tmp_path):
    def bill(message) -> None:
        raise KeyError("currency")

    pact = MessagePact("billing", "orders-service", pacts=tmp_path)
    expected = pact.expect("an order placed event", destination="orders", body=ORDER)
    with pytest.raises(KeyError, match="currency"):
        expected.deliver(bill)
    assert not (tmp_path / "billing-orders-service.json").exists()
    assert pact.undelivered() == [expected]


def test_a_run_replaces_the_pact_of_the_previous_run_and_merges_its_own(tmp_path):
    def descriptions() -> list[str]:
        return [m.description for m in read_pact(tmp_path / "billing-orders-service.json").messages]

    run = PactFiles(tmp_path)
    for description in ("an order placed event", "an order cancelled event"):
        pact = MessagePact("billing", "orders-service", pacts=run)
        pact.expect(description, destination="orders", body=ORDER).deliver(lambda message: None)
    assert sorted(descriptions()) == ["an order cancelled event", "an order placed event"]

    next_run = MessagePact("billing", "orders-service", pacts=PactFiles(tmp_path))
    next_run.expect("an order placed event", destination="orders", body=ORDER).deliver(
        lambda message: None
    )
    assert descriptions() == ["an order placed event"]


def test_an_example_the_schema_forbids_is_refused_before_delivery(tmp_path):
    subject = tmp_path / "schemas" / "orders-value"
    subject.mkdir(parents=True)
    (subject / "v1.json").write_text(
        json.dumps({"type": "object", "properties": {"quantity": {"type": "string"}}})
    )
    delivered = []
    pact = MessagePact("billing", "orders-service", pacts=tmp_path, schemas=tmp_path / "schemas")
    expected = pact.expect("an order placed event", destination="orders", body=ORDER)

    with pytest.raises(ContractError) as failure:
        expected.deliver(delivered.append)

    assert delivered == []
    assert "billing expects 'an order placed event' from orders-service" in str(failure.value)
    assert "breaks the schema orders-value v1" in str(failure.value)
    assert "$.quantity: 2 is not of type 'string'" in str(failure.value)


def test_custom_headers_and_a_coroutine_handler(tmp_path):
    received = []

    async def handle(message) -> str:
        received.append(message.headers)
        return "handled"

    pact = MessagePact("audit", "orders-service", pacts=tmp_path)
    expected = pact.expect(
        "an order placed event",
        destination="orders",
        body=ORDER,
        headers={"x-tenant": match.regex("acme", regex="^[a-z]+$")},
        trace_headers=False,
    )

    assert expected.deliver(handle) == "handled"
    assert received == [{"x-tenant": "acme"}]
