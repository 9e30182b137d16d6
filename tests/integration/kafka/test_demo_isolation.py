"""Two demo runs on one Kafka cluster at the same time keep to their own topics and groups.

Each run is a separate ``eventscope demo --bootstrap`` process against the session's
Tansu; neither may delete or consume what the other publishes.
"""

from __future__ import annotations

import subprocess

import pytest
from confluent_kafka.admin import AdminClient

from tests.integration.demo_process import demo_summary, start_demo

pytestmark = pytest.mark.kafka


def _demo(bootstrap: str) -> subprocess.Popen[str]:
    return start_demo(
        "kafka", "--bootstrap", bootstrap, "--messages", "300", "--rate", "150"
    )


def _result(run: subprocess.Popen[str]) -> dict:
    return demo_summary(run, timeout=180)


def test_two_runs_on_one_cluster_keep_to_their_own_topics(bootstrap: str) -> None:
    first = _demo(bootstrap)
    assert first.stderr is not None
    first.stderr.readline()  # its first progress line: its topics exist and it publishes
    second = _demo(bootstrap)
    results = [_result(first), _result(second)]
    for result in results:
        assert result["invariants_hold"] and result["drained"]
        assert result["published"] == result["traced"] == 300
        assert result["lag"] == 0
    ours = {r["destination"] for r in results}
    assert len(ours) == 2
    topics = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
    assert not ours & set(topics)  # each run deleted its own topics
