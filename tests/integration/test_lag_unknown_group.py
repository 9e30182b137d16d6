"""``eventscope lag --group`` naming a group the broker does not have is an error.

Before, a typo printed "(no consumer groups found)" and exited 0, which a script reads
as "no lag".  Against the real Redis, with a stream and group of this test's own.
"""

from __future__ import annotations

import uuid

import pytest
import redis

from eventscope.cli import main

pytestmark = pytest.mark.redis

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def stream():
    name = f"lag-group-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(REDIS_URL)
    client.xgroup_create(name, "billing", id="0", mkstream=True)
    client.xadd(name, {"n": 1})
    yield name
    client.delete(name)


def _lag(stream: str, *groups: str) -> list[str]:
    args = ["lag", "--broker", "redis", "--url", REDIS_URL, "--option", f"streams={stream}"]
    for group in groups:
        args += ["--group", group]
    return args


def test_an_unknown_group_exits_1_naming_it(stream: str, capsys) -> None:
    assert main(_lag(stream, "billing", "biling")) == 1
    captured = capsys.readouterr()
    assert captured.err == "eventscope lag: redis has no consumer group biling\n"
    assert "billing" in captured.out  # the groups that exist are still shown


def test_known_groups_exit_0(stream: str, capsys) -> None:
    assert main(_lag(stream, "billing")) == 0
    assert capsys.readouterr().err == ""
