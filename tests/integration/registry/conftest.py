"""A PostgreSQL database per test, and registries served by real ``eventscope`` processes.

PostgreSQL is the machine's own server (127.0.0.1:5432, trust authentication): each test
creates a database with a name of its own and drops it afterwards, so runs on the shared
server never see each other's registries.  The registry processes are started exactly
as a team would start them (``eventscope registry serve``), so ``kill -9`` hits a real
process with real file descriptors and real database connections.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.postgres import database

pytest.importorskip("psycopg", reason="the postgres extra is not installed")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with database("eventscope_registry") as url:
        yield url


class Served:
    """One ``eventscope registry serve`` process and the URL it answers at."""

    def __init__(self, storage: str, cwd: Path, *extra: str) -> None:
        command = [sys.executable, "-m", "eventscope.cli", "registry", "serve", "--port", "0"]
        self.process = subprocess.Popen(
            [*command, "--storage", storage, *extra],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        if "serving at " not in banner:
            self.process.kill()
            _, error = self.process.communicate(timeout=10)
            raise AssertionError(f"registry did not start: {banner!r} {error!r}")
        self.banner = banner
        self.url = banner.split("serving at ")[1].split()[0]

    def kill(self) -> None:
        """``kill -9``: no handler runs, nothing is flushed or closed."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate(timeout=10)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start registries with ``serve(storage)``; all are stopped after the test."""
    started: list[Served] = []

    def start(storage: str, *extra: str) -> Served:
        served = Served(storage, tmp_path, *extra)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()
