"""How much the schema registry serves, on each storage, and how steady it stays.

Run from the repository root (``make bench`` does)::

    python bench/registry.py [--seconds 5] [--threads 16] [--clients 200]
        [--storage memory --storage sqlite --storage postgresql] [--json]

Each storage gets a real ``eventscope registry serve`` process (PostgreSQL: a database
created for the run on 127.0.0.1:5432 and dropped after; skipped, saying so, when no
server answers there).  The load comes from this process, over keep-alive HTTP/1.1
connections, one per client thread:

(a) **registrations/s**: ``--threads`` clients registering new Avro schemas (each a new
    version, compatibility NONE, so the figure is the registry's and the storage's cost,
    not the checker's);
(b) **lookups/s**: the same clients reading schemas by id, as every deserialiser does
    (``GET /schemas/ids/{id}``), and the latest version of a subject, as
    ``use.latest.version`` does;
(c) **latency under load**: ``--clients`` clients, each reading ``--rate`` times a
    second (by default 2,000 requests/s offered in all), for ``--seconds``, first
    alone, then while one more registers a 40,000-symbol Avro enum (469 KB): p50, p99,
    max and connection resets, and how long the enum took.  Clients that never pause would
    measure queueing instead (200 requests always waiting: p50 = 200 / throughput).

The issue's goals are printed next to the figures: ≥ 2,000 lookups/s, ≥ 300
registrations/s, p99 < 100 ms, no reset.  Ratios are against the memory storage
measured in the same run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
GOALS = {"lookups": 2000, "registrations": 300, "p99_ms": 100}


class Server:
    """``eventscope registry serve`` on a storage, in a process of its own."""

    def __init__(self, storage: str, cwd: Path) -> None:
        command = [sys.executable, "-m", "eventscope.cli", "registry", "serve", "--port", "0"]
        self.process = subprocess.Popen(
            [*command, "--storage", storage, "--compatibility", "NONE"],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        if "serving at " not in banner:
            self.process.kill()
            raise SystemExit(f"the registry did not start on {storage}")
        host_port = banner.split("serving at http://")[1].split()[0]
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


class Client:
    """One keep-alive connection; reconnects (counting a reset) when the server drops it."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.resets = 0
        self.connection = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.server.host, self.server.port, timeout=120)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": CONTENT_TYPE} if data else {}
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                reply = json.loads(response.read())
                if response.status != 200:
                    raise RuntimeError(f"{method} {path}: {response.status} {reply}")
                return reply
            except (ConnectionError, http.client.HTTPException):
                self.resets += 1
                self.connection.close()
                self.connection = self._connect()
                if attempt == 2:
                    raise
        return None


def enum(symbols: list[str], name: str = "Colour") -> dict[str, Any]:
    return {"schema": json.dumps({"type": "enum", "name": name, "symbols": symbols})}


def run_threads(count: int, work: Any) -> None:
    threads = [threading.Thread(target=work, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def registrations(server: Server, threads: int, seconds: float) -> tuple[float, list[int]]:
    """Registrations per second; the ids registered."""
    ids: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    tag = uuid.uuid4().hex[:6]

    def work(index: int) -> None:
        client = Client(server)
        done = 0
        while time.monotonic() < deadline:
            reply = client.call(
                "POST", f"/subjects/bench-{index % 4}/versions", enum([f"S{tag}_{index}_{done}"])
            )
            done += 1
            with lock:
                ids.append(reply["id"])

    started = time.monotonic()
    run_threads(threads, work)
    return len(ids) / (time.monotonic() - started), ids


def lookups(server: Server, threads: int, seconds: float, ids: list[int]) -> float:
    count = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def work(index: int) -> None:
        client = Client(server)
        done = 0
        while time.monotonic() < deadline:
            if done % 2:
                client.call("GET", f"/subjects/bench-{index % 4}/versions/latest")
            else:
                client.call("GET", f"/schemas/ids/{ids[(index * 7919 + done) % len(ids)]}")
            done += 1
        with lock:
            count[0] += done

    started = time.monotonic()
    run_threads(threads, work)
    return count[0] / (time.monotonic() - started)


def under_load(
    server: Server, clients: int, seconds: float, rate: float, *, with_enum: bool
) -> dict[str, float]:
    """Latency of readers (while a 40,000-symbol enum is registered, ``with_enum``)."""
    latencies: list[float] = []
    resets = [0]
    lock = threading.Lock()
    stop = threading.Event()
    big = enum([f"SYM{n:05d}" for n in range(40_000)], name=f"Big{uuid.uuid4().hex[:6]}")
    enum_seconds = [0.0]

    def reader(index: int) -> None:
        client = Client(server)
        mine: list[float] = []
        # each client asks ``rate`` times a second, starting at a moment of its own
        due = time.perf_counter() + index / (clients * rate)
        while not stop.is_set():
            time.sleep(max(0.0, due - time.perf_counter()))
            due += 1 / rate
            started = time.perf_counter()
            client.call("GET", "/subjects/bench-0/versions/latest")
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
            resets[0] += client.resets

    def writer() -> None:
        time.sleep(seconds / 5)  # the readers are all busy first
        started = time.perf_counter()
        Client(server).call("POST", "/subjects/bench-big/versions", big)
        enum_seconds[0] = time.perf_counter() - started

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(clients)]
    threads.append(threading.Thread(target=writer if with_enum else lambda: None))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    threads[-1].join()
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    return {
        "requests_per_second": len(ordered) / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[int(len(ordered) * 0.99) - 1],
        "max_ms": 1000 * ordered[-1],
        "resets": resets[0],
        "enum_seconds": enum_seconds[0] if with_enum else None,
        "enum_kb": len(big["schema"]) / 1024,
    }


def storage_url(kind: str, workdir: Path) -> str | None:
    if kind == "memory":
        return "memory"
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    try:
        import psycopg
    except ImportError:
        print("postgresql: skipped, psycopg is not installed (pip install 'eventscope[postgres]')")
        return None
    name = f"eventscope_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=5) as db:
            db.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"postgresql: skipped, no server at {POSTGRES}: {exc}")
        return None
    return f"{POSTGRES}/{name}"


def drop(url: str) -> None:
    if url.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument(
        "--rate", type=float, default=10.0, help="requests per second of each client under load"
    )
    parser.add_argument("--storage", action="append", choices=["memory", "sqlite", "postgresql"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="eventscope-bench-") as tmp:
        for kind in args.storage or ["memory", "sqlite", "postgresql"]:
            url = storage_url(kind, Path(tmp))
            if url is None:
                continue
            server = Server(url, Path(tmp))
            try:
                rate, ids = registrations(server, args.threads, args.seconds)
                results[kind] = {
                    "registrations_per_second": rate,
                    "lookups_per_second": lookups(server, args.threads, args.seconds, ids),
                    "under_load": under_load(
                        server, args.clients, args.seconds, args.rate, with_enum=False
                    ),
                    "under_load_with_enum": under_load(
                        server, args.clients, args.seconds, args.rate, with_enum=True
                    ),
                }
            finally:
                server.stop()
                drop(url)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    base = results.get("memory")
    print(
        f"schema registry on {os.cpu_count()} CPU(s), {args.threads} client threads; under "
        f"load: {args.clients} clients asking {args.rate:g} times a second each"
    )
    goals = (
        f"goals: >= {GOALS['registrations']} registrations/s, >= {GOALS['lookups']} "
        f"lookups/s, p99 < {GOALS['p99_ms']} ms, 0 resets"
    )
    print(goals)
    for kind, figures in results.items():
        ratio = ""
        if base is not None and kind != "memory":
            registered = figures["registrations_per_second"] / base["registrations_per_second"]
            looked_up = figures["lookups_per_second"] / base["lookups_per_second"]
            ratio = f"  (vs memory: registrations x{registered:.2f}, lookups x{looked_up:.2f})"
        print(
            f"{kind:>10}: {figures['registrations_per_second']:7.0f} registrations/s, "
            f"{figures['lookups_per_second']:7.0f} lookups/s{ratio}"
        )
        for label, load in (
            ("readers only", figures["under_load"]),
            ("40,000-symbol enum", figures["under_load_with_enum"]),
        ):
            took = (
                f" ({load['enum_kb']:.0f} KB, registered in {load['enum_seconds']:.2f} s)"
                if load["enum_seconds"] is not None
                else ""
            )
            print(
                f"{'':>12}{label}{took}: {load['requests_per_second']:.0f} req/s, "
                f"p50 {load['p50_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms, "
                f"max {load['max_ms']:.0f} ms, {load['resets']} reset(s)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
