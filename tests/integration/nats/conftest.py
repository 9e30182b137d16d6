"""NATS test fixtures, on the session's private JetStream server (``nats_url``, in
``tests/integration/conftest.py``); names are unique per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import nats
import pytest


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[nats.NATS]:
    connection = await nats.connect(nats_url)
    yield connection
    await connection.close()


@pytest.fixture
def name() -> str:
    """A name no other test uses (streams: letters, digits, '-' and '_')."""
    return f"t-{uuid.uuid4().hex[:10]}"
