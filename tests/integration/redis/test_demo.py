"""``eventscope demo --broker redis``: the example system on a real Redis."""

from __future__ import annotations

import pytest
import redis

from eventscope.demo import DemoOptions, run_demo
from eventscope.errors import UsageError

pytestmark = pytest.mark.redis


def _run(redis_url: str):
    return run_demo(
        DemoOptions(
            broker="redis",
            connection={"url": redis_url},
            messages=120,
            rate=2000,
            poison_rate=0.05,
            duplicate_rate=0.05,
            metrics_port=None,
        ),
        live=None,
    )


def test_the_demo_holds_its_invariants_on_redis_and_removes_its_streams(
    redis_url: str, client: redis.Redis
) -> None:
    result = _run(redis_url)
    assert result.drained and result.invariants_hold
    assert result.published == 120 and result.traced == 120
    assert result.dead_lettered > 0 and result.duplicates > 0
    assert result.retried >= 2 * result.dead_lettered
    assert result.lag == 0
    # Each group dead-letters a poison order once; billing may also give up on a good
    # order after three gateway timeouts in a row, which shipping then handles.
    assert result.dead_lettered <= result.dlq_depth <= 2 * result.dead_lettered
    assert not client.exists("orders", "orders.dlq", "eventscope-demo:orders")


def test_the_demo_refuses_to_touch_a_stream_it_did_not_create(
    redis_url: str, client: redis.Redis
) -> None:
    client.xadd("orders", {"someone": "else's"})
    try:
        with pytest.raises(UsageError, match="'orders' exists and was not created by the demo"):
            _run(redis_url)
        assert client.xlen("orders") == 1
    finally:
        client.delete("orders")
