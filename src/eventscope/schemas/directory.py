"""A directory of schema histories, checked the way a registry would check each new version.

Teams keep their event schemas in git and want CI to refuse a change the registry would
refuse.  The layout mirrors the registry's model, one directory per subject holding its
versions oldest first::

    schemas/
      config.toml                  optional: defaults for every subject
      orders-value/
        config.toml                optional: compatibility, format, references
        v1.avsc
        v2.avsc
        v3-add-currency.avsc       text after "v<N>-" or "v<N>_" is a free description
      _shared/                     "_" or "." prefix: not a subject (referenced types live here)
        money.avsc

``config.toml`` (both levels; a subject's keys override the top level's)::

    compatibility = "FULL_TRANSITIVE"   # any Confluent mode; default BACKWARD
    format = "avro"                     # only when the suffix does not say it (.json Avro)
    [references]                        # name -> file, relative to this config.toml
    "com.acme.Money" = "../_shared/money.avsc"

Only the newest version is checked, against the history its mode names: the older
versions were accepted when they were added, exactly as in the registry.  Version numbers
need not be contiguous (deleting a version's file takes it out of the history, as deleting
a version does in the registry) but must be unique.  Problems are reported per subject so
one broken subject does not hide the verdicts of the others.
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eventscope.schemas.errors import crash_report
from eventscope.schemas.files import (
    UNSUPPORTED_SUFFIXES,
    SchemaFileError,
    check_files,
    infer_format,
)
from eventscope.schemas.formats import FORMATS, SUFFIX_FORMATS
from eventscope.schemas.reading import FileRefused, read_file
from eventscope.schemas.verdicts import CompatibilityResult, Incompatibility, Mode

CONFIG_NAME = "config.toml"
DEFAULT_MODE = Mode.BACKWARD
_VERSION_STEM = re.compile(r"v([0-9]+)(?:[-_].*)?", re.IGNORECASE | re.DOTALL)
#: The registry numbers versions from 1 with a 32-bit signed integer.
MAX_VERSION = 2**31 - 1
_SCHEMA_SUFFIXES = frozenset(SUFFIX_FORMATS) | frozenset(UNSUPPORTED_SUFFIXES)
_CONFIG_KEYS = frozenset({"compatibility", "format", "references"})
_TOML_POSITION = re.compile(r"(.*) \(at (line \d+, column \d+)\)")


class SchemaDirectoryError(ValueError):
    """The directory as a whole cannot be checked; the message names the path."""


class Status(enum.StrEnum):
    OK = "OK"
    INCOMPATIBLE = "INCOMPATIBLE"
    ERROR = "ERROR"


@dataclass(frozen=True, slots=True)
class Version:
    """One registered version of a subject: its number and the file holding it."""

    number: int
    path: Path


@dataclass(frozen=True, slots=True)
class Config:
    """The settings of ``config.toml``; ``None`` means "inherit"."""

    compatibility: Mode | None = None
    format: str | None = None
    references: Mapping[str, Path] = field(default_factory=dict)

    def under(self, parent: Config) -> Config:
        """These settings with ``parent``'s filling the gaps (references merged)."""
        return Config(
            self.compatibility or parent.compatibility,
            self.format or parent.format,
            {**parent.references, **self.references},
        )


@dataclass(frozen=True, slots=True)
class Subject:
    """A subject's history as found on disk.

    ``problems`` lists what makes it uncheckable (bad config, mixed formats, duplicate
    version numbers...), each message naming the file; such a subject reports ERROR.
    """

    name: str
    directory: Path
    mode: Mode
    format: str | None
    versions: tuple[Version, ...]
    references: Mapping[str, Path]
    problems: tuple[str, ...] = ()

    @property
    def latest(self) -> Version | None:
        return self.versions[-1] if self.versions else None


@dataclass(frozen=True, slots=True)
class SubjectReport:
    """The verdict on a subject's newest version."""

    subject: Subject
    status: Status
    result: CompatibilityResult | None = None
    errors: tuple[str, ...] = ()

    @property
    def incompatibilities(self) -> tuple[Incompatibility, ...]:
        return self.result.incompatibilities if self.result is not None else ()

    def file_of(self, incompatibility: Incompatibility) -> Path | None:
        """The file of the version an incompatibility was found against."""
        for version in self.subject.versions:
            if version.number == incompatibility.version:
                return version.path
        return None

    def to_dict(self) -> dict[str, Any]:
        subject = self.subject
        latest = subject.latest
        incompatibilities = []
        for item in self.incompatibilities:
            file = self.file_of(item)
            incompatibilities.append({**item.to_dict(), "file": str(file) if file else None})
        return {
            "subject": subject.name,
            "status": str(self.status),
            "mode": str(subject.mode),
            "format": subject.format,
            "candidate": str(latest.path) if latest else None,
            "versions": [{"version": v.number, "file": str(v.path)} for v in subject.versions],
            "incompatibilities": incompatibilities,
            "errors": list(self.errors),
        }


@dataclass(frozen=True, slots=True)
class DirectoryReport:
    """Every subject's verdict; ``exit_code`` is what CI should exit with."""

    root: Path
    subjects: tuple[SubjectReport, ...]

    def count(self, status: Status) -> int:
        return sum(1 for report in self.subjects if report.status is status)

    @property
    def exit_code(self) -> int:
        if self.count(Status.ERROR):
            return 2
        return 1 if self.count(Status.INCOMPATIBLE) else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.root),
            "exit_code": self.exit_code,
            "summary": {str(status): self.count(status) for status in Status},
            "subjects": [report.to_dict() for report in self.subjects],
        }


def load_schema_directory(root: Path | str) -> list[Subject]:
    """Every subject under ``root``, sorted by name, with its problems recorded.

    Raises :class:`SchemaDirectoryError` when ``root`` is not a directory, its own
    ``config.toml`` is invalid, or it holds no subject at all (a CI job pointed at the
    wrong directory must not pass by checking nothing).
    """
    root = Path(root)
    if not root.is_dir():
        raise SchemaDirectoryError(f"{root}: not a directory")
    defaults_problems: list[str] = []
    defaults = _read_config(root / CONFIG_NAME, defaults_problems)
    if defaults_problems:
        raise SchemaDirectoryError("; ".join(defaults_problems))
    try:
        entries = sorted(root.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise SchemaDirectoryError(f"{root}: {exc.strerror or exc}") from None
    subjects = [
        _load_subject_safely(entry, defaults)
        for entry in entries
        if not entry.name.startswith((".", "_")) and (entry.is_dir() or _dangling(entry))
    ]
    if not subjects:
        raise SchemaDirectoryError(
            f"{root}: no subjects found; expected {root}/<subject>/v1.avsc, v2.avsc, ..."
        )
    return subjects


def load_subject(directory: Path, defaults: Config | None = None) -> Subject:
    """One subject directory, its settings resolved against the top level's ``defaults``."""
    problems: list[str] = []
    config = _read_config(directory / CONFIG_NAME, problems).under(defaults or Config())
    versions = _versions(directory, problems)
    fmt = _subject_format(directory, versions, config.format, problems)
    if not versions and not problems:
        problems.append(f"{directory}: no versions; add v1.avsc, v1.json or v1.proto")
    return Subject(
        name=directory.name,
        directory=directory,
        mode=config.compatibility or DEFAULT_MODE,
        format=fmt,
        versions=tuple(versions),
        references=dict(config.references),
        problems=tuple(problems),
    )


def _load_subject_safely(entry: Path, defaults: Config) -> Subject:
    """:func:`load_subject`, with anything unforeseen kept to this subject's report."""
    if _dangling(entry):
        return _broken_subject(entry, f"{entry}: dangling symbolic link to {_link_target(entry)}")
    try:
        return load_subject(entry, defaults)
    except Exception as exc:  # one subject's failure must not hide the others' verdicts
        return _broken_subject(entry, f"{entry}: cannot be read ({crash_report(exc)})")


def _broken_subject(directory: Path, problem: str) -> Subject:
    return Subject(directory.name, directory, DEFAULT_MODE, None, (), {}, (problem,))


def check_subject(subject: Subject) -> SubjectReport:
    """Check the newest version against the history the subject's mode names.

    Every version file is parsed, even those the mode does not compare, so a broken
    file in the history is found now rather than when the mode changes.  Whatever
    happens while checking becomes this subject's error, never an exception that
    would lose the other subjects' verdicts.
    """
    try:
        return _check_subject(subject)
    except Exception as exc:
        where = subject.latest.path if subject.latest else subject.directory
        return SubjectReport(subject, Status.ERROR, errors=(f"{where}: {crash_report(exc)}",))


def _check_subject(subject: Subject) -> SubjectReport:
    if subject.problems or subject.latest is None:
        return SubjectReport(subject, Status.ERROR, errors=subject.problems)
    *history, latest = subject.versions
    try:
        result = check_files(
            latest.path,
            [version.path for version in history],
            format=subject.format,
            mode=subject.mode,
            references=subject.references,
        )
    except SchemaFileError as exc:
        return SubjectReport(subject, Status.ERROR, errors=(str(exc),))
    numbered = tuple(
        replace(item, version=history[item.version - 1].number) for item in result.incompatibilities
    )
    result = replace(result, incompatibilities=numbered)
    status = Status.OK if result.is_compatible else Status.INCOMPATIBLE
    return SubjectReport(subject, status, result)


def check_directory(root: Path | str) -> DirectoryReport:
    """Load and check every subject under ``root``."""
    root = Path(root)
    return DirectoryReport(root, tuple(check_subject(s) for s in load_schema_directory(root)))


def _read_config(path: Path, problems: list[str]) -> Config:
    """``config.toml`` at ``path`` (absent → no settings); problems name the file and key."""
    if not path.exists() and not path.is_symlink():
        return Config()
    try:
        raw = tomllib.loads(read_file(path).decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: {_toml_reason(exc)}")
        return Config()
    except FileRefused as exc:
        problems.append(f"{path}: {exc}")
        return Config()
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: not UTF-8 text (byte offset {exc.start})")
        return Config()
    for key in sorted(set(raw) - _CONFIG_KEYS):
        problems.append(f"{path}: unknown key {key!r}; expected {', '.join(sorted(_CONFIG_KEYS))}")
    return Config(
        _config_mode(path, raw.get("compatibility"), problems),
        _config_format(path, raw.get("format"), problems),
        _config_references(path, raw.get("references", {}), problems),
    )


def _toml_reason(exc: tomllib.TOMLDecodeError) -> str:
    """``line 3, column 5: Invalid value``, the order every other message uses."""
    match = _TOML_POSITION.fullmatch(str(exc))
    return f"{match[2]}: {match[1]}" if match else str(exc)


def _config_mode(path: Path, value: object, problems: list[str]) -> Mode | None:
    if value is None:
        return None
    if isinstance(value, str) and value.upper() in Mode.__members__:
        return Mode(value.upper())
    problems.append(f"{path}: compatibility = {value!r} is not one of {', '.join(Mode)}")
    return None


def _config_format(path: Path, value: object, problems: list[str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value in FORMATS:
        return value
    problems.append(f"{path}: format = {value!r} is not one of {', '.join(FORMATS)}")
    return None


def _config_references(path: Path, value: object, problems: list[str]) -> dict[str, Path]:
    if not isinstance(value, dict):
        problems.append(f'{path}: [references] must be a table of name = "file"')
        return {}
    references: dict[str, Path] = {}
    for name, target in value.items():
        if not isinstance(target, str):
            problems.append(f"{path}: references.{name} must be a file path string")
            continue
        file = path.parent / target
        if not file.is_file():
            reason = "not a regular file" if file.exists() else "no such file"
            problems.append(f"{path}: references.{name}: {reason} {file}")
            continue
        references[name] = file
    return references


def _versions(directory: Path, problems: list[str]) -> list[Version]:
    """The version files in ``directory`` in numeric order; other schema files are errors."""
    by_number: dict[int, Path] = {}
    try:
        entries = sorted(directory.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        problems.append(f"{directory}: {exc.strerror or exc}")
        return []
    for entry in entries:
        if entry.name.startswith(".") or entry.suffix.lower() not in _SCHEMA_SUFFIXES:
            continue
        if not entry.is_file():
            if _dangling(entry):
                problems.append(f"{entry}: dangling symbolic link to {_link_target(entry)}")
            elif not entry.is_dir():
                problems.append(f"{entry}: not a regular file")
            continue
        match = _VERSION_STEM.fullmatch(entry.stem)
        if match is None:
            problems.append(
                f"{entry}: not a version file; name versions v1{entry.suffix}, "
                f"v2{entry.suffix}, ... (oldest first)"
            )
            continue
        number = int(match.group(1)) if len(match.group(1)) <= 10 else MAX_VERSION + 1
        if not 1 <= number <= MAX_VERSION:
            problems.append(
                f"{entry}: version numbers run from 1 to {MAX_VERSION:,}, as in the registry"
            )
            continue
        if number in by_number:
            problems.append(f"{entry}: version {number} is also {by_number[number]}")
            continue
        by_number[number] = entry
    return [Version(number, by_number[number]) for number in sorted(by_number)]


def _subject_format(
    directory: Path, versions: list[Version], configured: str | None, problems: list[str]
) -> str | None:
    """The one format all versions share, or ``None`` with the reason in ``problems``."""
    formats: dict[str, Path] = {}
    for version in versions:
        try:
            formats.setdefault(infer_format(version.path, configured), version.path)
        except SchemaFileError as exc:
            problems.append(str(exc))
    if len(formats) > 1:
        listing = ", ".join(f"{path.name} is {fmt}" for fmt, path in formats.items())
        problems.append(
            f"{directory}: versions mix formats ({listing}); keep one format per subject, "
            f'or set format = "..." in {directory / CONFIG_NAME} if the suffixes mislead'
        )
        return None
    return next(iter(formats), configured)


def _dangling(entry: Path) -> bool:
    return entry.is_symlink() and not entry.exists()


def _link_target(entry: Path) -> str:
    try:
        return str(entry.readlink())
    except OSError:
        return "a missing file"
