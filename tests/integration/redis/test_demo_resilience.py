"""Two demo runs on one Redis database, and a demo whose connections are killed.

Each run is a separate ``eventscope demo`` process (telemetry is per process), on the
session's private Redis server, so killing connections touches nobody else's.
"""

from __future__ import annotations

import subprocess
import time

import pytest
import redis

from tests.integration.demo_process import demo_summary, start_demo

pytestmark = pytest.mark.redis


def _demo(redis_url: str, messages: int) -> subprocess.Popen[str]:
    return start_demo(
        "redis", "--url", redis_url, "--messages", str(messages), "--rate", "300"
    )


def _result(run: subprocess.Popen[str]) -> dict:
    return demo_summary(run, timeout=120)


def _holds(result: dict, messages: int) -> None:
    assert result["invariants_hold"] and result["drained"]
    assert result["published"] == result["traced"] == messages
    assert result["lag"] == 0


def test_two_runs_on_one_database_keep_to_their_own_streams(
    redis_url: str, client: redis.Redis
) -> None:
    first = _demo(redis_url, 600)
    while not client.keys("eventscope-demo-live:*"):  # the first run has claimed "orders"
        assert first.poll() is None, first.communicate()
        time.sleep(0.05)
    second = _demo(redis_url, 600)
    results = [_result(first), _result(second)]
    for result in results:
        _holds(result, 600)
    assert client.keys("*") == []  # each removed its own streams and claims


def test_killed_connections_are_reconnected_and_nothing_is_lost(
    redis_url: str, client: redis.Redis
) -> None:
    run = _demo(redis_url, 900)
    kills = 0
    while run.poll() is None:
        for entry in client.client_list():
            if entry.get("name", "").startswith("eventscope-demo-"):
                kills += client.client_kill_filter(_id=entry["id"])
        time.sleep(0.2)
    result = _result(run)
    assert kills >= 3, "the run ended before its connections could be killed"
    _holds(result, 900)
