"""A PostgreSQL database per test (the machine's server, trust authentication) and the
session's private Redis; every table, stream and key is this test's own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.postgres import database

pytest.importorskip("psycopg", reason="the postgres extra is not installed")


@pytest.fixture
def postgres_dsn() -> Iterator[str]:
    with database("eventscope_outbox") as url:
        yield url


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def stream(client: redis.Redis) -> Iterator[str]:
    key = f"orders-{uuid.uuid4().hex[:10]}"
    yield key
    client.delete(key)
