"""The in-memory bus: partitions, consumer groups, committed offsets, retries, DLQ."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from eventscope import InMemoryBus, Message
from eventscope.instrumentation import headers as h


def test_same_key_same_partition_and_offsets_grow() -> None:
    bus = InMemoryBus(partitions=4)
    first = bus.publish("t", 1, key="customer-1")
    second = bus.publish("t", 2, key="customer-1")
    assert first.partition == second.partition
    assert second.offset == first.offset + 1
    assert sum(bus.end_offsets("t")) == 2


def test_groups_consume_independently_and_lag_is_end_minus_committed() -> None:
    bus = InMemoryBus(partitions=2)
    seen: dict[str, list] = {"a": [], "b": []}
    bus.subscribe("t", "a", lambda m: seen["a"].append(m.value))
    bus.subscribe("t", "b", lambda m: seen["b"].append(m.value))
    for i in range(10):
        bus.publish("t", i)
    assert bus.lag("a", "t") == 10
    bus.dispatch(limit=4)  # the two groups take turns: 2 each
    assert bus.lag("a", "t") == 8 and bus.lag("b", "t") == 8
    bus.dispatch()
    assert sorted(seen["a"]) == sorted(seen["b"]) == list(range(10))
    assert bus.lag("a", "t") == 0
    assert sum(bus.committed("a", "t")) == 10


def test_members_of_one_group_share_partitions() -> None:
    bus = InMemoryBus(partitions=4)
    by_member: dict[int, set[int]] = {0: set(), 1: set()}
    bus.subscribe("t", "g", lambda m: by_member[0].add(m.partition))
    bus.subscribe("t", "g", lambda m: by_member[1].add(m.partition))
    for i in range(40):
        bus.publish("t", i, key=i)
    bus.dispatch()
    assert by_member[0] and by_member[1]
    assert not by_member[0] & by_member[1]
    assert by_member[0] | by_member[1] == {0, 1, 2, 3}


def test_failing_message_is_retried_then_dead_lettered_with_its_headers() -> None:
    bus = InMemoryBus()
    attempts: list[int] = []

    def handler(message: Message) -> None:
        attempts.append(message.attempt)
        raise RuntimeError("poison")

    bus.subscribe("t", "g", handler, max_attempts=3)
    bus.publish("t", "bad", headers={h.TRACEPARENT: "tp", h.EVENT_ID: "e1"})
    bus.publish("t", "next")
    bus.dispatch()
    assert attempts == [1, 2, 3, 1, 2, 3]
    assert bus.lag("g", "t") == 0
    (dlq,) = bus.end_offsets("t.dlq")
    assert dlq == 2
    depth = {d.destination: d.messages for d in bus.dead_letter_depths()}
    assert depth == {"t.dlq": 2}
    dead = []
    bus.subscribe("t.dlq", "auditor", dead.append, dead_letter_topic=None)
    bus.dispatch()
    assert dead[0].headers[h.TRACEPARENT] == "tp"
    assert dead[0].headers[h.DEAD_LETTER_REASON] == "RuntimeError"
    assert dead[0].headers[h.ORIGINAL_DESTINATION] == "t"
    assert {d.destination: d.messages for d in bus.dead_letter_depths()} == {"t.dlq": 0}


def test_a_handler_can_settle_the_message_itself() -> None:
    bus = InMemoryBus()
    bus.subscribe("t", "g", lambda m: m.dead_letter("invalid schema"))
    bus.publish("t", "x")
    bus.dispatch()
    dead = []
    bus.subscribe("t.dlq", "a", dead.append, dead_letter_topic=None)
    bus.dispatch()
    assert dead[0].headers[h.DEAD_LETTER_REASON] == "invalid schema"


def test_redelivery_rate_delivers_handled_messages_again() -> None:
    bus = InMemoryBus(redelivery_rate=0.5, seed=1)
    values: list[int] = []
    bus.subscribe("t", "g", lambda m: values.append(m.value))
    for i in range(200):
        bus.publish("t", i)
    bus.dispatch()
    assert set(values) == set(range(200))
    assert 60 < len(values) - 200 < 140
    assert bus.lag("g", "t") == 0


def test_lag_readings_report_messages_and_age_per_partition() -> None:
    bus = InMemoryBus(partitions=2)
    bus.subscribe("t", "g", lambda m: None)
    bus.publish("t", 1, partition=0)
    time.sleep(0.05)
    readings = {r.partition: r for r in bus.lag_readings() if r.destination == "t"}
    assert readings["0"].messages == 1 and readings["0"].seconds >= 0.05
    assert readings["1"].messages == 0 and readings["1"].seconds == 0.0


def test_threads_drain_and_stop() -> None:
    bus = InMemoryBus(partitions=3)
    done = []
    lock = threading.Lock()

    def handler(message: Message) -> None:
        with lock:
            done.append(message.value)

    bus.subscribe("t", "g", handler)
    bus.start()
    try:
        for i in range(300):
            bus.publish("t", i, key=i)
        assert bus.drain(timeout=10)
        assert sorted(done) == list(range(300))
        late = []
        bus.subscribe("t", "late", late.append)  # joins a running bus
        assert bus.drain(timeout=10)
        assert len(late) == 300
    finally:
        bus.stop()


def test_async_handlers_run_on_the_subscription_loop() -> None:
    bus = InMemoryBus()
    got = []

    async def handler(message: Message) -> None:
        await asyncio.sleep(0)
        got.append(message.value)

    bus.subscribe("t", "g", handler)
    bus.publish("t", "x")
    bus.dispatch()
    assert got == ["x"]


@pytest.mark.parametrize("kwargs", [{"partitions": 0}, {"redelivery_rate": 1.0}])
def test_bad_arguments_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        InMemoryBus(**kwargs)
