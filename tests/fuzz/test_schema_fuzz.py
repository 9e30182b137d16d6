"""Fuzzing ``eventscope schema``: whatever the files and flags, a verdict or a clear error.

Each property runs the real command line in-process on generated input — schema files
that are almost Avro, almost JSON Schema or almost Protobuf (then cut short or
sprinkled with junk), ``.avro`` data files with damaged headers, and random flag
lists — and asserts what CI relies on: the exit code is 0, 1 or 2, an exit 2 comes
with a message and no traceback, and nothing raises out of ``main``.

The runs are derandomised (the same inputs every time, so a failure is never "now
and then") and bounded by example counts; the module prints how many inputs it tried.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import eventscope.cli
from eventscope.schemas import SchemaParseError
from eventscope.schemas.json.metaschema import (
    VALIDATORS,
    check_against_metaschema,
    reference_verdict,
)

fastavro = pytest.importorskip("fastavro")  # the schema extras are part of `make test`

TRIED: Counter[str] = Counter()
EXITS: Counter[int] = Counter()
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module", autouse=True)
def _report_inputs_tried(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    total = sum(TRIED.values())
    detail = ", ".join(f"{count} {what}" for what, count in sorted(TRIED.items()))
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None and total:
        with capture.global_and_fixture_disabled():  # shown in every run, not only on failure
            exits = ", ".join(f"{count} exit {code}" for code, count in sorted(EXITS.items()))
            reporter.write_line(f"\nschema fuzz: {total} inputs tried ({detail}; {exits})")


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="eventscope-schema-fuzz-") as folder:
        yield Path(folder)


def run_cli(*argv: str) -> tuple[int, str, str]:
    """``eventscope schema ...`` in-process; argparse's own exit becomes its code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = eventscope.cli.main(["schema", *argv])
        except SystemExit as exc:  # argparse refusing the flags: exit 2 and its usage
            code = exc.code if isinstance(exc.code, int) else 2
    EXITS[code] += 1
    return code, out.getvalue(), err.getvalue()


def assert_clear_outcome(code: int, out: str, err: str) -> None:
    assert code in (0, 1, 2), (code, out, err)
    assert "Traceback" not in out + err
    if code == 2:
        assert err.strip(), "an exit 2 explains itself"
        last = err.strip().splitlines()[-1]
        assert last.startswith("eventscope schema") or "error:" in last, err
    else:
        assert out.startswith(("OK", "INCOMPATIBLE")), out


# -- schema documents ------------------------------------------------------------------

NAMES = st.sampled_from(["A", "B", "a", "com.acme.A", "int", "1bad", "", "A.", "Money"])
JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
)
ANY_JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
AVRO_KINDS = st.sampled_from(
    ["null", "boolean", "int", "long", "float", "double", "bytes", "string", "record", "enum"]
)


def _avro(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    field = st.fixed_dictionaries(
        {"name": NAMES, "type": inner},
        optional={"default": ANY_JSON, "aliases": st.lists(NAMES, max_size=2), "order": NAMES},
    )
    return st.one_of(
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["record", "error"]),
                "name": NAMES,
                "fields": st.lists(field, max_size=4),
            },
            optional={"namespace": NAMES, "aliases": st.lists(NAMES, max_size=2)},
        ),
        st.fixed_dictionaries(
            {"type": st.just("enum"), "name": NAMES, "symbols": st.lists(NAMES, max_size=5)},
            optional={"default": NAMES},
        ),
        st.fixed_dictionaries(
            {"type": st.just("fixed"), "name": NAMES, "size": st.integers(-2, 40) | JSON_SCALARS}
        ),
        st.fixed_dictionaries({"type": st.just("array"), "items": inner}),
        st.fixed_dictionaries({"type": st.just("map"), "values": inner}),
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["type", "name", "logicalType", "items"]), inner, max_size=3
        ),
    )


AVRO = st.recursive(AVRO_KINDS | NAMES | JSON_SCALARS, _avro, max_leaves=12)

JSON_SCHEMA_KEYWORDS = {
    "type": st.sampled_from(["object", "array", "string", "integer", "number", "null", "boolean"])
    | st.lists(st.sampled_from(["string", "null", "integer", "bogus"]), max_size=3),
    "$ref": st.sampled_from(
        ["#", "#/definitions/a", "#/properties/x", "other.json", "#/$defs/a", "%%"]
    ),
    "$schema": st.sampled_from(
        [
            "http://json-schema.org/draft-04/schema#",
            "http://json-schema.org/draft-07/schema#",
            "https://json-schema.org/draft/2020-12/schema",
            "nonsense",
        ]
    ),
    "minimum": JSON_SCALARS,
    "maxLength": st.integers(-3, 10) | JSON_SCALARS,
    "enum": st.lists(JSON_SCALARS, max_size=3),
    "required": st.lists(NAMES, max_size=3) | JSON_SCALARS,
    "additionalProperties": st.booleans() | JSON_SCALARS,
}


def _json_schema(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keywords = {name: strategy for name, strategy in JSON_SCHEMA_KEYWORDS.items()}
    keywords.update(
        {
            "properties": st.dictionaries(st.sampled_from(["x", "y", "a"]), inner, max_size=3),
            "definitions": st.dictionaries(st.just("a"), inner, max_size=1),
            "items": inner | st.lists(inner, max_size=2),
            "allOf": st.lists(inner, max_size=3),
            "anyOf": st.lists(inner, max_size=3),
            "oneOf": st.lists(inner, max_size=3),
            "not": inner,
            "additionalProperties": inner,
        }
    )
    return st.fixed_dictionaries({}, optional=keywords)


JSON_SCHEMA = st.recursive(
    st.booleans() | st.fixed_dictionaries({}, optional=JSON_SCHEMA_KEYWORDS),
    _json_schema,
    max_leaves=10,
)


@st.composite
def damaged(draw: st.DrawFn, documents: st.SearchStrategy[Any]) -> bytes:
    """A document's JSON, usually whole, sometimes cut short or with junk inserted."""
    data = json.dumps(draw(documents)).encode()
    how = draw(st.sampled_from(["whole", "whole", "whole", "cut", "junk", "bytes"]))
    if how == "cut":
        return data[: draw(st.integers(0, len(data)))]
    if how == "junk":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(max_size=6)) + data[at:]
    if how == "bytes":
        return draw(st.binary(max_size=60))
    return data


def _check(workdir: Path, suffix: str, new: bytes, old: bytes, *flags: str) -> None:
    candidate, previous = workdir / f"new{suffix}", workdir / f"old{suffix}"
    candidate.write_bytes(new)
    previous.write_bytes(old)
    assert_clear_outcome(*run_cli("check", str(candidate), "--against", str(previous), *flags))


@settings(FUZZ, max_examples=400)
@given(new=damaged(AVRO), old=damaged(AVRO), mode=st.sampled_from(["BACKWARD", "FULL"]))
def test_avro_schema_files(workdir: Path, new: bytes, old: bytes, mode: str) -> None:
    TRIED["Avro schema pairs"] += 1
    _check(workdir, ".avsc", new, old, "--mode", mode)


@settings(FUZZ, max_examples=300)
@given(
    new=damaged(JSON_SCHEMA), old=damaged(JSON_SCHEMA), mode=st.sampled_from(["BACKWARD", "FULL"])
)
def test_json_schema_files(workdir: Path, new: bytes, old: bytes, mode: str) -> None:
    TRIED["JSON Schema pairs"] += 1
    _check(workdir, ".json", new, old, "--mode", mode)


PROTO_TOKENS = st.sampled_from(
    [
        'syntax = "proto3";',
        'syntax = "proto2";',
        "message",
        "M",
        "N",
        "{",
        "}",
        "int32",
        "string",
        "repeated",
        "optional",
        "x",
        "y",
        "=",
        "1",
        "2",
        "536870912",
        ";",
        "enum",
        "E",
        "A = 0;",
        "oneof",
        "map<string, int32>",
        "import",
        '"other.proto";',
        "package",
        "a.b;",
        "reserved",
        "option",
        "[",
        "]",
        "\x00",
        "é",
    ]
)
PROTO = st.lists(PROTO_TOKENS, max_size=25).map(lambda tokens: " ".join(tokens).encode())
VALID_PROTO = b'syntax = "proto3"; message M { int32 x = 1; }'


@settings(FUZZ, max_examples=150)
@given(new=PROTO | st.binary(max_size=40), old=st.just(VALID_PROTO) | PROTO)
def test_protobuf_schema_files(workdir: Path, new: bytes, old: bytes) -> None:
    TRIED["Protobuf schema pairs"] += 1
    _check(workdir, ".proto", new, old)


# -- .avro data file headers -----------------------------------------------------------


def _sample_data_file() -> bytes:
    stream = io.BytesIO()
    schema = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}
    fastavro.writer(stream, schema, [{"a": 1}], metadata={"note": "x"})
    return stream.getvalue()


SAMPLE = _sample_data_file()


@st.composite
def avro_headers(draw: st.DrawFn) -> bytes:
    """A real data file with bytes flipped, cut, or inserted; or the magic and noise."""
    if draw(st.booleans()):
        return b"Obj\x01" + draw(st.binary(max_size=40))
    data = bytearray(SAMPLE)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["flip", "cut", "insert"]))
        if how == "flip":
            data[at] = draw(st.integers(0, 255))
        elif how == "cut":
            del data[at:]
            if not data:
                break
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=10))
    return bytes(data)


@settings(FUZZ, max_examples=600)
@given(header=avro_headers())
def test_avro_data_file_headers(workdir: Path, header: bytes) -> None:
    TRIED[".avro headers"] += 1
    data, reader = workdir / "sample.avro", workdir / "reader.avsc"
    data.write_bytes(header)
    reader.write_text('{"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}]}')
    assert_clear_outcome(*run_cli("check", str(reader), "--against", str(data)))


# -- flags -----------------------------------------------------------------------------


#: Words for flag lists; ``@`` stands for the fuzz directory, holding a.avsc, b.json
#: and c.proto (missing.avsc is missing).
WORDS = st.one_of(
    st.sampled_from(
        [
            "--against",
            "--mode",
            "--format",
            "--reference",
            "--json",
            "--",
            "-",
            "avro",
            "json",
            "protobuf",
            "full",
            "NONE",
            "nan",
            "=",
            "X=",
            "=Y",
            "com.acme.A=@/a.avsc",
            "X=@",
            "@",
            "/dev/null",
            "\x00",
            "\x1b[2J",
            "@/a.avsc",
            "@/b.json",
            "@/c.proto",
            "@/missing.avsc",
        ]
    ),
    st.text(max_size=6),
)
ARGV = st.tuples(st.sampled_from(["check", "check-dir", "other"]), st.lists(WORDS, max_size=8))


@settings(FUZZ, max_examples=400)
@given(argv=ARGV)
@example(argv=("check", ["a\x00.avsc", "--format", "avro", "--against", "@/a.avsc"]))
@example(argv=("check", ["@/a.avsc", "--against", "@/a.avsc", "--reference", "X=\x00"]))
@example(argv=("check-dir", ["\x00"]))
def test_command_line_flags(workdir: Path, argv: tuple[str, list[str]]) -> None:
    TRIED["flag lists"] += 1
    (workdir / "a.avsc").write_text('{"type": "record", "name": "A", "fields": []}')
    (workdir / "b.json").write_text('{"type": "object"}')
    (workdir / "c.proto").write_text(VALID_PROTO.decode())
    command, words = argv
    code, out, err = run_cli(command, *(word.replace("@", str(workdir)) for word in words))
    assert code in (0, 1, 2), (code, out, err)
    assert "Traceback" not in out + err


@settings(FUZZ, max_examples=300)
@given(document=JSON_SCHEMA, draft=st.sampled_from(sorted(VALIDATORS)))
def test_the_fast_metaschema_check_agrees_with_jsonschema(document: Any, draft: str) -> None:
    """A document is refused exactly when :mod:`jsonschema` finds it invalid."""
    TRIED["meta-schema verdicts"] += 1
    try:
        check_against_metaschema(document, draft)
        accepted = True
    except SchemaParseError:
        accepted = False
    assert accepted == reference_verdict(document, draft)
