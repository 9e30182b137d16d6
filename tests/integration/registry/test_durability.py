"""What a registry process promises once it has answered: ``kill -9`` loses nothing it
acknowledged, and instances sharing one PostgreSQL never disagree.

Real ``eventscope registry serve`` processes, real SQLite files and a real PostgreSQL
database; writers are HTTP clients, as producers registering schemas are.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from eventscope.registry import RegistryClient, RegistryError
from tests.integration.registry.conftest import Served

pytest.importorskip("fastavro")

WRITERS = 8
SUBJECTS = ("shared-0", "shared-1", "shared-2", "shared-3")


def enum(symbol: str) -> str:
    return json.dumps({"type": "enum", "name": "Colour", "symbols": [symbol]})


class Writers:
    """Threads registering schemas through HTTP; ``acked`` holds every answer received:
    (subject, schema, id)."""

    def __init__(self, urls: list[str], count: int | None) -> None:
        self.acked: list[tuple[str, str, int]] = []
        self.failures: list[BaseException] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, args=(url, f"{index}-{worker}", count))
            for index, url in enumerate(urls)
            for worker in range(WRITERS)
        ]
        for thread in self._threads:
            thread.start()

    def join(self, *, stop: bool = False) -> None:
        if stop:
            self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _work(self, url: str, name: str, count: int | None) -> None:
        client = RegistryClient(url, timeout=30)
        index = 0
        while not self._stop.is_set() and (count is None or index < count):
            subject = SUBJECTS[index % len(SUBJECTS)]
            # one schema of this writer's own, one every writer registers too
            for schema in (enum(f"W{name.replace('-', '_')}_{index}"), enum(f"C{index % 7}")):
                try:
                    schema_id = client.register(subject, schema)
                except RegistryError as exc:
                    if count is None:  # the server was killed: expected from now on
                        return
                    self.failures.append(exc)
                    return
                with self._lock:
                    self.acked.append((subject, schema, schema_id))
            index += 1


def assert_consistent(client: RegistryClient, acked: list[tuple[str, str, int]]) -> None:
    """Every acknowledged registration is there with its id; each subject's versions run
    1..n with no schema twice; one id per schema and one schema per id."""
    for subject, schema, schema_id in acked:
        assert client.lookup(subject, schema).id == schema_id
    ids: dict[str, set[int]] = {}
    for _, schema, schema_id in acked:
        ids.setdefault(schema, set()).add(schema_id)
    assert all(len(found) == 1 for found in ids.values())
    assert len(set.union(*ids.values())) == len(ids)
    for subject in SUBJECTS:
        versions = client.versions(subject)
        assert versions == list(range(1, len(versions) + 1))
        held = [client.version(subject, number).schema for number in versions]
        assert len(set(held)) == len(held)


def wait_for(writers: Writers, acknowledged: int) -> None:
    deadline = time.monotonic() + 60
    while len(writers.acked) < acknowledged and not writers.failures:
        assert time.monotonic() < deadline, f"only {len(writers.acked)} registrations in 60 s"
        time.sleep(0.01)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_kill_9_during_writes_loses_no_acknowledged_version(
    kind: str,
    serve: Callable[..., Served],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    storage = (
        f"sqlite:///{tmp_path / 'registry.db'}"
        if kind == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    first = serve(storage, "--compatibility", "NONE")
    writers = Writers([first.url], count=None)
    try:
        wait_for(writers, 300)
        first.kill()  # mid-flight: writers are still sending
    finally:
        writers.join(stop=True)
    assert not writers.failures
    acked = list(writers.acked)

    second = serve(storage, "--compatibility", "NONE")
    assert_consistent(RegistryClient(second.url, timeout=30), acked)


def test_two_instances_on_one_postgresql_agree(
    serve: Callable[..., Served], postgres_url: str
) -> None:
    instances = [serve(postgres_url, "--compatibility", "NONE") for _ in range(2)]
    writers = Writers([instance.url for instance in instances], count=20)
    writers.join()
    assert not writers.failures
    assert len(writers.acked) == 2 * WRITERS * 20 * 2
    for instance in instances:  # both answer the same history
        assert_consistent(RegistryClient(instance.url, timeout=30), writers.acked)
