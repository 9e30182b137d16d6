"""Redis test fixtures, on the session's private server (``redis_url``, in
``tests/integration/conftest.py``); keys are unique per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def name(client: redis.Redis) -> Iterator[str]:
    """A stream key no other test uses; it and its ``.dlq`` are deleted afterwards."""
    key = f"t-{uuid.uuid4().hex[:10]}"
    yield key
    client.delete(key, key + ".dlq")
