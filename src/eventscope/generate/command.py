"""The ``eventscope generate`` sub-command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from eventscope.errors import UsageError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "generate",
        help="write Grafana dashboards, alert rules, provisioning files and runbooks",
        description="Write dashboards (DIR/dashboards), Grafana provisioning files "
        "(DIR/provisioning), Prometheus rule files (DIR/alerts) and runbooks "
        "(DIR/runbooks) for the system described in the configuration. The same "
        "configuration always gives byte-identical files.",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="eventscope.toml, or a pyproject.toml with [tool.eventscope] (default: "
        "whichever of the two is in the current directory, else built-in defaults)",
    )
    parser.add_argument("--out", metavar="DIR", required=True, type=Path)
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if DIR is not exactly what would be generated",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from eventscope.config import load_config
        from eventscope.generate.disk import differences, write_files
        from eventscope.generate.files import generated_files
    except ImportError as exc:
        raise UsageError(
            f"needs the dashboards extra ({exc.name} is missing): "
            "pip install 'eventscope[dashboards]'"
        ) from None
    config = load_config(args.config)
    files = generated_files(config)
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: not a directory")
    if args.check:
        problems = differences(files, out)
        for problem in problems:
            print(f"{out / problem}", file=sys.stderr)
        if problems:
            print(
                f"{len(problems)} generated file(s) out of date: run eventscope generate "
                f"--out {out}" + (f" --config {args.config}" if args.config else ""),
                file=sys.stderr,
            )
            return 1
        print(f"{len(files)} generated files up to date in {out}")
        return 0
    changed = write_files(files, out)
    print(f"{len(files)} files generated in {out} ({len(changed)} changed) from {config.source}")
    return 0
