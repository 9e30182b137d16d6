"""The registry's rules hold on every storage: memory, SQLite and PostgreSQL.

The same scenarios run against each, in process; what only a database can promise
(the state outlives the registry, another instance sees it) is checked by opening the
storage a second time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from eventscope.cli import main
from eventscope.registry import (
    IncompatibleSchemaError,
    InvalidSchemaError,
    SubjectNotFoundError,
    SubjectNotSoftDeletedError,
)
from eventscope.registry.storage import Storage, StorageError, open_storage
from eventscope.registry.store import RegistryStore
from eventscope.schemas import Mode

pytest.importorskip("fastavro")


def enum(*symbols: str) -> str:
    return json.dumps({"type": "enum", "name": "Colour", "symbols": list(symbols)})


def _url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "memory":
        return "memory"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _url(request.param, request, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _url(request.param, request, tmp_path)


@pytest.fixture
def opened(storage_url: str) -> Iterator[Callable[[], Storage]]:
    """Open the test's storage again each time it is asked (for memory, hand out the
    one storage again: it cannot be opened twice); all are closed afterwards."""
    storages: list[Storage] = []

    def open_again() -> Storage:
        if storage_url != "memory" or not storages:
            storages.append(open_storage(storage_url))
        return storages[-1]

    yield open_again
    for storage in storages:
        storage.close()


def test_ids_versions_and_levels_follow_confluents_rules(
    opened: Callable[[], Storage],
) -> None:
    store = RegistryStore(storage=opened())
    first = store.register("colours-value", enum("RED"), "AVRO")
    assert first.version == 1
    again = store.register("colours-value", json.dumps(json.loads(enum("RED")), indent=2), "AVRO")
    assert again == first  # the same schema up to whitespace: no new version
    assert store.register("palette-value", enum("RED"), "AVRO").id == first.id
    second = store.register("colours-value", enum("RED", "GREEN"), "AVRO")
    assert (second.version, second.id != first.id) == (2, True)

    store.set_compatibility("FORWARD", "colours-value")
    assert store.compatibility("colours-value") is Mode.FORWARD
    with pytest.raises(IncompatibleSchemaError):
        store.register("colours-value", enum("RED", "GREEN", "BLUE"), "AVRO")  # old readers fail
    assert store.versions("colours-value") == [1, 2]

    assert store.delete_subject("colours-value") == [1, 2]
    with pytest.raises(SubjectNotFoundError):
        store.versions("colours-value")
    third = store.register("colours-value", enum("BLUE"), "AVRO")
    assert third.version == 3  # numbering continues after a soft delete
    with pytest.raises(SubjectNotSoftDeletedError):
        store.delete_subject("colours-value", permanent=True)
    store.delete_subject("colours-value")
    assert store.delete_subject("colours-value", permanent=True) == [1, 2, 3]
    assert store.register("colours-value", enum("RED"), "AVRO").version == 1
    assert store.uses(first.id) == [("colours-value", 1), ("palette-value", 1)]


def test_a_reopened_storage_holds_everything(durable_url: str) -> None:
    first, second = open_storage(durable_url), open_storage(durable_url)
    try:
        _reopened_holds_everything(first, second)
    finally:
        first.close()
        second.close()


def _reopened_holds_everything(first: Storage, second: Storage) -> None:
    store = RegistryStore(storage=first)
    registered = store.register("colours-value", enum("RED"), "AVRO")
    store.register("colours-value", enum("RED", "GREEN"), "AVRO")
    store.set_compatibility("FULL")
    store.set_compatibility("NONE", "colours-value")

    reopened = RegistryStore(storage=second)  # a restart, or a second instance
    assert reopened.versions("colours-value") == [1, 2]
    assert reopened.version("colours-value", 1) == registered
    assert reopened.compatibility() is Mode.FULL
    assert reopened.compatibility("colours-value") is Mode.NONE
    assert reopened.register("other-value", enum("RED"), "AVRO").id == registered.id
    assert reopened.delete_compatibility() is Mode.FULL
    assert store.compatibility() is Mode.BACKWARD  # back to the instance's default


def optional_field(name: str) -> str:
    """A record every other one of its kind is BACKWARD compatible with: its only field
    is optional."""
    field = {"name": name, "type": ["null", "string"], "default": None}
    return json.dumps({"type": "record", "name": "R", "fields": [field]})


@pytest.mark.parametrize("level", [Mode.NONE, Mode.BACKWARD])
def test_concurrent_writers_get_contiguous_versions_and_one_id_per_schema(
    opened: Callable[[], Storage], level: Mode
) -> None:
    """Two stores on one storage (two instances on one database, for SQLite and
    PostgreSQL), 8 threads each, registering into shared subjects.  Under BACKWARD each
    registration is judged against the latest version, which the others keep changing:
    the judged-again path."""
    stores = [RegistryStore(level, opened()), RegistryStore(level, opened())]
    schema = enum if level is Mode.NONE else optional_field
    answers: list[tuple[str, str, int, int]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def work(store: RegistryStore, worker: int) -> None:
        try:
            for index in range(15):
                subject = f"shared-{index % 3}"
                unique = schema(f"W{worker}_{index}")
                common = schema(f"COMMON_{index % 5}")
                for text in (unique, common):
                    done = store.register(subject, text, "AVRO")
                    with lock:
                        answers.append((subject, text, done.version, done.id))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [
        threading.Thread(target=work, args=(store, number * 2 + index))
        for number in range(8)
        for index, store in enumerate(stores)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures

    ids: dict[str, set[int]] = {}
    for _, schema, _, schema_id in answers:
        ids.setdefault(schema, set()).add(schema_id)
    assert all(len(found) == 1 for found in ids.values())  # one id per schema
    assert len(set.union(*ids.values())) == len(ids)  # and one schema per id
    reader = stores[0]
    for subject in ("shared-0", "shared-1", "shared-2"):
        versions = reader.versions(subject)
        assert versions == list(range(1, len(versions) + 1))  # contiguous
        held = {(subject, reader.version(subject, n).schema) for n in versions}
        answered = {
            (s, json.dumps(json.loads(text), separators=(",", ":")))
            for s, text, _, _ in answers
            if s == subject
        }
        assert held == answered  # nothing lost, nothing added
        assert len(versions) == len(held)  # nothing registered twice


def test_a_storage_url_that_names_nothing_is_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StorageError, match="is not a storage"):
        open_storage("mysql://localhost/registry")
    assert main(["registry", "serve", "--storage", "mongodb://x"]) == 2
    assert "'mongodb://x' is not a storage" in capsys.readouterr().err
    assert main(["registry", "serve", "--storage", "postgresql://postgres@127.0.0.1:1/x"]) == 2
    assert "cannot open the database" in capsys.readouterr().err
    assert main(["registry", "serve", "--storage", f"sqlite:///{tmp_path}"]) == 2
    assert "unable to open database file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_an_invalid_schema_leaves_no_trace(opened: Callable[[], Storage]) -> None:
    store = RegistryStore(storage=opened())
    with pytest.raises(InvalidSchemaError):
        store.register("colours-value", '{"type": "enum"', "AVRO")
    assert store.subjects() == []


def test_a_database_of_an_older_version_is_migrated_in_place(durable_url: str) -> None:
    """A database made by the first release of the tables (migration 1 only) gets
    migration 2 when opened: the modes table, and the references table filled from the
    schemas already there."""
    from eventscope.registry.storage.sql import (
        CREATE_MIGRATIONS,
        MIGRATIONS,
        postgres_dialect,
        sqlite_dialect,
    )

    refs = json.dumps([{"name": "acme.Money", "subject": "money", "version": 1}])
    rows = [
        ("f1", "AVRO", '"long"', "[]"),
        ("f2", "AVRO", '{"type":"record","name":"O","fields":[]}', refs),
    ]
    first = [
        statement for number, statements in MIGRATIONS if number == 1 for statement in statements
    ]
    if durable_url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(durable_url.removeprefix("sqlite:///")) as db:
            for statement in [CREATE_MIGRATIONS, *first]:
                db.execute(sqlite_dialect(statement))
            db.execute("INSERT INTO registry_migrations VALUES (1, 'then')")
            db.executemany(
                "INSERT INTO registry_schemas (fingerprint, schema_type, schema, refs)"
                " VALUES (?, ?, ?, ?)",
                rows,
            )
            db.execute("INSERT INTO registry_versions VALUES ('money', 1, 1, FALSE)")
            db.execute("INSERT INTO registry_versions VALUES ('orders', 1, 2, FALSE)")
    else:
        import psycopg

        with psycopg.connect(durable_url, autocommit=True) as db:
            for statement in [CREATE_MIGRATIONS, *first]:
                db.execute(postgres_dialect(statement))
            db.execute("INSERT INTO registry_migrations VALUES (1, 'then')")
            for row in rows:
                db.execute(
                    "INSERT INTO registry_schemas (fingerprint, schema_type, schema, refs)"
                    " VALUES (%s, %s, %s, %s)",
                    row,
                )
            db.execute("INSERT INTO registry_versions VALUES ('money', 1, 1, FALSE)")
            db.execute("INSERT INTO registry_versions VALUES ('orders', 1, 2, FALSE)")

    storage = open_storage(durable_url)
    try:
        assert storage.referencing("money", 1) == [2]
        assert storage.mode(None) is None
        storage.set_mode("money", "READONLY")
        store = RegistryStore(storage=storage)
        assert store.versions("orders") == [1]
        assert store.mode("money") == "READONLY"
    finally:
        storage.close()
    reopened = open_storage(durable_url)  # migrations are applied once
    reopened.close()
