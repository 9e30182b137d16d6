"""Kafka test fixtures, on the session's Tansu broker (``bootstrap``, in
``tests/integration/conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.kafka.helpers import create_topics, unique


@pytest.fixture
def new_topic(bootstrap: str) -> Callable[..., str]:
    """Create a topic with a unique name (and, with ``dead_letter=True``, its ``.dlq``)."""

    def create(partitions: int = 1, *, dead_letter: bool = False) -> str:
        name = unique("orders")
        create_topics(bootstrap, {name: partitions, **({name + ".dlq": 1} if dead_letter else {})})
        return name

    return create
