"""The pytest plugin, through whole pytest runs of the example contract suite and of
small projects (pytester).  The example's consumers deduplicate by event id for as long
as their process lives, so at most one run in this process delivers their examples."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "contracts"
PACTS = ("billing-orders-service.json", "shipping-orders-service.json")
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
# Hypothesis's plugin costs more than a second per run and these runs do not use it.
NO_HYPOTHESIS = ("-p", "no:hypothesispytest")


@pytest.fixture
def example(pytester: pytest.Pytester) -> Path:
    """A copy of examples/contracts (consumer tests, provider, pacts, schemas)."""
    shutil.copytree(
        EXAMPLE, pytester.path, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".pytest_cache")
    )
    return pytester.path


def test_the_example_suite_passes_and_its_committed_pacts_are_current(pytester, example):
    # In a subprocess: it delivers the examples to the example's consumers, whose
    # duplicate filters would skip them in a second run in this process.
    result = pytester.runpytest_subprocess(*NO_HYPOTHESIS, "-v")

    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(
        [
            "*test_billing_consumer.py::test_billing_charges_a_placed_order PASSED*",
            "*pacts/billing-orders-service.json::an order placed event::provider PASSED*",
            "*pacts/billing-orders-service.json::an order placed event::schema PASSED*",
            "*pacts/shipping-orders-service.json::an order placed event::provider PASSED*",
            "*schemas::orders-value PASSED*",
            "*asyncapi.yaml::asyncapi PASSED*",
        ]
    )
    for name in PACTS:  # rewritten by the consumer tests: the committed ones are current
        written = json.loads((example / "pacts" / name).read_text())
        committed = json.loads((EXAMPLE / "pacts" / name).read_text())
        assert written["interactions"] == committed["interactions"]


def test_a_broken_producer_and_a_broken_schema_read_like_test_failures(pytester, example):
    provider = example / "test_orders_provider.py"
    provider.write_text(
        provider.read_text().replace(
            'system.place_order(given["an order is ready to be placed"])',
            'order = given["an order is ready to be placed"]\n'
            '    system.place_order({**order, "quantity": str(order["quantity"])})',
        )
    )
    newest = example / "schemas" / "orders-value" / "v2-add-currency.json"
    (newest.parent / "v3-sku-number.json").write_text(
        newest.read_text().replace('"sku": {"type": "string"}', '"sku": {"type": "integer"}')
    )

    result = pytester.runpytest(
        *NO_HYPOTHESIS
    )  # the schema stops the consumers' examples: none delivered

    result.assert_outcomes(failed=8)
    result.stdout.fnmatch_lines(
        [
            # the consumers' examples no longer fit the schema, so they are not delivered
            "E   *ContractError: billing expects 'an order placed event' given *",
            "E  *$.sku: 'book' is not of type 'integer'",
            # the provider sends a text quantity
            "_ orders-service against billing: 'an order placed event' given *",
            "billing expects 'an order placed event' given 'an order is ready to be placed' "
            "from orders-service",
            "pact: pacts/billing-orders-service.json",
            "the message orders-service sent does not match:",
            "  body $.quantity: Expected '3' (String) to be an integer",
            "      contract example: 2",
            '      actual:           "3"',
            "sent to 'orders':",
            # the committed pacts break the new schema version
            "_ schema of billing's 'an order placed event' given *",
            "its example body breaks the schema orders-value v3 "
            "(schemas/orders-value/v3-sku-number.json):",
            "  $.sku: 'book' is not of type 'integer'",
            # and the new version breaks the subject's history
            "schema subject 'orders-value': v3 (schemas/orders-value/v3-sku-number.json) breaks "
            "BACKWARD_TRANSITIVE:",
            "  version 2 (schemas/orders-value/v2-add-currency.json), backward: TYPE_CHANGED at "
            "#/properties/sku: *",
            # and the committed AsyncAPI document still describes v2
            "asyncapi.yaml is out of date with what the service declares (eventscope.toml and "
            "its schemas):",
            "  message 'orders-value': payload schema version changed: orders-value v2 → "
            "orders-value v3",
        ]
    )
    assert "Verifying a pact between" not in result.stdout.str()  # no verifier report dump
    assert "\x1b[" not in result.stdout.str()


def test_a_provider_that_sends_a_field_its_schema_forbids_fails(pytester, example):
    # Every consumer is satisfied (pacts only check what they ask for); the schema of
    # the destination is not: orders-value v2 says additionalProperties: false.
    provider = example / "test_orders_provider.py"
    provider.write_text(
        provider.read_text().replace(
            'system.place_order(given["an order is ready to be placed"])',
            'system.place_order({**given["an order is ready to be placed"], "coupon": "SAVE10"})',
        )
    )

    result = pytester.runpytest_subprocess(*NO_HYPOTHESIS)  # consumers deliver: a subprocess

    result.assert_outcomes(passed=6, failed=2)
    result.stdout.fnmatch_lines(
        [
            "_ orders-service against billing: 'an order placed event' given *",
            "orders-service sent 'an order placed event' given 'an order is ready to be "
            "placed' (for billing) to 'orders'",
            "pact: pacts/billing-orders-service.json",
            "the message breaks the schema orders-value v2 "
            "(schemas/orders-value/v2-add-currency.json):",
            "  $.coupon: not allowed by the schema (additionalProperties is false; it "
            "declares: order_id, customer_id, sku, quantity, amount_cents, currency)",
            '  body:    {"amount_cents": *, "coupon": "SAVE10", *}',
        ]
    )


def test_the_subject_name_strategy_is_selectable_and_checked(pytester, example):
    # Under RecordNameStrategy the subject is named after the record ("Order placed",
    # the JSON Schema's title): orders-value is not it.
    record = ("--eventscope-subject-name-strategy=record",)
    result = pytester.runpytest_subprocess(*NO_HYPOTHESIS, *record)

    result.assert_outcomes(failed=6, passed=2)  # consumers, providers, pacts' bodies
    result.stdout.fnmatch_lines(
        [
            "its schema cannot be checked: no schema subject for destination 'orders': "
            "looked for a subject named after its record's full name (RecordNameStrategy) "
            "(subjects: orders-value)",
        ]
    )
    # Registered under the record's name only: consumers' example bodies and the
    # provider's messages are all found there.
    shutil.move(example / "schemas" / "orders-value", example / "schemas" / "Order placed")
    ini = example / "pytest.ini"  # the AsyncAPI document's configuration says topic
    ini.write_text(ini.read_text().replace("eventscope_asyncapi = asyncapi.yaml\n", ""))
    named = pytester.runpytest_subprocess(
        *NO_HYPOTHESIS, "-v", "--eventscope-subject-name-strategy=RecordNameStrategy"
    )
    named.assert_outcomes(passed=7)
    named.stdout.fnmatch_lines(
        ["*billing-orders-service.json::an order placed event::schema PASSED*"]
    )
    broken = example / "schemas" / "Order placed" / "v2-add-currency.json"
    broken.write_text(
        broken.read_text().replace('"sku": {"type": "string"}', '"sku": {"type": "integer"}')
    )
    record = pytester.runpytest_subprocess(
        *NO_HYPOTHESIS, "--eventscope-subject-name-strategy=record"
    )
    record.stdout.fnmatch_lines(
        [
            "its example body breaks the schema Order placed v2 (*v2-add-currency.json):",
            "  $.sku: 'book' is not of type 'integer'",
        ]
    )

    wrong = pytester.runpytest(*NO_HYPOTHESIS, "--eventscope-subject-name-strategy=name")
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
    wrong.stderr.fnmatch_lines(
        [
            "*eventscope_subject_name_strategy: unknown subject name "
            "strategy 'name' (known: topic, record, topic-record, *"
        ]
    )


def test_a_destination_the_provider_sends_to_must_be_in_the_asyncapi_document(pytester, example):
    provider = example / "test_orders_provider.py"
    provider.write_text(
        provider.read_text().replace(
            'system.place_order(given["an order is ready to be placed"])',
            'system.place_order(given["an order is ready to be placed"])\n'
            '    bus.publish("refunds", {"order_id": "o-000001"})',
        )
    )

    result = pytester.runpytest_subprocess(*NO_HYPOTHESIS)  # consumers deliver: a subprocess

    result.assert_outcomes(passed=7, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ AsyncAPI document asyncapi.yaml against the code _*",
            "asyncapi.yaml does not list every destination the service sends to; during this "
            "run's provider verification:",
            "  orders-service sent to 'refunds': the document has no send operation for it",
            "add them to asyncapi.sends in eventscope.toml, then regenerate the document",
        ]
    )


def test_a_pact_written_during_the_run_is_verified_at_its_end(pytester, example):
    for name in PACTS:
        (example / "pacts" / name).unlink()
    (example / "test_orders_provider.py").write_text(
        "from eventscope.contracts import provider_state, provides\n\n"
        "@provider_state('an order is ready to be placed')\n"
        "def ready(params):\n"
        "    return params\n\n"
        "@provides('an order placed event')\n"
        "def order_placed(bus):\n"
        "    raise RuntimeError('the orders database is down')\n"
    )

    result = pytester.runpytest(
        *NO_HYPOTHESIS
    )  # the one run in this process that delivers the examples

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        [
            "*eventscope: pacts written during this run*",
            "billing expects 'an order placed event' given * from orders-service",
            "the provider's code failed:",
            "  @provides('an order placed event') test_orders_provider.order_placed * raised "
            "RuntimeError: the orders database is down",
        ]
    )


def test_a_pact_written_during_the_run_has_its_sent_message_checked_too(pytester, example):
    for name in PACTS:
        (example / "pacts" / name).unlink()
    provider = example / "test_orders_provider.py"
    provider.write_text(
        provider.read_text().replace(
            'system.place_order(given["an order is ready to be placed"])',
            'system.place_order({**given["an order is ready to be placed"], "coupon": "SAVE10"})',
        )
    )

    result = pytester.runpytest_subprocess(*NO_HYPOTHESIS)  # consumers deliver: a subprocess

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*eventscope: pacts written during this run*",
            "orders-service sent 'an order placed event' given * (for billing) to 'orders'",
            "pact: pacts",
            "the message breaks the schema orders-value v2 *:",
            "  $.coupon: not allowed by the schema *",
        ]
    )


def test_a_run_that_does_not_configure_it_gets_nothing(pytester):
    pytester.makeini(INI)
    pytester.makepyfile(test_plain="def test_plain(): pass")
    pacts = pytester.mkdir("pacts")
    shutil.copy(EXAMPLE / "pacts" / PACTS[0], pacts)

    result = pytester.runpytest(*NO_HYPOTHESIS, "--co", "-q")

    result.stdout.fnmatch_lines(["test_plain.py::test_plain", "1 test collected*"])


def test_a_run_narrowed_to_other_tests_gets_no_contract_items(pytester, example):
    result = pytester.runpytest(*NO_HYPOTHESIS, "test_billing_consumer.py", "--co", "-q")
    result.stdout.fnmatch_lines(
        ["test_billing_consumer.py::test_billing_charges_a_placed_order", "1 test collected*"]
    )


def test_a_consumer_test_must_deliver_what_it_declares(pytester):
    pytester.makeini(INI)
    pytester.makepyfile(
        test_consumer="""
        import pytest

        @pytest.mark.eventscope_pact(consumer="billing", provider="orders-service")
        def test_declares_only(message_pact):
            message_pact.expect("an order placed event", destination="orders", body={"id": 1})

        def test_unmarked(message_pact):
            pass
        """
    )
    result = pytester.runpytest(*NO_HYPOTHESIS)
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*expected message(s) 'an order placed event' were declared but never delivered*",
            "*message_pact needs @pytest.mark.eventscope_pact(consumer=..., provider=...)*",
        ]
    )
    assert not (pytester.path / "pacts").exists()


def test_an_unreachable_broker_fails_one_item_with_the_reason(pytester):
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pytester.makeini(INI)
    pytester.makeconftest(
        """
        from eventscope.contracts import provides

        @provides("an order placed event", provider="orders-service")
        def order_placed(capture):
            capture.send("orders", {"order_id": "o-000001"})
        """
    )
    result = pytester.runpytest(
        *NO_HYPOTHESIS, f"--eventscope-broker-url=http://ci:secret@127.0.0.1:{port}", "-v"
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*pact broker http://127.0.0.1:{port} (orders-service) FAILED*",
            f"could not verify: *pact broker 'http://127.0.0.1:{port}'*error sending request*",
        ]
    )
    assert "secret" not in result.stdout.str()
