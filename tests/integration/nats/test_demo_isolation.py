"""Two demo runs on one NATS server at the same time keep to their own streams.

Each run is a separate ``eventscope demo`` process (telemetry is per process), on the
session's private NATS server.
"""

from __future__ import annotations

import asyncio
import subprocess

import nats
import pytest

from tests.integration.demo_process import demo_summary, start_demo

pytestmark = pytest.mark.nats


def _demo(nats_url: str) -> subprocess.Popen[str]:
    return start_demo("nats", "--url", nats_url, "--messages", "600", "--rate", "300")


def _result(run: subprocess.Popen[str]) -> dict:
    return demo_summary(run, timeout=120)


async def _demo_streams(url: str) -> list[str]:
    nc = await nats.connect(url)
    try:
        return [s.config.name for s in await nc.jetstream().streams_info()]
    finally:
        await nc.close()


def test_two_runs_on_one_server_keep_to_their_own_streams(nats_url: str) -> None:
    first = _demo(nats_url)
    assert first.stderr is not None
    first.stderr.readline()  # its first progress line: it has claimed "orders" and publishes
    second = _demo(nats_url)
    for result in (_result(first), _result(second)):
        assert result["invariants_hold"] and result["drained"]
        assert result["published"] == result["traced"] == 600
        assert result["lag"] == 0
    leftovers = asyncio.run(_demo_streams(nats_url))
    assert [s for s in leftovers if s.startswith("EVENTSCOPE_DEMO")] == []
