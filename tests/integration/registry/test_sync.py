"""``eventscope schema push`` and ``pull`` between a schemas directory and a registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eventscope.cli import main
from eventscope.registry import EmbeddedRegistry, RegistryClient

pytest.importorskip("fastavro")

MONEY = {
    "type": "record",
    "name": "Money",
    "namespace": "acme",
    "fields": [{"name": "cents", "type": "long"}],
}


def order(*extra: dict[str, Any]) -> dict[str, Any]:
    fields = [{"name": "id", "type": "string"}, {"name": "total", "type": "acme.Money"}, *extra]
    return {"type": "record", "name": "Order", "namespace": "acme", "fields": fields}


def write(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    root = tmp_path / "schemas"
    write(root / "_shared" / "money.avsc", MONEY)
    write(
        root / "orders-value" / "config.toml",
        'compatibility = "FULL"\n[references]\n"acme.Money" = "../_shared/money.avsc"\n',
    )
    write(root / "orders-value" / "v1.avsc", order())
    write(
        root / "orders-value" / "v2-note.avsc",
        order({"name": "note", "type": ["null", "string"], "default": None}),
    )
    write(
        root / "payments-value" / "v1.proto",
        'syntax = "proto3";\nmessage Payment {\n  int64 cents = 1;\n}\n',
    )
    return root


@pytest.fixture
def registry() -> Iterator[EmbeddedRegistry]:
    with EmbeddedRegistry() as running:
        yield running


def test_push_registers_what_is_missing_and_refuses_with_the_checkers_messages(
    schemas: Path, registry: EmbeddedRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", "push", str(schemas), "--registry", registry.url]) == 0
    out = capsys.readouterr().out
    assert "orders-value: registered" in out and "payments-value: registered" in out
    client = RegistryClient(registry.url)
    assert client.versions("orders-value") == [1, 2]
    assert client.latest("orders-value").references[0].name == "acme.Money"
    assert str(client.compatibility("orders-value", inherit=False)) == "FULL"

    assert main(["schema", "push", str(schemas), "--registry", registry.url]) == 0
    assert "orders-value: up to date (2 version(s))" in capsys.readouterr().out

    write(schemas / "orders-value" / "v3.avsc", order({"name": "note", "type": "string"}))
    assert main(["schema", "push", str(schemas), "--registry", registry.url]) == 1
    out = capsys.readouterr().out
    assert "orders-value: REFUSED" in out and "v3.avsc" in out
    assert "A reader of type string cannot read data written as null" in out  # the checker
    assert client.versions("orders-value") == [1, 2]  # nothing sent


def test_pull_writes_a_directory_check_dir_accepts(
    schemas: Path, registry: EmbeddedRegistry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", "push", str(schemas), "--registry", registry.url]) == 0
    pulled = tmp_path / "pulled"
    assert main(["schema", "pull", str(pulled), "--registry", registry.url]) == 0
    assert json.loads((pulled / "orders-value" / "v2.avsc").read_text()) == json.loads(
        (schemas / "orders-value" / "v2-note.avsc").read_text()
    )
    assert (pulled / "payments-value" / "v1.proto").read_text().startswith('syntax = "proto3"')
    capsys.readouterr()
    assert main(["schema", "check-dir", str(pulled / "orders-value" / "..")]) == 0

    assert main(["schema", "pull", str(pulled), "--registry", registry.url]) == 0
    assert "orders-value: up to date (2 version(s))" in capsys.readouterr().out
    write(pulled / "orders-value" / "v1.avsc", order({"name": "x", "type": "int"}))
    assert (
        main(
            ["schema", "pull", str(pulled), "--registry", registry.url, "--subject", "orders-value"]
        )
        == 1
    )
    assert "CONFLICT" in capsys.readouterr().out


def test_an_unreachable_registry_or_bad_directory_is_exit_2(
    schemas: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schema", "push", str(schemas), "--registry", "http://127.0.0.1:1"]) == 2
    assert "cannot reach the schema registry" in capsys.readouterr().err
    assert (
        main(["schema", "push", str(tmp_path / "missing"), "--registry", "http://127.0.0.1:1"]) == 2
    )
    assert main(["schema", "pull", str(tmp_path), "--registry", "ftp://x"]) == 2
