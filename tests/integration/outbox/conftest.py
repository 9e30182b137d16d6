"""A PostgreSQL database per test (the machine's server, trust authentication) and the
session's private Redis; every table, stream and key is this test's own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

psycopg = pytest.importorskip("psycopg", reason="the postgres extra is not installed")

SERVER = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture
def postgres_dsn() -> Iterator[str]:
    name = f"eventscope_outbox_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
