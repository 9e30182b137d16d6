"""``eventscope demo --broker rabbitmq``: the example system on the real broker."""

from __future__ import annotations

import pytest

from eventscope.demo import DemoOptions, run_demo
from tests.integration.rabbitmq.conftest import URL, management_get

pytestmark = pytest.mark.rabbitmq


def test_the_demo_holds_its_invariants_on_rabbitmq_and_leaves_nothing_behind() -> None:
    result = run_demo(
        DemoOptions(
            broker="rabbitmq",
            connection={"url": URL},
            messages=120,
            rate=2000,
            poison_rate=0.05,
            duplicate_rate=0.05,
            metrics_port=None,
        ),
        live=None,
    )
    assert result.drained and result.invariants_hold
    assert result.published == 120 and result.traced == 120
    assert result.dead_lettered > 0 and result.duplicates > 0
    assert result.retried >= 2 * result.dead_lettered  # three attempts each
    assert result.lag == 0
    # Each group dead-letters a poison order once; billing may also give up on a good
    # order after three gateway timeouts in a row, which shipping then handles.
    assert result.dead_lettered <= result.dlq_depth <= 2 * result.dead_lettered
    vhosts = [v["name"] for v in management_get("/api/vhosts")]
    assert not any(v.startswith("eventscope-demo-") for v in vhosts)
