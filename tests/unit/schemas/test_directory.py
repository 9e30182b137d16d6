"""The schemas directory: layout, config.toml, per-subject verdicts, ``schema check-dir``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from eventscope.errors import UsageError
from eventscope.schemas import Mode
from eventscope.schemas.cli import register
from eventscope.schemas.directory import (
    SchemaDirectoryError,
    Status,
    check_directory,
    load_schema_directory,
)

pytest.importorskip("fastavro")  # the Avro support is an optional extra


def record(name: str, *fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": [{"name": "id", "type": "string"}, *fields]}


REQUIRED_NOTE = {"name": "note", "type": "string"}
OPTIONAL_NOTE = {"name": "note", "type": ["null", "string"], "default": None}


def write(path: Path, content: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    """Three subjects: one compatible, one breaking, one with a single version."""
    root = tmp_path / "schemas"
    write(root / "orders-value" / "v1.avsc", record("Order"))
    write(root / "orders-value" / "v2-add-note.avsc", record("Order", OPTIONAL_NOTE))
    write(root / "payments-value" / "v1.avsc", record("Payment"))
    write(root / "payments-value" / "v2.avsc", record("Payment", REQUIRED_NOTE))
    write(root / "users-value" / "v1.avsc", record("User"))
    write(root / "users-value" / "README.md", "not a schema, ignored")
    write(root / "_shared" / "money.avsc", record("Money"))
    return root


def statuses(root: Path) -> dict[str, Status]:
    return {r.subject.name: r.status for r in check_directory(root).subjects}


def test_each_subject_gets_a_verdict(schemas: Path) -> None:
    report = check_directory(schemas)
    assert statuses(schemas) == {
        "orders-value": Status.OK,
        "payments-value": Status.INCOMPATIBLE,
        "users-value": Status.OK,
    }
    assert report.exit_code == 1
    payments = report.subjects[1]
    (item,) = payments.result.incompatibilities
    assert (item.type, item.version) == ("READER_FIELD_MISSING_DEFAULT_VALUE", 1)
    assert payments.file_of(item) == schemas / "payments-value" / "v1.avsc"


def test_versions_sort_numerically_and_may_have_gaps(tmp_path: Path) -> None:
    root = tmp_path / "schemas"
    for number in (1, 2, 10):
        write(root / "s" / f"v{number}.avsc", record("S"))
    write(root / "s" / "v11.avsc", record("S", REQUIRED_NOTE))
    (subject,) = load_schema_directory(root)
    assert [v.number for v in subject.versions] == [1, 2, 10, 11]
    (report,) = check_directory(root).subjects
    assert report.result.incompatibilities[0].version == 10  # the file's number, not its index


def test_config_sets_mode_top_level_then_subject(schemas: Path) -> None:
    write(schemas / "config.toml", 'compatibility = "full_transitive"\n')
    write(schemas / "payments-value" / "config.toml", 'compatibility = "NONE"\n')
    modes = {s.name: s.mode for s in load_schema_directory(schemas)}
    assert modes == {
        "orders-value": Mode.FULL_TRANSITIVE,
        "payments-value": Mode.NONE,
        "users-value": Mode.FULL_TRANSITIVE,
    }
    assert statuses(schemas)["payments-value"] is Status.OK


def test_default_mode_is_backward(schemas: Path) -> None:
    assert {s.mode for s in load_schema_directory(schemas)} == {Mode.BACKWARD}


def test_config_format_and_references(tmp_path: Path) -> None:
    root = tmp_path / "schemas"
    write(root / "_shared" / "money.avsc", {**record("Money"), "namespace": "com.acme"})
    priced = record("Order", {"name": "price", "type": "com.acme.Money"})
    write(root / "orders" / "v1.json", priced)
    write(root / "orders" / "v2.json", priced)
    write(
        root / "orders" / "config.toml",
        'format = "avro"\n[references]\n"com.acme.Money" = "../_shared/money.avsc"\n',
    )
    (report,) = check_directory(root).subjects
    assert (report.status, report.subject.format) == (Status.OK, "avro")


def test_malformed_version_is_an_error_naming_file_and_place(schemas: Path) -> None:
    broken = write(schemas / "orders-value" / "v3.avsc", '{"type": "record",\n "name": }')
    report = check_directory(schemas)
    orders = report.subjects[0]
    assert orders.status is Status.ERROR
    assert orders.errors[0].startswith(f"{broken}: line 2, column ")
    assert report.exit_code == 2
    assert statuses(schemas)["payments-value"] is Status.INCOMPATIBLE  # others still checked


def test_broken_old_version_is_found_even_if_the_mode_skips_it(schemas: Path) -> None:
    old = write(schemas / "users-value" / "v1.avsc", record("User", {"name": "x", "type": "?"}))
    write(schemas / "users-value" / "v2.avsc", record("User"))
    (error,) = check_directory(schemas).subjects[2].errors
    assert error.startswith(f"{old}: $.fields[1].type: ")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ('compatibility = "SIDEWAYS"', "compatibility = 'SIDEWAYS' is not one of NONE, BACKWARD"),
        ('format = "xml"', "format = 'xml' is not one of avro, json, protobuf"),
        ('mode = "FULL"', "unknown key 'mode'"),
        ("compatibility = ", "line 1, column 17: Invalid value"),
        ('references = "x"', "[references] must be a table"),
        ('[references]\n"a.B" = "nowhere.avsc"', "references.a.B: no such file"),
    ],
)
def test_bad_subject_config_is_an_error_naming_the_file(
    schemas: Path, config: str, expected: str
) -> None:
    config_file = write(schemas / "orders-value" / "config.toml", config + "\n")
    orders = check_directory(schemas).subjects[0]
    assert orders.status is Status.ERROR
    assert orders.errors[0].startswith(f"{config_file}: ")
    assert expected in orders.errors[0]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["v1.avsc", "v01.avsc"], "version 1 is also"),
        (["v1.avsc", "orders.avsc"], "orders.avsc: not a version file"),
        (["v1.avsc", "v2.proto"], "versions mix formats"),
        (["v1.avsc", "v2.avdl"], "idl2schemata"),
        (["notes.txt"], "no versions"),
    ],
)
def test_bad_layout_is_an_error(tmp_path: Path, files: list[str], expected: str) -> None:
    root = tmp_path / "schemas"
    for name in files:
        write(root / "orders" / name, record("Order"))
    (report,) = check_directory(root).subjects
    assert report.status is Status.ERROR
    assert expected in " ".join(report.errors)


def test_directory_level_problems_raise(tmp_path: Path) -> None:
    with pytest.raises(SchemaDirectoryError, match="not a directory"):
        load_schema_directory(tmp_path / "absent")
    write(tmp_path / "_shared" / "x.avsc", record("X"))
    with pytest.raises(SchemaDirectoryError, match="no subjects found"):
        load_schema_directory(tmp_path)
    write(tmp_path / "s" / "v1.avsc", record("S"))
    write(tmp_path / "config.toml", 'compatibility = "LOOSE"\n')
    with pytest.raises(SchemaDirectoryError, match=r"config\.toml: compatibility = 'LOOSE'"):
        load_schema_directory(tmp_path)


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="eventscope")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["schema", *argv])
    return args.run(args)


def test_check_dir_prints_one_block_per_subject(schemas: Path, capsys) -> None:
    assert _run("check-dir", str(schemas)) == 1
    lines = capsys.readouterr().out.splitlines()
    expected = "OK orders-value BACKWARD v2-add-note.avsc against 1 older version(s)"
    assert lines[0].split() == expected.split()
    assert lines[1].split()[:3] == ["INCOMPATIBLE", "payments-value", "BACKWARD"]
    assert (
        lines[2]
        .strip()
        .startswith(
            f"version 1 ({schemas / 'payments-value' / 'v1.avsc'}), backward: "
            "READER_FIELD_MISSING_DEFAULT_VALUE"
        )
    )
    assert lines[-1] == "3 subject(s): 2 ok, 1 incompatible, 0 error"


def test_check_dir_json(schemas: Path, capsys) -> None:
    write(schemas / "users-value" / "v2.avsc", "{")
    assert _run("check-dir", str(schemas), "--json") == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"] == {"OK": 1, "INCOMPATIBLE": 1, "ERROR": 1}
    assert doc["exit_code"] == 2
    orders, payments, users = doc["subjects"]
    assert orders["candidate"] == str(schemas / "orders-value" / "v2-add-note.avsc")
    assert [v["version"] for v in orders["versions"]] == [1, 2]
    assert payments["incompatibilities"][0]["file"] == str(schemas / "payments-value" / "v1.avsc")
    assert users["status"] == "ERROR"
    assert users["errors"][0].startswith(str(schemas / "users-value" / "v2.avsc"))


def test_check_dir_on_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a directory"):
        _run("check-dir", str(tmp_path / "nope"))
