"""The schema cross-check reading schemas from a registry: eventscope's embedded registry,
over real HTTP, as a CI job would point the plugin at its Confluent registry."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventscope.contracts.pact_files import MessageInteraction
from eventscope.contracts.report import describe_schema_verdict
from eventscope.contracts.schema_check import check_interaction_against_registry
from eventscope.registry import EmbeddedRegistry, RegistryClient, SchemaReference
from eventscope.schemas import Mode

EXAMPLE = Path(__file__).parents[2] / "examples" / "contracts"
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
NO_HYPOTHESIS = ("-p", "no:hypothesispytest")
ORDER_JSON_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "quantity": {"type": "integer"}},
    "required": ["order_id", "quantity"],
}


@pytest.fixture
def registry() -> Iterator[EmbeddedRegistry]:
    with EmbeddedRegistry() as embedded:
        yield embedded


@pytest.fixture
def client(registry: EmbeddedRegistry) -> RegistryClient:
    return RegistryClient(registry.url)


def message(body, destination: str | None = "orders") -> MessageInteraction:
    metadata = {"destination": destination} if destination else {}
    return MessageInteraction(
        Path("pacts/billing-orders-service.json"), "billing", "orders-service",
        "an order placed event", (), metadata, "application/json", body,
    )  # fmt: skip


def test_the_latest_registered_version_is_the_one_validated(client: RegistryClient) -> None:
    client.register("orders-value", ORDER_JSON_SCHEMA, "JSON")
    placed = message({"order_id": "o-1", "quantity": 2})
    verdict = check_interaction_against_registry(placed, client)
    assert (verdict.problems, verdict.registered.version) == ((), 1)

    client.set_compatibility(Mode.NONE, "orders-value")
    text_quantity = {**ORDER_JSON_SCHEMA, "properties": {"quantity": {"type": "string"}}}
    client.register("orders-value", text_quantity, "JSON")

    verdict = check_interaction_against_registry(placed, client)
    assert verdict.problems == ("$.quantity: 2 is not of type 'string'",)
    assert describe_schema_verdict(placed, verdict, "pacts/billing-orders-service.json") == (
        "billing expects 'an order placed event' from orders-service\n"
        "pact: pacts/billing-orders-service.json\n"
        f"its example body breaks the schema orders-value v2 (schema id 2 in {client.url}):\n"
        "  $.quantity: 2 is not of type 'string'"
    )


def test_avro_references_are_fetched_from_the_registry(client: RegistryClient) -> None:
    money = {"type": "record", "name": "Money", "namespace": "acme",
             "fields": [{"name": "cents", "type": "long"}]}  # fmt: skip
    order = {"type": "record", "name": "Order", "namespace": "acme",
             "fields": [{"name": "total", "type": "acme.Money"}]}  # fmt: skip
    client.register("acme.Money", money)
    client.register("orders", order, references=[SchemaReference("acme.Money", "acme.Money", 1)])

    fits = check_interaction_against_registry(message({"total": {"cents": 5}}), client)
    assert (fits.problems, fits.registered.subject) == ((), "orders")  # no orders-value
    breaks = check_interaction_against_registry(message({"total": {"cents": "5"}}), client)
    assert breaks.problems == ("acme.Money.cents: '5' is not a valid long",)


def test_a_missing_subject_or_registry_is_a_problem_not_a_pass(client: RegistryClient) -> None:
    client.register("payments-value", ORDER_JSON_SCHEMA, "JSON")
    (problem,) = check_interaction_against_registry(message({}), client).problems
    assert problem == (
        f"no schema subject for destination 'orders' in the schema registry {client.url}: "
        "looked for 'orders-value' or 'orders' (subjects: payments-value)"
    )

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = RegistryClient(f"http://127.0.0.1:{port}", timeout=2)
    (problem,) = check_interaction_against_registry(message({}), unreachable).problems
    assert problem.startswith(
        f"the schema cannot be read: cannot reach the schema registry at http://127.0.0.1:{port}"
    )


def test_the_plugin_cross_checks_pacts_against_the_registry(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    shutil.copytree(EXAMPLE / "pacts", pytester.path / "pacts")
    with EmbeddedRegistry(schemas=EXAMPLE / "schemas") as registry:
        url = registry.url
        options = (*NO_HYPOTHESIS, "--eventscope-pacts=pacts", f"--eventscope-registry={url}")

        passing = pytester.runpytest(*options, "-v")

        passing.assert_outcomes(passed=2)
        passing.stdout.fnmatch_lines(
            [
                "*pacts/billing-orders-service.json::an order placed event::schema PASSED*",
                "*pacts/shipping-orders-service.json::an order placed event::schema PASSED*",
            ]
        )

        # The producer's team registers a version that changes sku to a number.
        client = RegistryClient(url)
        client.set_compatibility(Mode.NONE, "orders-value")
        newest = json.loads(client.latest("orders-value").schema)
        newest["properties"]["sku"] = {"type": "integer"}
        schema_id = client.register("orders-value", newest, "JSON")

        failing = pytester.runpytest(*options)

    failing.assert_outcomes(failed=2)
    failing.stdout.fnmatch_lines(
        [
            "_ schema of billing's 'an order placed event' given *",
            "billing expects 'an order placed event' given 'an order is ready to be placed' "
            "from orders-service",
            "pact: pacts/billing-orders-service.json",
            f"its example body breaks the schema orders-value v3 (schema id {schema_id} in {url}):",
            "  $.sku: 'book' is not of type 'integer'",
        ]
    )


def test_a_registry_setting_that_is_not_a_url_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "eventscope_registry = localhost:8081\n")
    result = pytester.runpytest(*NO_HYPOTHESIS)
    result.stderr.fnmatch_lines(
        ["*--eventscope-registry / eventscope_registry: not a registry URL: 'localhost:8081'*"]
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
