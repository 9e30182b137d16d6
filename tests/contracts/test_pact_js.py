"""The example's pact files, verified by pact-js (another binding of the Pact engine,
from the npm registry) against the message our real provider sends: a pact that only
pact-python accepts, or a provider change only our verifier lets through, fails here.

The message is produced in a fresh interpreter (the example's ``@provides`` function on
a capturing bus, with tracing on, as the plugin runs it), written to a file, and served
to pact-js's ``MessageProviderPact`` as that interaction's message.  The negative
controls edit that message the eight ways a provider could break its consumers.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.node import installed, run_node

EXAMPLE = Path(__file__).parents[2] / "examples" / "contracts"
PACTS = sorted((EXAMPLE / "pacts").glob("*.json"))
PACT_JS = {"@pact-foundation/pact": "16.5.0"}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

CAPTURE = """
import importlib.util, json, sys
from eventscope.contracts.capture import MessageCapture
from eventscope.contracts.tracing import producer_tracing

spec = importlib.util.spec_from_file_location("provider", sys.argv[1])
provider = importlib.util.module_from_spec(spec)
spec.loader.exec_module(provider)
given = {"an order is ready to be placed":
         provider.an_order_ready_to_be_placed({"order_id": "o-000001"})}
capture = MessageCapture()
with producer_tracing():
    provider.order_placed(capture.bus, given)
[sent] = capture.messages()
json.dump({"body": sent.body, "metadata": sent.metadata()}, sys.stdout)
"""

VERIFY = """
const fs = require('fs');
const { MessageProviderPact, providerWithMetadata } = require('@pact-foundation/pact');
const [sentFile, ...pactFiles] = process.argv.slice(2);
const sent = JSON.parse(fs.readFileSync(sentFile, 'utf8'));
new MessageProviderPact({
  provider: 'orders-service',
  pactUrls: pactFiles,
  logLevel: 'error',
  messageProviders: {
    'an order placed event': providerWithMetadata(() => sent.body, sent.metadata),
  },
  stateHandlers: { 'an order is ready to be placed': () => Promise.resolve() },
}).verify().then(
  () => console.log('VERIFIED'),
  () => { console.log('NOT VERIFIED'); process.exit(1); },
);
"""


@pytest.fixture(scope="module")
def sent() -> dict[str, Any]:
    """What orders-service's real producer sends for "an order placed event"."""
    result = subprocess.run(
        [sys.executable, "-c", CAPTURE, str(EXAMPLE / "test_orders_provider.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=EXAMPLE,
    )
    return json.loads(result.stdout)


def pact_js(message: dict[str, Any], tmp_path: Path) -> tuple[bool, str]:
    """Whether pact-js verifies every example pact against ``message``, and its report."""
    path = tmp_path / "sent.json"
    path.write_text(json.dumps(message))
    result = run_node(
        installed("pact-js", PACT_JS), VERIFY, str(path), *(str(p) for p in PACTS)
    )
    report = _ANSI.sub("", result.stdout + result.stderr)
    return result.returncode == 0 and "VERIFIED" in report.splitlines()[-1:], report


def test_pact_js_verifies_the_example_pacts_against_the_real_provider(sent, tmp_path) -> None:
    assert len(PACTS) == 2
    verified, report = pact_js(sent, tmp_path)

    assert verified, report
    assert report.count("has a matching body (OK)") == 2


def _without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


MUTATIONS = {
    "removed field": lambda m: {**m, "body": _without(m["body"], "amount_cents")},
    "type change": lambda m: {**m, "body": {**m["body"], "quantity": str(m["body"]["quantity"])}},
    "renamed field": lambda m: {
        **m,
        "body": {**_without(m["body"], "sku"), "product": m["body"]["sku"]},
    },
    "bypassing @producer (no trace headers)": lambda m: {
        **m,
        "metadata": {"destination": m["metadata"]["destination"]},
    },
    "wrong destination": lambda m: {**m, "metadata": {**m["metadata"], "destination": "order"}},
    "malformed traceparent": lambda m: {
        **m,
        "metadata": {**m["metadata"], "traceparent": m["metadata"]["traceparent"][:-3]},
    },
    "event id not a UUID": lambda m: {
        **m,
        "metadata": {**m["metadata"], "eventscope-event-id": "order-1"},
    },
    "order id off pattern": lambda m: {**m, "body": {**m["body"], "order_id": "1"}},
}
EXPECTED = {  # the line of pact-js's report that names what broke
    "removed field": r"\$ -> Actual map is missing the following keys: amount_cents",
    "type change": r"\$\.quantity -> Expected '3' \(String\) to be an integer",
    "renamed field": r"\$ -> Actual map is missing the following keys: sku",
    "bypassing @producer (no trace headers)": r'"traceparent" with value .* \(FAILED\)',
    "wrong destination": r'"destination" with value "orders" \(FAILED\)',
    "malformed traceparent": r'"traceparent" with value .* \(FAILED\)',
    "event id not a UUID": r'"eventscope-event-id" with value .* \(FAILED\)',
    "order id off pattern": r"\$\.order_id -> Expected '1' to match",
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_pact_js_fails_a_provider_that_breaks_its_consumers(sent, tmp_path, mutation) -> None:
    verified, report = pact_js(MUTATIONS[mutation](sent), tmp_path)

    assert not verified, report
    assert "NOT VERIFIED" in report
    assert re.search(EXPECTED[mutation], report), report
