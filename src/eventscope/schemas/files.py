"""Schema files on disk: which format a file holds, its text, and errors that name it.

The compatibility core speaks of ``candidate`` and ``previous[2]``; a person running
a check in CI needs ``schemas/orders/v3.avsc: line 4, column 7: ...`` instead.  This
module is the one place that reads schema files, so every command and the schemas
directory report problems the same way: the file first, then where in it, then why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventscope.schemas.compatibility import check_compatibility
from eventscope.schemas.container_header import (
    ContainerHeaderError,
    read_container_metadata,
    writer_schema,
)
from eventscope.schemas.errors import SchemaParseError
from eventscope.schemas.formats import FORMATS, SUFFIX_FORMATS, FormatModule, format_module
from eventscope.schemas.reading import (
    MAX_FILE_BYTES,
    FileRefused,
    open_regular_file,
    os_reason,
    read_file,
)
from eventscope.schemas.verdicts import CompatibilityResult, Mode

#: Suffixes that are schemas in a language this checker does not read, with the way out.
UNSUPPORTED_SUFFIXES = {
    ".avdl": "Avro IDL is not supported; generate .avsc files with "
    "`avro-tools idl2schemata` and check those",
}


#: The last line of defence behind :mod:`~eventscope.schemas.nesting`: should a schema
#: within the nesting limit still exhaust the stack (a caller already deep in it), the
#: check ends as bad input, never as a traceback read by CI as a verdict.
TOO_DEEP = (
    "the checker reached Python's recursion limit on this schema (please report it; "
    "the nesting limit is in docs/schemas.md)"
)


class SchemaFileError(ValueError):
    """A schema file cannot be used; the message starts with the file's path."""


@dataclass(frozen=True, slots=True)
class SchemaFile:
    """A schema read and parsed from ``path``, ready for :func:`check_compatibility`."""

    path: Path
    format: str
    parsed: Any


def infer_format(path: Path, format: str | None = None) -> str:
    """The format of ``path``: ``format`` if given, else the one its suffix names."""
    if format is not None:
        if format not in FORMATS:
            raise SchemaFileError(f"{path}: unknown format {format!r}; use {_choices()}")
        return format
    suffix = path.suffix.lower()
    if suffix in UNSUPPORTED_SUFFIXES:
        raise SchemaFileError(f"{path}: {UNSUPPORTED_SUFFIXES[suffix]}")
    if suffix not in SUFFIX_FORMATS:
        known = ", ".join(SUFFIX_FORMATS)
        raise SchemaFileError(
            f"{path}: cannot tell the schema format from the suffix {suffix or '(none)'!r} "
            f"(known: {known}); pass --format {_choices()}"
        )
    return SUFFIX_FORMATS[suffix]


def read_schema_text(path: Path) -> str:
    """The schema text in ``path``; for an Avro data file, the writer schema in its header."""
    if path.suffix.lower() == ".avro":
        return _avro_container_schema(path)
    try:
        data = read_file(path)
    except FileRefused as exc:
        raise SchemaFileError(f"{path}: {exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SchemaFileError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def read_references(references: Mapping[str, Path]) -> dict[str, str]:
    """Reference name → schema text, read from the files the user named."""
    return {name: read_schema_text(path) for name, path in references.items()}


def load_schema(
    path: Path,
    *,
    format: str | None = None,
    references: Mapping[str, Path] | None = None,
    reference_texts: Mapping[str, str] | None = None,
) -> SchemaFile:
    """Read and parse one schema file; any problem becomes a :class:`SchemaFileError`.

    ``references`` (name → file) lets an error inside a referenced schema name that
    file rather than the one that imports it.  ``reference_texts`` may pass the
    already-read references so a long history reads each of them once.
    """
    fmt = infer_format(path, format)
    refs = dict(references or {})
    texts = reference_texts if reference_texts is not None else read_references(refs)
    module = _module(fmt)
    text = read_schema_text(path)
    try:
        parsed = module.parse(text, references=texts or None)
    except SchemaParseError as exc:
        raise SchemaFileError(describe_parse_error(_culprit(path, refs, exc), exc)) from None
    except RecursionError:
        raise SchemaFileError(f"{path}: {TOO_DEEP}") from None
    return SchemaFile(path, fmt, parsed)


def check_files(
    candidate: Path,
    previous: Sequence[Path],
    *,
    format: str | None = None,
    mode: Mode | str = Mode.BACKWARD,
    references: Mapping[str, Path] | None = None,
) -> CompatibilityResult:
    """Check the schema in ``candidate`` against ``previous`` (oldest first).

    All files must hold the same format; each is read and parsed once, so a bad file
    is reported by name before any verdict is given.
    """
    paths = [candidate, *previous]
    formats = {path: infer_format(path, format) for path in paths}
    if len(set(formats.values())) > 1:
        listing = ", ".join(f"{path} ({fmt})" for path, fmt in formats.items())
        raise SchemaFileError(
            f"{candidate}: schemas of different formats cannot be compared: {listing}; "
            f"pass --format to read them all as one format"
        )
    fmt = formats[candidate]
    refs = dict(references or {})
    texts = read_references(refs)
    loaded = [
        load_schema(path, format=fmt, references=refs, reference_texts=texts) for path in paths
    ]
    try:
        return check_compatibility(
            loaded[0].parsed,
            [schema.parsed for schema in loaded[1:]],
            format=fmt,
            mode=mode,
            references=texts or None,
        )
    except RecursionError:
        raise SchemaFileError(f"{candidate}: {TOO_DEEP}") from None


def describe_parse_error(path: Path, exc: SchemaParseError) -> str:
    """``path: line 3, column 5: reason`` or ``path: $.fields[1]: reason``."""
    parts = [str(path), exc.location, exc.reason]
    return ": ".join(part for part in parts if part)


def _culprit(path: Path, references: Mapping[str, Path], exc: SchemaParseError) -> Path:
    """The file an error is in: a reference's when the error's source names one
    (``Money`` or ``reference 'Money'``), else the schema's own."""
    for name, file in references.items():
        if exc.source and (exc.source == name or repr(name) in exc.source):
            return file
    return path


def _module(fmt: str) -> FormatModule:
    try:
        return format_module(fmt)
    except ImportError as exc:
        raise SchemaFileError(
            f"{fmt} schemas need the optional dependencies: pip install 'eventscope[schemas]' "
            f"({exc})"
        ) from None


def _avro_container_schema(path: Path) -> str:
    """The writer schema in the header of an object container file, read without
    interpreting it, so a bad embedded schema is reported by the Avro parser like any
    other; only the header is read, however large the file."""
    try:
        with open_regular_file(path) as stream:
            return writer_schema(read_container_metadata(stream, MAX_FILE_BYTES))
    except (FileRefused, ContainerHeaderError) as exc:
        raise SchemaFileError(f"{path}: {exc}") from None
    except OSError as exc:
        raise SchemaFileError(f"{path}: {os_reason(exc)}") from None


def _choices() -> str:
    return "|".join(FORMATS)
