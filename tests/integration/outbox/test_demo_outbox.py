"""``eventscope demo --outbox DSN --dedup-store URL --instances N`` holds its invariants:
every order written through the outbox is relayed (nothing left behind), traced from
the write to every consumer, and handled once per group although N instances share it."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import redis

from eventscope.demo.runner import DemoOptions, run_demo


@pytest.mark.parametrize(
    ("broker", "outbox", "store"),
    [("memory", "postgresql", "redis"), ("redis", "sqlite", "postgresql")],
)
def test_the_demo_through_an_outbox_with_a_shared_store_holds_its_invariants(
    broker: str,
    outbox: str,
    store: str,
    postgres_dsn: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    urls = {"postgresql": postgres_dsn, "redis": redis_url, "sqlite": f"sqlite:///{tmp_path}/o.db"}
    options = DemoOptions(
        broker=broker,
        connection={"url": redis_url} if broker == "redis" else {},
        messages=200,
        rate=400,
        duplicate_rate=0.05,
        metrics_port=None,
        outbox=urls[outbox],
        dedup_store=urls[store],
        instances=2,
    )
    result = run_demo(options, live=None)
    assert result.drained and result.invariants_hold, result
    assert result.outbox_pending == 0
    assert result.resent > 0
    for group, counts in result.groups.items():
        # Each order once per group: the resent copies and redeliveries are duplicates.
        assert counts["ok"] + counts["dead_letter"] == result.published, (group, counts)
    # The run removed what it created: its outbox table, its store's keys or table.
    with redis.Redis.from_url(redis_url) as client:
        assert not client.keys("eventscope:dedup:demo-*")
    with psycopg.connect(postgres_dsn) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'eventscope_%%'"
        ).fetchall()
    assert tables == []
