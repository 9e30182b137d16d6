"""``eventscope demo --broker nats``: the example system on a real JetStream server."""

from __future__ import annotations

import asyncio

import nats
import pytest

from eventscope.demo import DemoOptions, run_demo

pytestmark = pytest.mark.nats


def test_the_demo_holds_its_invariants_on_jetstream_and_removes_its_stream(nats_url: str) -> None:
    result = run_demo(
        DemoOptions(
            broker="nats",
            connection={"url": nats_url},
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
    assert result.retried >= 2 * result.dead_lettered
    assert result.lag == 0
    # Each group dead-letters a poison order once; billing may also give up on a good
    # order after three gateway timeouts in a row, which shipping then handles.
    assert result.dead_lettered <= result.dlq_depth <= 2 * result.dead_lettered
    leftovers = [n for n in asyncio.run(_stream_names(nats_url)) if n.startswith("EVENTSCOPE_DEMO")]
    assert leftovers == []


async def _stream_names(url: str) -> list[str]:
    nc = await nats.connect(url)
    try:
        return [s.config.name for s in await nc.jetstream().streams_info()]
    finally:
        await nc.close()
