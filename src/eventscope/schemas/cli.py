"""``eventscope schema check`` and ``eventscope schema check-dir``.

Made for CI: the exit code is the verdict (0 compatible, 1 incompatible, 2 bad input),
every problem names the file and the place in it, and ``--json`` gives the same verdict
to tools.  The checking itself lives in :mod:`eventscope.schemas.files` and
:mod:`eventscope.schemas.directory`; this module only parses flags and prints.
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eventscope.errors import UsageError
from eventscope.schemas.directory import (
    CONFIG_NAME,
    DirectoryReport,
    SchemaDirectoryError,
    Status,
    SubjectReport,
    check_directory,
)
from eventscope.schemas.errors import crash_report
from eventscope.schemas.files import SchemaFileError, check_files
from eventscope.schemas.formats import FORMATS
from eventscope.schemas.verdicts import CompatibilityResult, Incompatibility, Mode

_INDENT = "    "


def register(commands: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """Add ``schema`` and its sub-commands to the ``eventscope`` parser; the sub-command
    set, which the registry's ``push`` and ``pull`` join."""
    schema = commands.add_parser(
        "schema",
        help="check schema compatibility the way Confluent Schema Registry does",
        description="Schema compatibility verdicts matching Confluent Schema Registry's. "
        "Exit 0 compatible, 1 incompatible, 2 bad input.",
    )
    actions = schema.add_subparsers(dest="schema_command", metavar="COMMAND", required=True)
    _add_check(actions)
    _add_check_dir(actions)
    return actions


def _add_check(actions: argparse._SubParsersAction) -> None:
    check = actions.add_parser(
        "check",
        help="check one schema file against its previous versions",
        description="Check CANDIDATE against the OLD versions (oldest first). The format "
        "comes from the suffix: .avsc (Avro), .avro (Avro data file: its writer schema), "
        ".json (JSON Schema), .proto (Protobuf); --format overrides it.",
    )
    check.add_argument("candidate", type=Path, metavar="CANDIDATE", help="the new schema")
    check.add_argument(
        "--against",
        nargs="+",
        type=Path,
        required=True,
        metavar="OLD",
        help="previous versions, oldest first",
    )
    check.add_argument("--format", choices=FORMATS, help="read every file as this format")
    check.add_argument(
        "--mode",
        type=_mode,
        default=Mode.BACKWARD,
        metavar="MODE",
        help=f"compatibility mode: {', '.join(Mode)} (default BACKWARD)",
    )
    check.add_argument(
        "--reference",
        action="append",
        type=_reference,
        default=[],
        metavar="NAME=FILE",
        help="a schema the others refer to: an Avro type's full name, a .proto import "
        "path or a JSON Schema $ref URL, and the file holding it (repeatable)",
    )
    check.add_argument("--json", action="store_true", help="print the verdict as JSON")
    check.set_defaults(run=run_check)


def _add_check_dir(actions: argparse._SubParsersAction) -> None:
    check_dir = actions.add_parser(
        "check-dir",
        help="check the newest version of every subject in a schemas directory",
        description="Check DIRECTORY/<subject>/v<N>.<suffix>: each subject's newest "
        f"version against its history, under the mode set in {CONFIG_NAME} "
        "(default BACKWARD). See docs/schemas.md for the layout.",
    )
    check_dir.add_argument("directory", type=Path, metavar="DIRECTORY")
    check_dir.add_argument("--json", action="store_true", help="print the report as JSON")
    check_dir.set_defaults(run=run_check_dir)


def run_check(args: argparse.Namespace) -> int:
    """``schema check``: print the verdict, return 0 compatible or 1 incompatible."""
    references = dict(args.reference)
    if len(references) < len(args.reference):
        names = [name for name, _ in args.reference]
        twice = sorted({name for name in names if names.count(name) > 1})
        raise UsageError(f"--reference names {', '.join(twice)} more than once")
    try:
        result = check_files(
            args.candidate,
            args.against,
            format=args.format,
            mode=args.mode,
            references=references,
        )
    except SchemaFileError as exc:
        raise UsageError(printable(str(exc))) from None
    except Exception as exc:  # exit 1 would read as "incompatible" to CI
        raise UsageError(printable(f"{args.candidate}: {crash_report(exc)}")) from None
    if args.json:
        print(json.dumps(_check_json(args.candidate, args.against, result), indent=2))
    else:
        _print_check(args.candidate, args.against, result)
    return 0 if result.is_compatible else 1


def run_check_dir(args: argparse.Namespace) -> int:
    """``schema check-dir``: one line per subject; exit 0, 1 or 2 for the worst of them."""
    try:
        report = check_directory(args.directory)
    except SchemaDirectoryError as exc:
        raise UsageError(printable(str(exc))) from None
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        _print_directory(report)
    return report.exit_code


def printable(text: str) -> str:
    """``text`` with control and format characters escaped (``\\x1b``, ``\\u202e``).

    File and subject names come from whoever wrote the repository: printed raw, an
    escape sequence in a name could rewrite the terminal or a CI log, and a bidi
    override could make one name read as another.
    """
    if text.isprintable():
        return text
    return "".join(
        char
        if char == " " or unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp")
        else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def _describe(item: Incompatibility, file: Path | None) -> str:
    """One incompatibility as a line: version, direction, type, location, message."""
    version = f"version {item.version}" + (f" ({file})" if file else "")
    location = f" at {item.location}" if item.location else ""
    return f"{version}, {item.direction}: {item.type}{location}: {item.message}"


def _check_json(
    candidate: Path, against: Sequence[Path], result: CompatibilityResult
) -> dict[str, Any]:
    doc = result.to_dict()
    for item in doc["incompatibilities"]:
        item["file"] = str(against[item["version"] - 1])
    return {"candidate": str(candidate), "against": [str(p) for p in against], **doc}


def _print_check(candidate: Path, against: Sequence[Path], result: CompatibilityResult) -> None:
    if result.is_compatible:
        names = ", ".join(str(p) for p in against)
        print(printable(f"OK: {candidate} is {result.mode} compatible with {names}"))
        return
    count = len(result.incompatibilities)
    print(printable(f"INCOMPATIBLE: {candidate} breaks {result.mode} ({count} problem(s)):"))
    for item in result.incompatibilities:
        print(_INDENT + printable(_describe(item, against[item.version - 1])))


def _print_directory(report: DirectoryReport) -> None:
    name_width = max(len(printable(r.subject.name)) for r in report.subjects)
    mode_width = max(len(r.subject.mode) for r in report.subjects)
    for subject_report in report.subjects:
        _print_subject(subject_report, name_width, mode_width)
    counts = ", ".join(f"{report.count(s)} {s.lower()}" for s in Status)
    print(f"{len(report.subjects)} subject(s): {counts}")


def _print_subject(report: SubjectReport, name_width: int, mode_width: int) -> None:
    subject = report.subject
    head = f"{report.status:<12}  {printable(subject.name):<{name_width}}"
    if report.status is Status.ERROR:
        print(head.rstrip())
        for error in report.errors:
            print(_INDENT + printable(error))
        return
    *history, latest = subject.versions
    print(
        f"{head}  {subject.mode:<{mode_width}}  {printable(latest.path.name)} "
        f"against {len(history)} older version(s)"
    )
    for item in report.incompatibilities:
        print(_INDENT + printable(_describe(item, report.file_of(item))))


def _mode(text: str) -> Mode:
    try:
        return Mode(text.upper())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown mode {text!r}; choose from {', '.join(Mode)}"
        ) from None


def _reference(text: str) -> tuple[str, Path]:
    name, sep, file = text.partition("=")
    if not (sep and name and file):
        raise argparse.ArgumentTypeError(f"expected NAME=FILE, got {text!r}")
    return name, Path(file)
