"""The Redis demo transport leaves alone streams it did not create.

The demo's run on Redis is in ``tests/integration/test_demo.py``, with the other brokers.
"""

from __future__ import annotations

import pytest
import redis

from eventscope.demo import DemoOptions, run_demo
from eventscope.errors import UsageError

pytestmark = pytest.mark.redis


def test_the_demo_refuses_to_touch_a_stream_it_did_not_create(
    redis_url: str, client: redis.Redis
) -> None:
    client.xadd("orders", {"someone": "else's"})
    try:
        with pytest.raises(UsageError, match="'orders' exists and was not created by the demo"):
            run_demo(
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
        assert client.xlen("orders") == 1
    finally:
        client.delete("orders")
