""".proto text → protobuf descriptors, using the protoc that ships inside grpcio-tools.

Why protoc and not a hand-written parser: protoc is the reference grammar, it resolves
every type name to its fully-qualified form (so the diff never has to guess scoping
rules), and it rejects exactly the schemas the registry would reject.  protoc only reads
files, so each compile writes the schema and its references into a private temporary
directory.  protoc reports problems on the process's stderr file descriptor; that is
captured (never shown) and turned into :class:`SchemaParseError` with a line and column.

A compatibility run checks many versions of the same few schemas, so compiled results are
cached by the text of the schema and its references.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path, PurePosixPath

from google.protobuf import descriptor_pb2
from grpc_tools import protoc

from eventscope.schemas.errors import SchemaParseError

#: The file name the schema under test is compiled as; chosen to never be importable.
MAIN_FILE = "eventscope-schema.proto"

#: protoc diagnostics look like ``file.proto:12:5: message`` (1-based line and column).
_DIAGNOSTIC = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.*)$")

#: Lines from protoc's internal logger (``W0000 00:00:... parser.cc:659] ...``) are
#: warnings, such as the one about a file that declares no syntax.
_LOG_LINE = re.compile(r"^[IWEF]\d{4} ")

#: protoc writes to the process-wide stderr descriptor, so compiles take turns.
_PROTOC_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True, eq=False)
class CompiledSchema:
    """A compiled .proto schema: its own file plus every file it imports, transitively.

    ``origins`` gives, for each imported file, a fingerprint of its compiled content: two
    schemas that import the same file with the same content share a type definition (the
    registry's "same subject and version"), which lets the diff skip comparing it.
    """

    text: str
    main: descriptor_pb2.FileDescriptorProto
    imports: tuple[descriptor_pb2.FileDescriptorProto, ...]
    origins: Mapping[str, str]


def compile_schema(text: str, references: Mapping[str, str] | None = None) -> CompiledSchema:
    """Compile ``text`` (importing files from ``references``, import path → text)."""
    refs = tuple(sorted((references or {}).items()))
    return _compile_cached(text, refs)


@lru_cache(maxsize=512)
def _compile_cached(text: str, references: tuple[tuple[str, str], ...]) -> CompiledSchema:
    for name, _ in references:
        _check_reference_name(name)
    with tempfile.TemporaryDirectory(prefix="eventscope-proto-") as tmp:
        root = Path(tmp)
        main_root, refs_root = _roots(root)
        main_root.mkdir()
        refs_root.mkdir()
        (main_root / MAIN_FILE).write_text(text, encoding="utf-8")
        for name, ref_text in references:
            path = refs_root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(ref_text, encoding="utf-8")
        out = root / "descriptors.pb"
        args = [
            "protoc",
            f"--proto_path={main_root}",
            f"--proto_path={refs_root}",
            f"--proto_path={_well_known_types_dir()}",
            "--include_imports",
            f"--descriptor_set_out={out}",
            str(main_root / MAIN_FILE),
        ]
        status, diagnostics = _run_protoc(args)
        if status != 0 or not out.exists():
            raise _parse_error(diagnostics, root)
        files = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    by_name = {f.name: f for f in files}
    main = by_name.pop(MAIN_FILE)
    imports = tuple(by_name.values())
    origins = {f.name: _fingerprint(f) for f in imports}
    return CompiledSchema(text=text, main=main, imports=imports, origins=origins)


def _check_reference_name(name: str) -> None:
    """Reject import paths that would write outside the private directory."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or name == MAIN_FILE:
        raise SchemaParseError(f"invalid reference name {name!r}: expected a relative .proto path")


@lru_cache(maxsize=1)
def _well_known_types_dir() -> str:
    """grpcio-tools bundles google/protobuf/*.proto; imports of them resolve from here."""
    return str(resources.files("grpc_tools") / "_proto")


def _run_protoc(args: list[str]) -> tuple[int, str]:
    with _PROTOC_LOCK, _captured_output() as captured:
        status = protoc.main(args)
    return status, captured()


@contextlib.contextmanager
def _captured_output() -> Iterator[Callable[[], str]]:
    """Point file descriptors 1 and 2 at a temp file while protoc runs; yield its reader.

    protoc is C++ writing straight to the descriptors, so ``sys.stderr`` redirection
    would not see it.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.flush()
    text: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield lambda: "".join(text)
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            text.append(sink.read().decode("utf-8", errors="replace"))


def _parse_error(diagnostics: str, root: Path) -> SchemaParseError:
    """The most useful protoc error, placed in the schema's own text.

    A broken or missing import makes protoc report the cause in the imported file and
    then a follow-on error at the ``import`` line; the cause is what the user must fix,
    the import line is where the schema names it.
    """
    prefixes = sorted((f"{d}/" for d in (*_roots(root), _well_known_types_dir())), key=len)
    found: list[tuple[str, str | None, str | None, str]] = []
    for raw in diagnostics.splitlines():
        line = raw.strip()
        if not line or ": warning:" in line or _LOG_LINE.match(line):
            continue
        match = _DIAGNOSTIC.match(line)
        if match:
            file, row, column, message = (
                match["file"],
                match["line"],
                match["column"],
                match["message"],
            )
        else:
            file, _, message = line.partition(": ")
            if not file.endswith(".proto"):
                continue
            row = column = None
        for prefix in reversed(prefixes):
            file = file.removeprefix(prefix)
        found.append((file, row, column, message))
    in_main = [f for f in found if f[0] == MAIN_FILE and f[1] is not None]
    in_imports = [f for f in found if f[0] != MAIN_FILE]
    if not found:
        return SchemaParseError("protoc could not compile the schema")
    if in_imports:
        file, row, column, message = in_imports[0]
        where = f" (line {row}, column {column})" if row else ""
        reason = f"imported file {file!r}{where}: {message}"
        import_line = next((f for f in in_main if file in f[3]), None)
        if import_line is None:
            return SchemaParseError(reason)
        return SchemaParseError(reason, location=f"line {import_line[1]}, column {import_line[2]}")
    if not in_main:
        return SchemaParseError(found[0][3])
    _, row, column, message = in_main[0]
    return SchemaParseError(message, location=f"line {row}, column {column}")


def _roots(root: Path) -> tuple[Path, Path]:
    """Where the schema itself and its references are written for protoc."""
    return root / "schema", root / "references"


def _fingerprint(file: descriptor_pb2.FileDescriptorProto) -> str:
    return hashlib.sha256(file.SerializeToString(deterministic=True)).hexdigest()
