"""Hostile input to ``eventscope schema``: every one gets a clear message and exit 2.

The inputs are the ones issue 12 measured: schemas nested thousands of levels deep
(a ``RecursionError`` once, exit 1, which CI reads as "incompatible"), FIFOs and
devices given as schema files (a hang, a ``MemoryError``), damaged ``.avro`` headers
(``IndexError``) and a schemas directory whose names, links and version numbers are
not what the layout expects.
"""

from __future__ import annotations

import json
import os
import struct
import sys
from pathlib import Path
from typing import Any

import pytest

import eventscope.cli
from eventscope.schemas import SchemaFileError, SchemaParseError, check_directory, check_files
from eventscope.schemas import directory as directory_module
from eventscope.schemas.container_header import ContainerHeaderError, read_container_metadata
from eventscope.schemas.files import read_schema_text
from eventscope.schemas.nesting import MAX_NESTING
from eventscope.schemas.reading import MAX_FILE_BYTES

fastavro = pytest.importorskip("fastavro")  # the Avro support is an optional extra

DEEP = 10_000


def _nest(levels: int, wrap: Any, leaf: Any) -> Any:
    node = leaf
    for level in range(levels):
        node = wrap(node, level)
    return node


def _dumps(value: Any) -> str:
    """JSON text of a value nested deeper than ``json.dumps`` can recurse."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * DEEP))
    try:
        return json.dumps(value)
    finally:
        sys.setrecursionlimit(limit)


SHAPES = {
    "avro records": (
        "avsc",
        lambda n: _nest(
            n,
            lambda t, i: {"type": "record", "name": f"R{i}", "fields": [{"name": "f", "type": t}]},
            "int",
        ),
        3,  # JSON levels per record: the record, its fields list, the field
    ),
    "avro arrays": (
        "avsc",
        lambda n: _nest(n, lambda t, _: {"type": "array", "items": t}, "int"),
        1,
    ),
    "avro maps": ("avsc", lambda n: _nest(n, lambda t, _: {"type": "map", "values": t}, "int"), 1),
    "avro unions": (
        "avsc",
        lambda n: _nest(n, lambda t, _: ["null", {"type": "array", "items": t}], "int"),
        2,
    ),
    "json schema properties": (
        "json",
        lambda n: _nest(
            n, lambda t, _: {"type": "object", "properties": {"a": t}}, {"type": "integer"}
        ),
        2,
    ),
}


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]):
    """``eventscope schema ...`` in-process: (exit code, stdout, stderr)."""

    def invoke(*argv: Any) -> tuple[int, str, str]:
        code = eventscope.cli.main(["schema", *map(str, argv)])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


@pytest.mark.parametrize("shape", SHAPES)
def test_a_schema_ten_thousand_levels_deep_is_bad_input_naming_the_place(
    shape: str, tmp_path: Path, run
) -> None:
    suffix, build, _ = SHAPES[shape]
    path = tmp_path / f"deep.{suffix}"
    path.write_text(_dumps(build(DEEP)))
    code, out, err = run("check", path, "--against", path)
    assert (code, out) == (2, "")
    assert err.startswith(f"eventscope schema: {path}: line 1, column ")
    assert f"nested deeper than {MAX_NESTING} levels" in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("shape", SHAPES)
def test_a_schema_at_the_nesting_limit_is_checked(shape: str, tmp_path: Path, run) -> None:
    suffix, build, levels_per_step = SHAPES[shape]
    leaf_levels = 1 if suffix == "json" else 0  # {"type": "integer"} is a level too
    path = tmp_path / f"deep.{suffix}"
    path.write_text(json.dumps(build((MAX_NESTING - leaf_levels) // levels_per_step)))
    code, out, err = run("check", path, "--against", path, "--mode", "FULL_TRANSITIVE")
    assert (code, err) == (0, "")
    assert out.startswith("OK:")


@pytest.mark.parametrize("fmt", ["avro", "json"])
def test_a_too_deep_parsed_value_names_its_json_path(fmt: str) -> None:
    from eventscope.schemas import check_compatibility

    deep = _nest(MAX_NESTING + 5, lambda t, _: {"type": "array", "items": t}, "int")
    with pytest.raises(SchemaParseError) as raised:
        check_compatibility(deep, [deep], format=fmt)
    assert raised.value.location == "$" + ".items" * MAX_NESTING


def test_an_enum_with_a_duplicate_among_many_symbols_names_it(tmp_path: Path) -> None:
    symbols = [f"S{i}" for i in range(50_000)]
    symbols.append("S49999")
    path = tmp_path / "enum.avsc"
    path.write_text(json.dumps({"type": "enum", "name": "E", "symbols": symbols}))
    with pytest.raises(SchemaFileError, match=r"\$\.symbols\[50000\]: duplicate enum symbol"):
        check_files(path, [path])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path, run) -> None:
    fifo = tmp_path / "schema.avsc"
    os.mkfifo(fifo)
    ok = tmp_path / "ok.avsc"
    ok.write_text('"int"')
    for argv in (
        ("check", fifo, "--against", ok),
        ("check", ok, "--against", ok, "--reference", f"com.acme.X={fifo}"),
        ("check", tmp_path / "data.avro", "--against", ok),
    ):
        if argv[1] == tmp_path / "data.avro":
            os.mkfifo(argv[1])
        code, _, err = run(*argv)
        assert code == 2
        assert "is a FIFO (named pipe), not a regular file" in err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")
def test_a_device_is_refused_without_reading_it(tmp_path: Path, run) -> None:
    ok = tmp_path / "ok.avsc"
    ok.write_text('"int"')
    code, _, err = run("check", "/dev/zero", "--format", "avro", "--against", ok)
    assert (code, err) == (2, "eventscope schema: /dev/zero: is a device, not a regular file\n")


def test_a_directory_is_refused(tmp_path: Path, run) -> None:
    folder = tmp_path / "v1.avsc"
    folder.mkdir()
    code, _, err = run("check", folder, "--against", folder)
    assert (code, err) == (2, f"eventscope schema: {folder}: is a directory, not a regular file\n")


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(tmp_path: Path, run) -> None:
    huge = tmp_path / "huge.avsc"
    with huge.open("wb") as stream:  # sparse: costs no disk
        stream.truncate(MAX_FILE_BYTES + 1)
    code, _, err = run("check", huge, "--against", huge)
    assert code == 2
    assert f"{MAX_FILE_BYTES + 1:,} bytes, larger than the {MAX_FILE_BYTES:,}-byte limit" in err


# -- .avro data file headers ---------------------------------------------------------


def _long(value: int) -> bytes:
    """Avro's zig-zag varint."""
    zigzag = (value << 1) ^ (value >> 63)
    out = bytearray()
    while True:
        byte = zigzag & 0x7F
        zigzag >>= 7
        if zigzag:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _string(data: bytes) -> bytes:
    return _long(len(data)) + data


SCHEMA = b'{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}'
GOOD_HEADER = b"Obj\x01" + _long(1) + _string(b"avro.schema") + _string(SCHEMA) + _long(0)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (b"Obj\x01\xc0\x8b", "at byte 6: the file ends inside the header (in a number)"),
        (b"Obj\x01", "at byte 4: the file ends inside the header"),
        (b"Obj\x01" + b"\xff" * 11, "at byte 4: a number is longer than 10 bytes"),
        (b"Obj\x01" + _long(1) + _long(-5), "at byte 5: negative length -5"),
        (b"Obj\x01" + _long(1) + _long(2**40), "header would exceed"),
        (b"Obj\x01" + _long(2**62), "at byte 4: metadata block claims"),
        (b"Obj\x01" + _long(-1) + _long(-3), "negative metadata block size -3"),
        (b"Obj\x01" + _long(1) + _string(b"\xff") + _string(b""), "a metadata key is not UTF-8"),
        (GOOD_HEADER, "the file ends inside the header (in a sync marker)"),
        (b"Obj\x01" + _long(0) + b"s" * 16, "no writer schema in its header"),
        (b"PAR1", "not an Avro data file"),
    ],
)
def test_every_malformed_avro_header_is_one_clear_error(
    header: bytes, reason: str, tmp_path: Path, run
) -> None:
    data = tmp_path / "sample.avro"
    data.write_bytes(header)
    code, out, err = run("check", data, "--against", data)
    assert (code, out) == (2, "")
    assert err.startswith(f"eventscope schema: {data}: ")
    assert reason in err
    assert len(err.splitlines()) == 1


def test_a_real_avro_data_file_gives_its_writer_schema(tmp_path: Path, run) -> None:
    data = tmp_path / "sample.avro"
    schema = json.loads(SCHEMA)
    with data.open("wb") as stream:
        fastavro.writer(stream, schema, [{"a": n} for n in range(1000)], codec="deflate")
    assert json.loads(read_schema_text(data)) == schema
    wider = tmp_path / "v2.avsc"
    wider.write_text(json.dumps({**schema, "fields": [{"name": "a", "type": "long"}]}))
    assert run("check", wider, "--against", data)[0] == 0


def test_a_header_longer_than_its_budget_is_refused_not_read(tmp_path: Path) -> None:
    big = (
        b"Obj\x01"
        + _long(1)
        + _string(b"avro.schema")
        + _string(b" " * 5000)
        + _long(0)
        + b"s" * 16
    )
    stream_path = tmp_path / "big.avro"
    stream_path.write_bytes(big)
    with stream_path.open("rb") as stream, pytest.raises(ContainerHeaderError, match="exceed"):
        read_container_metadata(stream, budget=1000)
    with stream_path.open("rb") as stream:
        assert read_container_metadata(stream, budget=len(big))["avro.schema"] == b" " * 5000


# -- check-dir ---------------------------------------------------------------------


def _subject(root: Path, name: str, *versions: str, schema: str = '"int"') -> Path:
    folder = root / name
    folder.mkdir()
    for version in versions:
        (folder / version).write_text(schema)
    return folder


def test_a_crash_in_one_subject_is_its_error_line_and_the_rest_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run
) -> None:
    _subject(tmp_path, "a-value", "v1.avsc", "v2.avsc")
    _subject(tmp_path, "b-value", "v1.avsc", "v2.avsc")
    _subject(tmp_path, "c-value", "v1.avsc", "v2.avsc")
    real = directory_module.check_files

    def crash_on_b(candidate: Path, *args: Any, **kwargs: Any) -> Any:
        if candidate.parent.name == "b-value":
            raise struct.error("unpack requires a buffer of 4 bytes")
        return real(candidate, *args, **kwargs)

    monkeypatch.setattr(directory_module, "check_files", crash_on_b)
    code, out, _ = run("check-dir", tmp_path)
    assert code == 2
    lines = out.splitlines()
    assert lines[0].startswith("OK            a-value")
    assert lines[1] == "ERROR         b-value"
    assert lines[2].endswith(
        "internal error, please report it: error: unpack requires a buffer of 4 bytes"
    )
    assert lines[3].startswith("OK            c-value")
    assert lines[-1] == "3 subject(s): 2 ok, 0 incompatible, 1 error"


def test_a_deep_subject_is_an_error_and_the_others_still_pass(tmp_path: Path, run) -> None:
    deep = _dumps(SHAPES["avro arrays"][1](DEEP))
    _subject(tmp_path, "deep-value", "v1.avsc", schema=deep)
    _subject(tmp_path, "fine-value", "v1.avsc", "v2.avsc")
    report = check_directory(tmp_path)
    assert [r.status for r in report.subjects] == ["ERROR", "OK"]
    assert "nested deeper than" in report.subjects[0].errors[0]


def test_control_characters_in_names_are_escaped(tmp_path: Path, run) -> None:
    _subject(tmp_path, "evil\x1b[2J\u202ename", "v1.avsc", "v2.avsc")
    _subject(tmp_path, "other", "v1.avsc", "v1-\x07bell.avsc")
    code, out, _ = run("check-dir", tmp_path)
    assert code == 2
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "evil\\x1b[2J\\u202ename" in out
    assert "v1-\\x07bell.avsc" in out


def test_dangling_symlinks_are_reported_not_skipped(tmp_path: Path) -> None:
    _subject(tmp_path, "fine-value", "v1.avsc")
    (tmp_path / "gone-value").symlink_to(tmp_path / "nowhere")
    links = _subject(tmp_path, "links-value", "v1.avsc")
    (links / "v2.avsc").symlink_to(tmp_path / "missing.avsc")
    report = {r.subject.name: r for r in check_directory(tmp_path).subjects}
    assert report["fine-value"].status == "OK"
    assert report["gone-value"].errors == (
        f"{tmp_path / 'gone-value'}: dangling symbolic link to {tmp_path / 'nowhere'}",
    )
    assert report["links-value"].errors == (
        f"{links / 'v2.avsc'}: dangling symbolic link to {tmp_path / 'missing.avsc'}",
    )


@pytest.mark.parametrize(
    "name", ["v0.avsc", "v00-initial.avsc", "v12345678901234567890123.avsc", "v2147483648.avsc"]
)
def test_version_numbers_outside_the_registrys_range_are_rejected(
    name: str, tmp_path: Path
) -> None:
    folder = _subject(tmp_path, "orders-value", "v1.avsc", name)
    (subject,) = check_directory(tmp_path).subjects
    assert subject.status == "ERROR"
    assert subject.errors == (
        f"{folder / name}: version numbers run from 1 to 2,147,483,647, as in the registry",
    )


def test_the_largest_registry_version_is_accepted(tmp_path: Path) -> None:
    _subject(tmp_path, "orders-value", "v1.avsc", "v2147483647.avsc")
    (subject,) = check_directory(tmp_path).subjects
    assert subject.status == "OK"
    assert [v.number for v in subject.subject.versions] == [1, 2147483647]


def test_non_ascii_digits_are_not_version_numbers(tmp_path: Path) -> None:
    folder = _subject(tmp_path, "orders-value", "v1.avsc", "v\u0662.avsc")
    (subject,) = check_directory(tmp_path).subjects
    assert subject.errors[0].startswith(f"{folder / 'v٢.avsc'}: not a version file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
def test_a_fifo_config_is_refused(tmp_path: Path) -> None:
    folder = _subject(tmp_path, "orders-value", "v1.avsc")
    os.mkfifo(folder / "config.toml")
    (subject,) = check_directory(tmp_path).subjects
    assert subject.errors == (
        f"{folder / 'config.toml'}: is a FIFO (named pipe), not a regular file",
    )


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path: Path, run) -> None:
    doc = "[" * 150 + '\\"{' * 150 + "\\\\"
    path = tmp_path / "doc.avsc"
    path.write_text(json.dumps({"type": "record", "name": "R", "doc": doc, "fields": []}))
    assert run("check", path, "--against", path)[0] == 0


def test_a_pattern_python_cannot_compile_is_still_refused(tmp_path: Path, run) -> None:
    """The fast meta-schema check leaves formats out; Python's regex check still runs."""
    path = tmp_path / "v1.json"
    path.write_text(json.dumps({"properties": {"name": {"type": "string", "pattern": "\\p{L}"}}}))
    code, _, err = run("check", path, "--against", path)
    assert code == 2
    assert err.startswith(f"eventscope schema: {path}: $.properties.name.pattern: not a valid")


def test_wide_unions_are_resolved_branch_by_branch() -> None:
    """Thousands of branches: each writer branch is matched by kind, name and alias."""
    from eventscope.schemas import check_compatibility

    records = [{"type": "record", "name": f"R{i}", "fields": []} for i in range(5000)]
    renamed = {"type": "record", "name": "Renamed", "aliases": ["R7"], "fields": []}
    reader = ["long", *records[:7], renamed, *records[8:4999]]
    writer = ["int", *records]
    result = check_compatibility(reader, [writer], format="avro")
    assert [(i.type, i.location) for i in result.incompatibilities] == [
        ("MISSING_UNION_BRANCH", "/5000")  # R4999, the one branch the reader dropped
    ]


def test_a_duplicate_at_the_end_of_a_wide_union_is_named(tmp_path: Path) -> None:
    branches = [{"type": "record", "name": f"R{i}", "fields": []} for i in range(50_000)]
    path = tmp_path / "union.avsc"
    path.write_text(json.dumps([*branches, "int", "int"]))
    with pytest.raises(SchemaFileError, match=r"\$\[50001\]: the union already has a 'int'"):
        check_files(path, [path])


def test_matching_combined_subschemas_needs_no_deep_recursion() -> None:
    """The search for an augmenting path here runs 1,500 vertices deep: once a
    ``RecursionError`` on a ``oneOf`` of 2,000 branches."""
    from eventscope.schemas.json.diff import max_matching

    size = 1500
    edges = [(i, j) for i in range(size) for j in (i - 1, i) if j >= 0]
    assert max_matching(edges, size) == [(i, i) for i in range(size)]


def test_thirty_thousand_required_properties_are_compared(tmp_path: Path) -> None:
    names = [f"p{i}" for i in range(30_000)]
    old = {"type": "object", "properties": {n: {"type": "string"} for n in names}}
    new = {**old, "required": names[:-1]}
    old_path, new_path = tmp_path / "v1.json", tmp_path / "v2.json"
    old_path.write_text(json.dumps({**old, "required": names}))
    new_path.write_text(json.dumps(new))
    result = check_files(new_path, [old_path])
    assert [(i.type, i.location) for i in result.incompatibilities] == []
    result = check_files(old_path, [new_path])
    assert [(i.type, i.location) for i in result.incompatibilities] == [
        ("REQUIRED_ATTRIBUTE_ADDED", "#/required/p29999")
    ]


def test_an_unforeseen_failure_in_schema_check_is_exit_2_not_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run
) -> None:
    """Exit 1 means "incompatible" to CI; a bug in the checker must not read as one."""
    import eventscope.schemas.cli as schema_cli

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("fields")

    monkeypatch.setattr(schema_cli, "check_files", crash)
    path = tmp_path / "v1.avsc"
    path.write_text('"int"')
    code, out, err = run("check", path, "--against", path)
    assert (code, out) == (2, "")
    assert err == (
        f"eventscope schema: {path}: internal error, please report it: KeyError: 'fields'\n"
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX feature")
def test_a_fifo_reference_in_config_is_refused(tmp_path: Path) -> None:
    folder = _subject(tmp_path, "orders-value", "v1.avsc")
    os.mkfifo(tmp_path / "money.avsc")
    (folder / "config.toml").write_text('[references]\n"com.acme.Money" = "../money.avsc"\n')
    (subject,) = check_directory(tmp_path).subjects
    assert subject.errors == (
        f"{folder / 'config.toml'}: references.com.acme.Money: not a regular file "
        f"{folder / '../money.avsc'}",
    )
