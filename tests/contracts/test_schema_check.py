"""Contract bodies against the schema registered for their destination."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eventscope.contracts import PactFileError, check_interaction, read_pact
from eventscope.contracts.pact_files import MessageInteraction
from eventscope.schemas import load_schema_directory

ORDER_JSON_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "quantity": {"type": "integer"}},
    "required": ["order_id", "quantity"],
}
ORDER_AVRO = {
    "type": "record",
    "name": "Order",
    "namespace": "acme",
    "fields": [{"name": "order_id", "type": "string"}, {"name": "quantity", "type": "int"}],
}


def subjects(root: Path, **files: dict) -> list:
    """``subject__v1_json={...}`` → ``root/subject/v1.json``."""
    for key, schema in files.items():
        subject, file = key.split("__")
        (root / subject).mkdir(parents=True, exist_ok=True)
        (root / subject / file.replace("_", ".")).write_text(json.dumps(schema))
    return load_schema_directory(root)


def message(body, destination: str | None = "orders") -> MessageInteraction:
    metadata = {"destination": destination} if destination else {}
    return MessageInteraction(
        Path("pacts/billing-orders-service.json"), "billing", "orders-service",
        "an order placed event", (), metadata, "application/json", body,
    )  # fmt: skip


def test_json_schema_subject_named_after_the_destination(tmp_path):
    found = subjects(tmp_path, **{"orders-value__v1_json": ORDER_JSON_SCHEMA})
    assert check_interaction(message({"order_id": "o-1", "quantity": 2}), found).problems == ()

    verdict = check_interaction(message({"order_id": 1, "quantity": "2"}), found)
    assert verdict.subject.name == "orders-value"
    assert verdict.problems == (
        "$.order_id: 1 is not of type 'string'",
        "$.quantity: '2' is not of type 'integer'",
    )


def test_the_newest_version_is_the_one_validated(tmp_path):
    newer = {**ORDER_JSON_SCHEMA, "required": [*ORDER_JSON_SCHEMA["required"], "currency"]}
    found = subjects(tmp_path, **{"orders__v1_json": ORDER_JSON_SCHEMA, "orders__v2_json": newer})
    verdict = check_interaction(message({"order_id": "o-1", "quantity": 2}), found)
    assert verdict.subject.name == "orders"  # no orders-value: the destination's own name
    assert verdict.problems == ("$.currency: required by the schema, missing",)


def test_avro_subject_validates_the_body_as_a_datum(tmp_path):
    found = subjects(tmp_path, **{"orders-value__v1_avsc": ORDER_AVRO})
    assert check_interaction(message({"order_id": "o-1", "quantity": 2}), found).problems == ()
    verdict = check_interaction(message({"order_id": "o-1", "quantity": "2"}), found)
    assert verdict.problems == ("acme.Order.quantity: '2' is not a valid int",)


def test_a_contract_without_a_schema_is_a_problem_not_a_pass(tmp_path):
    found = subjects(tmp_path, **{"payments-value__v1_json": ORDER_JSON_SCHEMA})
    (problem,) = check_interaction(message({"order_id": "o-1"}), found).problems
    assert problem == (
        "no schema subject for destination 'orders': looked for 'orders-value' or 'orders' "
        "(subjects: payments-value)"
    )
    (problem,) = check_interaction(message({}, destination=None), found).problems
    assert "has no 'destination' metadata" in problem


def test_v3_message_pacts_are_read_and_bad_files_are_named(tmp_path):
    v3 = tmp_path / "billing-orders.json"
    v3.write_text(
        json.dumps(
            {
                "consumer": {"name": "billing"},
                "provider": {"name": "orders"},
                "messages": [
                    {
                        "description": "an order placed event",
                        "providerStates": [{"name": "an order exists"}],
                        "contents": {"quantity": 2},
                        "metaData": {"destination": "orders"},
                    }
                ],
                "metadata": {"pactSpecification": {"version": "3.0.0"}},
            }
        )
    )
    (read,) = read_pact(v3).messages
    assert (read.description, read.state_names, read.body) == (
        "an order placed event",
        ("an order exists",),
        {"quantity": 2},
    )
    v3.write_text(json.dumps({"consumer": {"name": "billing"}, "messages": []}))
    with pytest.raises(PactFileError, match=r"billing-orders.json: \$.provider.name: missing"):
        read_pact(v3)
