"""``eventscope schema check``: exit codes, messages that name the file, ``--json``."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import eventscope
import eventscope.cli
from eventscope.schemas.cli import register

fastavro = pytest.importorskip("fastavro")  # the Avro support is an optional extra

ORDER_V1 = {
    "type": "record",
    "name": "Order",
    "namespace": "com.acme",
    "fields": [{"name": "id", "type": "string"}],
}
WITH_NOTE = {**ORDER_V1, "fields": [*ORDER_V1["fields"], {"name": "note", "type": "string"}]}
WITH_NOTE_DEFAULT = {
    **ORDER_V1,
    "fields": [*ORDER_V1["fields"], {"name": "note", "type": "string", "default": ""}],
}
PRICED = {
    **ORDER_V1,
    "fields": [*ORDER_V1["fields"], {"name": "price", "type": "com.acme.Money"}],
}
MONEY = {
    "type": "record",
    "name": "Money",
    "namespace": "com.acme",
    "fields": [{"name": "cents", "type": "long"}, {"name": "currency", "type": "string"}],
}


def _schema_parser(argv: Any = ()) -> argparse.ArgumentParser:
    """The ``eventscope`` parser with only the schema commands, as ``cli`` builds it."""
    parser = argparse.ArgumentParser(prog="eventscope")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    return parser


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run ``eventscope schema ...`` in-process through ``cli.main``: (code, out, err)."""
    monkeypatch.setattr(eventscope.cli, "build_parser", _schema_parser)

    def invoke(*argv: Any) -> tuple[int, str, str]:
        try:
            code = eventscope.cli.main(["schema", *map(str, argv)])
        except SystemExit as exc:  # argparse rejects the flags
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def write(path: Path, schema: Any) -> Path:
    path.write_text(schema if isinstance(schema, str) else json.dumps(schema, indent=2))
    return path


def test_compatible_change_exits_0(tmp_path: Path, run) -> None:
    v1 = write(tmp_path / "v1.avsc", ORDER_V1)
    v2 = write(tmp_path / "v2.avsc", WITH_NOTE_DEFAULT)
    code, out, err = run("check", v2, "--against", v1)
    assert (code, err) == (0, "")
    assert out.startswith(f"OK: {v2} is BACKWARD compatible with {v1}")


def test_breaking_change_exits_1_and_lists_each_problem(tmp_path: Path, run) -> None:
    v1 = write(tmp_path / "v1.avsc", ORDER_V1)
    v2 = write(tmp_path / "v2.avsc", WITH_NOTE)
    code, out, _ = run("check", v2, "--against", v1)
    assert code == 1
    assert out.splitlines()[0] == f"INCOMPATIBLE: {v2} breaks BACKWARD (1 problem(s)):"
    line = out.splitlines()[1].strip()
    assert line.startswith(f"version 1 ({v1}), backward: READER_FIELD_MISSING_DEFAULT_VALUE")
    assert "note" in line


def test_mode_decides_direction_and_history(tmp_path: Path, run) -> None:
    v1 = write(tmp_path / "v1.avsc", ORDER_V1)
    v2 = write(tmp_path / "v2.avsc", WITH_NOTE_DEFAULT)
    v3 = write(tmp_path / "v3.avsc", WITH_NOTE)
    assert run("check", v3, "--against", v1, v2)[0] == 0
    code, out, _ = run("check", v3, "--against", v1, v2, "--mode", "backward_transitive")
    assert code == 1
    assert f"version 1 ({v1}), backward" in out
    code, out, _ = run("check", v1, "--against", v3, "--mode", "FORWARD")
    assert code == 1
    assert f"version 1 ({v3}), forward: READER_FIELD_MISSING_DEFAULT_VALUE" in out


def test_json_output_is_the_result_plus_files(tmp_path: Path, run) -> None:
    v1 = write(tmp_path / "v1.avsc", ORDER_V1)
    v2 = write(tmp_path / "v2.avsc", WITH_NOTE)
    code, out, _ = run("check", v2, "--against", v1, "--mode", "FULL", "--json")
    doc = json.loads(out)
    assert code == 1
    assert doc["candidate"] == str(v2)
    assert doc["against"] == [str(v1)]
    assert (doc["is_compatible"], doc["mode"], doc["format"]) == (False, "FULL", "avro")
    item = doc["incompatibilities"][0]
    assert set(item) == {"type", "location", "message", "direction", "version", "file"}
    assert (item["version"], item["file"], item["direction"]) == (1, str(v1), "backward")


def test_parse_error_names_file_line_and_column(tmp_path: Path, run) -> None:
    v1 = write(tmp_path / "v1.avsc", ORDER_V1)
    broken = write(tmp_path / "v2.avsc", '{\n  "type": "record",\n  "name" "Order"\n}')
    code, out, err = run("check", broken, "--against", v1)
    assert (code, out) == (2, "")
    assert err.startswith(f"eventscope schema: {broken}: line 3, column ")
    assert "Traceback" not in err


def test_invalid_schema_names_file_and_json_path(tmp_path: Path, run) -> None:
    v1 = write(tmp_path / "v1.avsc", ORDER_V1)
    bad = {**ORDER_V1, "fields": [*ORDER_V1["fields"], {"name": "n", "type": "no.such.T"}]}
    candidate = write(tmp_path / "v2.avsc", bad)
    code, _, err = run("check", candidate, "--against", v1)
    assert code == 2
    assert err.startswith(f"eventscope schema: {candidate}: $.fields[1].type: ")


def test_error_in_an_old_version_names_that_file(tmp_path: Path, run) -> None:
    old = write(tmp_path / "v1.avsc", "[1, 2")
    candidate = write(tmp_path / "v2.avsc", ORDER_V1)
    code, _, err = run("check", candidate, "--against", old)
    assert code == 2
    assert err.startswith(f"eventscope schema: {old}: line 1, column ")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("missing.avsc", "no such file"),
        ("schema.txt", "cannot tell the schema format from the suffix '.txt'"),
        ("schema.avdl", "idl2schemata"),
    ],
)
def test_unusable_file_exits_2(tmp_path: Path, run, name: str, expected: str) -> None:
    v1 = write(tmp_path / "v1.avsc", ORDER_V1)
    if name != "missing.avsc":
        write(tmp_path / name, ORDER_V1)
    code, _, err = run("check", tmp_path / name, "--against", v1)
    assert code == 2
    assert err.startswith(f"eventscope schema: {tmp_path / name}: ")
    assert expected in err


def test_not_utf8_exits_2(tmp_path: Path, run) -> None:
    v1 = write(tmp_path / "v1.avsc", ORDER_V1)
    latin = tmp_path / "v2.avsc"
    latin.write_bytes(b'{"type": "string", "doc": "caf\xe9"}')
    code, _, err = run("check", latin, "--against", v1)
    assert code == 2
    assert f"{latin}: not UTF-8 text (byte 0xe9" in err


def test_format_flag_overrides_the_suffix(tmp_path: Path, run) -> None:
    v1 = write(tmp_path / "v1.json", ORDER_V1)
    v2 = write(tmp_path / "v2.json", WITH_NOTE)
    code, out, _ = run("check", v2, "--against", v1, "--format", "avro", "--json")
    assert (code, json.loads(out)["format"]) == (1, "avro")


def test_json_suffix_means_json_schema(tmp_path: Path, run) -> None:
    pytest.importorskip("eventscope.schemas.json")
    v1 = write(tmp_path / "v1.json", {"type": "object", "properties": {"id": {"type": "string"}}})
    v2 = write(tmp_path / "v2.json", {"type": "object", "properties": {"id": {"type": "string"}}})
    code, out, _ = run("check", v2, "--against", v1, "--json")
    assert (code, json.loads(out)["format"]) == (0, "json")


def test_mixed_formats_exit_2(tmp_path: Path, run) -> None:
    v1 = write(tmp_path / "v1.proto", 'syntax = "proto3";\nmessage Order { string id = 1; }\n')
    v2 = write(tmp_path / "v2.avsc", ORDER_V1)
    code, _, err = run("check", v2, "--against", v1)
    assert code == 2
    assert "schemas of different formats cannot be compared" in err
    assert f"{v1} (protobuf)" in err


def test_avro_data_file_supplies_the_writer_schema(tmp_path: Path, run) -> None:
    data = tmp_path / "orders.avro"
    with data.open("wb") as stream:
        fastavro.writer(stream, fastavro.parse_schema(ORDER_V1), [{"id": "o-1"}])
    assert run("check", write(tmp_path / "ok.avsc", WITH_NOTE_DEFAULT), "--against", data)[0] == 0
    assert run("check", write(tmp_path / "bad.avsc", WITH_NOTE), "--against", data)[0] == 1
    not_data = write(tmp_path / "text.avro", ORDER_V1)
    code, _, err = run("check", tmp_path / "ok.avsc", "--against", not_data)
    assert (code, f"{not_data}: not an Avro data file" in err) == (2, True)


def test_references_resolve_named_types(tmp_path: Path, run) -> None:
    money = write(tmp_path / "money.avsc", MONEY)
    v1 = write(tmp_path / "v1.avsc", PRICED)
    v2 = write(tmp_path / "v2.avsc", PRICED)
    assert run("check", v2, "--against", v1, "--reference", f"com.acme.Money={money}")[0] == 0
    code, _, err = run("check", v2, "--against", v1)
    assert code == 2
    assert "com.acme.Money" in err


def test_error_inside_a_reference_names_the_reference_file(tmp_path: Path, run) -> None:
    money = write(tmp_path / "money.avsc", '{"type": "record", "name": "Money", "fields": [}')
    v1 = write(tmp_path / "v1.avsc", PRICED)
    code, _, err = run("check", v1, "--against", v1, "--reference", f"com.acme.Money={money}")
    assert code == 2
    assert err.startswith(f"eventscope schema: {money}: line 1, column ")


def test_error_inside_a_proto_reference_names_the_reference_file(tmp_path: Path, run) -> None:
    money = write(
        tmp_path / "money.proto", 'syntax = "proto3";\nmessage Money { int64 units = 1 }\n'
    )
    schema = 'syntax = "proto3";\nimport "common/money.proto";\nmessage A { Money m = 1; }\n'
    v1 = write(tmp_path / "v1.proto", schema)
    code, _, err = run("check", v1, "--against", v1, "--reference", f"common/money.proto={money}")
    assert code == 2
    assert err.startswith(f"eventscope schema: {money}: line 2, column 33: Expected")


@pytest.mark.parametrize(
    "flags",
    [
        ["--mode", "SIDEWAYS"],
        ["--format", "xml"],
        ["--reference", "no-equals-sign"],
        ["--reference", "a=x.avsc", "--reference", "a=y.avsc"],
    ],
)
def test_bad_flags_exit_2(tmp_path: Path, run, flags: list[str]) -> None:
    v1 = write(tmp_path / "v1.avsc", ORDER_V1)
    for name in ("x.avsc", "y.avsc"):
        write(tmp_path / name, MONEY)
    code, _, err = run("check", v1, "--against", v1, *flags)
    assert code == 2
    assert err


def test_installed_command_runs_as_a_subprocess(tmp_path: Path) -> None:
    v1 = write(tmp_path / "v1.avsc", ORDER_V1)
    v2 = write(tmp_path / "v2.avsc", WITH_NOTE)
    if importlib.util.find_spec("eventscope.demo") is not None:
        command = [sys.executable, "-m", "eventscope.cli"]
    else:  # the demo command is not written yet: the same main, schema commands only
        command = [sys.executable, "-c", _SCHEMA_ONLY_MAIN]
    env = {**os.environ, "PYTHONPATH": str(Path(eventscope.__file__).parents[1])}
    done = subprocess.run(
        [*command, "schema", "check", str(v2), "--against", str(v1), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["incompatibilities"][0]["file"] == str(v1)
    broken = write(tmp_path / "v3.avsc", "{")
    done = subprocess.run(
        [*command, "schema", "check", str(broken), "--against", str(v1)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"eventscope schema: {broken}: line 1")


_SCHEMA_ONLY_MAIN = """
import argparse, sys
import eventscope.cli
from eventscope.schemas.cli import register

def build_parser():
    parser = argparse.ArgumentParser(prog="eventscope")
    register(parser.add_subparsers(dest="command", required=True))
    return parser

eventscope.cli.build_parser = build_parser
sys.exit(eventscope.cli.main())
"""
