"""confluent-kafka and aiokafka: the contrib instrumentation on one side, eventscope on
the other, each in a process of its own, against Tansu (see tests/integration/interop.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.interop import DIRECTIONS, check_pair

pytestmark = pytest.mark.kafka


@pytest.mark.parametrize("library", ["confluent-kafka", "aiokafka"])
@pytest.mark.parametrize(("producer", "consumer"), DIRECTIONS)
def test_one_trace_across_processes(
    bootstrap: str, new_topic: Callable[..., str], library: str, producer: str, consumer: str
) -> None:
    check_pair(library, producer, consumer, bootstrap, new_topic())
