"""The whole stack for the fidelity suite: demos on real brokers, the lag exporter,
Debian's Prometheus loading the generated rules, and a TCP forwarder to cut a broker off.

Every process is a real command (``eventscope demo``, ``eventscope lag serve``,
``prometheus``) started with names of its own (a uuid per run), so the suite can share
the brokers with other runs.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from eventscope.config import Config
from eventscope.generate import generated_files
from eventscope.generate.documents import ALERTS
from tests.alerts.tools import binary

EVENTSCOPE = str(Path(sys.executable).with_name("eventscope"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


class QueryError(AssertionError):
    """Prometheus refused a query (a PromQL error in a generated expression)."""


@dataclass
class Prometheus:
    url: str
    at: float | None = None
    """Evaluate instant queries at this time (``None``: now)."""

    def query(self, expr: str) -> list[dict[str, Any]]:
        fields = {"query": expr}
        if self.at is not None:
            fields["time"] = f"{self.at:.3f}"
        request = urllib.request.Request(
            f"{self.url}/api/v1/query", data=urllib.parse.urlencode(fields).encode()
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = json.load(response)
        except urllib.error.HTTPError as exc:
            raise QueryError(f"{expr}\n→ {exc.code}: {exc.read().decode()}") from None
        if body["status"] != "success":
            raise QueryError(f"{expr}\n→ {body}")
        return body["data"]["result"]

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False


def start_prometheus(
    root: Path, config: Config, jobs: dict[str, tuple[list[int], str]]
) -> tuple[subprocess.Popen, Prometheus]:
    """Prometheus scraping ``jobs`` (name → (ports, interval)) with the generated rules."""
    for name, content in generated_files(config).items():
        if name.startswith(f"{ALERTS}/"):
            (root / Path(name).name).write_bytes(content)
    web_port = free_port()
    scrape_configs = [
        {
            "job_name": job,
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "static_configs": [{"targets": [f"127.0.0.1:{p}" for p in ports]}],
        }
        for job, (ports, interval) in jobs.items()
    ]
    (root / "prometheus.yml").write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": sorted(p.name for p in root.glob("*-rules.yaml")),
                "scrape_configs": scrape_configs,
            }
        )
    )
    server = subprocess.Popen(
        [
            binary("prometheus"),
            f"--config.file={root / 'prometheus.yml'}",
            f"--storage.tsdb.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{web_port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(root / "prometheus.log").open("w"),
    )
    prom = Prometheus(f"http://127.0.0.1:{web_port}")
    wait_for(prom.ready, "Prometheus to start", 30)
    return server, prom


def start(args: list[str], log: Path) -> subprocess.Popen:
    """A command of the stack, its output in ``log``."""
    return subprocess.Popen(
        args,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Forwarder:
    """A TCP port that forwards to a broker while up and refuses connections while down.

    Taking it down closes the listening socket and every open connection, as a broker
    behind a failed network path looks to a client: the lag target is unreachable.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._closed = threading.Event()

    def up(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        listener.settimeout(0.2)
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = self._open, []
        if listener is not None:
            listener.close()
        for s in sockets:
            s.close()

    def close(self) -> None:
        self._closed.set()
        self.down()

    def _accept(self, listener: socket.socket) -> None:
        while not self._closed.is_set():
            with self._lock:
                if self._listener is not listener:
                    return
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(a, selectors.EVENT_READ, b)
            selector.register(b, selectors.EVENT_READ, a)
            try:
                while True:
                    for key, _ in selector.select(timeout=1):
                        data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                        if not data:
                            return
                        key.data.sendall(data)
            except OSError:
                return
            finally:
                a.close()
                b.close()
