"""NATS with JetStream for the integration tests: a private server per test session.

``nats-server`` (Debian's package; ``.ci/services.sh`` installs it) is started on a free
loopback port with its JetStream store in a temporary directory, so the tests share
nothing with the machine's own server or with another test run; names are unique per
test as well.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if not Path(binary).exists():
        pytest.fail("nats-server is not installed; run `bash .ci/services.sh`")
    port = _free_port()
    store = tmp_path_factory.mktemp("jetstream")
    server = subprocess.Popen(
        [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail(f"nats-server did not start on port {port}")
            time.sleep(0.02)
    yield f"nats://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[nats.NATS]:
    connection = await nats.connect(nats_url)
    yield connection
    await connection.close()


@pytest.fixture
def name() -> str:
    """A name no other test uses (streams: letters, digits, '-' and '_')."""
    return f"t-{uuid.uuid4().hex[:10]}"
