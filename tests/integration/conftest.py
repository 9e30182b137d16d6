"""The brokers the test sessions start themselves, one of each per session, on free
loopback ports: Tansu (Kafka), ``nats-server`` with JetStream and ``redis-server``.

They are here rather than in each broker's folder because ``test_demo.py`` runs the
demo on every broker, and a fixture of a subfolder's conftest is not visible from this
folder.  Each starts only when a test asks for it: a run of the NATS tests starts no
Tansu.  ``nats-server`` and ``redis-server`` are Debian's packages
(``.ci/services.sh`` installs them); their stores are temporary directories, so the
tests share nothing with the machine's own servers or another run.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from eventscope.demo.transports.tansu import Tansu, free_port


@pytest.fixture(scope="session")
def bootstrap() -> Iterator[str]:
    with Tansu() as broker:
        yield broker.bootstrap


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if not Path(binary).exists():
        pytest.fail("nats-server is not installed; run `bash .ci/services.sh`")
    port = free_port()
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


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; run `bash .ci/services.sh`")
    port = free_port()
    server = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path_factory.mktemp("redis")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.02)
    client.close()
    yield url
    server.terminate()
    server.wait(timeout=10)
