"""A database of its own on the machine's PostgreSQL (127.0.0.1:5432, trust
authentication), for a test that must not see another run's tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

SERVER = "postgresql://postgres@127.0.0.1:5432"


@contextmanager
def database(prefix: str) -> Iterator[str]:
    """Create ``<prefix>_<random>``, yield its URL, drop it (connections and all)."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER}/{name}"
    finally:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
