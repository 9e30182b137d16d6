""".proto text → protobuf descriptors, using the protoc that ships inside grpcio-tools.

Why protoc and not a hand-written parser: protoc is the reference grammar, it resolves
every type name to its fully-qualified form (so the diff never has to guess scoping
rules), and it rejects exactly the schemas the registry would reject.  protoc only reads
files, so each compile writes the schema and its references into a private temporary
directory.

protoc is driven through grpcio-tools' in-process entry point for ``.proto`` imports
(``get_protos``), not its command line: that entry point hands back every problem as a
structured error (file, line, column, message) instead of printing it, so nothing is
written to the terminal and the process's file descriptors are never touched — other
threads keep their output.  It answers with generated Python modules, each embedding
its file's serialised ``FileDescriptorProto`` (the ``AddSerializedFile(b'...')`` call
protoc has generated since protobuf 3.20); the descriptors are read from there, as
literals, without running the generated code.

A compatibility run checks many versions of the same few schemas, so compiled results are
cached by the text of the schema and its references.
"""

from __future__ import annotations

import ast
import hashlib
import re
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path, PurePosixPath

from google.protobuf import descriptor_pb2
from grpc_tools import _protoc_compiler

from eventscope.schemas.caches import register
from eventscope.schemas.errors import SchemaParseError

#: The file name the schema under test is compiled as; chosen to never be importable.
MAIN_FILE = "eventscope-schema.proto"

#: What a file holds before its first statement: whitespace and comments.
_LEADING_TRIVIA = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)*", re.DOTALL)
_DECLARES_SYNTAX = re.compile(r"(?:syntax|edition)\b")

#: Written before a file that declares no syntax, on its first line: protoc's own
#: default, stated, so protoc does not log a warning about it on the process's stderr.
_DEFAULT_SYNTAX = 'syntax = "proto2"; '

#: The serialised descriptor in generated code: ``AddSerializedFile(b'\n\x0bmain.proto...')``.
_SERIALIZED_FILE = re.compile(
    r"""AddSerializedFile\(\s*(?P<literal>b'(?:[^'\\\n]|\\.)*'|b"(?:[^"\\\n]|\\.)*")\s*\)"""
)

#: protoc's compiler state is not documented as thread-safe: compiles take turns.
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
    shifts: dict[str, int] = {}  # file → columns added to its first line
    with tempfile.TemporaryDirectory(prefix="eventscope-proto-") as tmp:
        main_root, refs_root = _roots(Path(tmp))
        main_root.mkdir()
        refs_root.mkdir()
        for directory, name, source in (
            (main_root, MAIN_FILE, text),
            *((refs_root, name, ref_text) for name, ref_text in references),
        ):
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            stated, shifts[name] = _with_syntax(source)
            path.write_text(stated, encoding="utf-8")
        include = [str(d).encode() for d in (main_root, refs_root)]
        include.append(_well_known_types_dir().encode())
        include += [directory.encode() for directory in _google_types_dir()]
        try:
            with _PROTOC_LOCK:
                generated = _protoc_compiler.get_protos(MAIN_FILE.encode(), include)
        except _protoc_compiler.ProtocErrors as exc:
            raise _parse_error(exc.errors(), shifts) from None
    files = [_descriptor(code) for _, code in generated]
    by_name = {f.name: f for f in files}
    main = by_name.pop(MAIN_FILE)
    imports = tuple(by_name.values())
    origins = {f.name: _fingerprint(f) for f in imports}
    return CompiledSchema(text=text, main=main, imports=imports, origins=origins)


register(_compile_cached.cache_clear)


def _with_syntax(text: str) -> tuple[str, int]:
    """``text`` with protoc's default syntax stated if it states none, and the shift.

    The statement goes on the first line, so line numbers stay right and only columns
    on line 1 move (by the returned amount).
    """
    trivia = _LEADING_TRIVIA.match(text)  # always matches, possibly nothing
    if _DECLARES_SYNTAX.match(text, trivia.end() if trivia else 0):
        return text, 0
    return _DEFAULT_SYNTAX + text, len(_DEFAULT_SYNTAX)


def _descriptor(code: bytes) -> descriptor_pb2.FileDescriptorProto:
    """The ``FileDescriptorProto`` a generated ``_pb2`` module registers, read as a literal.

    Only the bytes literal is evaluated (``ast.literal_eval``): parsing whole generated
    modules would cost more than compiling them.
    """
    found = _SERIALIZED_FILE.search(code.decode("utf-8"))
    if found is None:
        raise RuntimeError(
            "grpcio-tools generated code without AddSerializedFile(b'...'): this version "
            "of grpcio-tools is not supported"
        )
    return descriptor_pb2.FileDescriptorProto.FromString(ast.literal_eval(found["literal"]))


def _check_reference_name(name: str) -> None:
    """Reject import paths that would write outside the private directory."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or name == MAIN_FILE:
        raise SchemaParseError(f"invalid reference name {name!r}: expected a relative .proto path")


@lru_cache(maxsize=1)
def _well_known_types_dir() -> str:
    """grpcio-tools bundles google/protobuf/*.proto; imports of them resolve from here."""
    return str(resources.files("grpc_tools") / "_proto")


@lru_cache(maxsize=1)
def _google_types_dir() -> tuple[str, ...]:
    """``google/type/*.proto`` (Date, Money, PostalAddress…), which Confluent's registry
    bundles too: from googleapis-common-protos, which ships the .proto files."""
    try:
        found = resources.files("google.type") / "postal_address.proto"
    except ModuleNotFoundError:
        return ()
    return (str(Path(str(found)).parent.parent.parent),) if found.is_file() else ()


def _parse_error(errors: list, shifts: Mapping[str, int]) -> SchemaParseError:
    """The most useful protoc error, placed where the user must fix it.

    An error inside a referenced file is reported in that file, as ``reference 'NAME'``
    with its line and column.  A missing import makes protoc report the missing file
    (without a line) and then a follow-on error at the ``import`` line: the import
    line is where the schema names it.  protoc counts lines and columns from 0.
    """
    found: list[tuple[str, int | None, int | None, str]] = []
    for error in errors:
        file = error.filename.decode(errors="replace")
        message = error.message.decode(errors="replace")
        row = error.line + 1 if error.line >= 0 else None
        column = error.column + 1 if row is not None else None
        if row == 1 and column is not None:
            column = max(1, column - shifts.get(file, 0))
        found.append((file, row, column, message))
    if not found:
        return SchemaParseError("protoc could not compile the schema")
    in_main = [f for f in found if f[0] == MAIN_FILE and f[1] is not None]
    in_reference = [f for f in found if f[0] != MAIN_FILE and f[1] is not None]
    if in_reference:
        file, row, column, message = in_reference[0]
        return SchemaParseError(
            message, location=f"line {row}, column {column}", source=f"reference {file!r}"
        )
    unreadable = [f for f in found if f[0] != MAIN_FILE]
    if unreadable:
        file, _, _, message = unreadable[0]
        import_line = next((f for f in in_main if file in f[3]), None)
        reason = f"imported file {file!r}: {message}"
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
