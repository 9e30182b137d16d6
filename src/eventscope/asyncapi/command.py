"""The ``eventscope asyncapi`` sub-command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from eventscope.errors import UsageError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "asyncapi",
        help="write the service's AsyncAPI 3.0 document",
        description="Write the AsyncAPI 3.0 document of the service the configuration "
        "describes ([asyncapi] in eventscope.toml): its servers, channels (dead-letter "
        "channels included), send and receive operations with their consumer groups, and "
        "each destination's payload from the schemas directory or a schema registry. The "
        "same configuration and schemas always give the same document.",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="eventscope.toml, or a pyproject.toml with [tool.eventscope] (default: "
        "whichever of the two is in the current directory)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--schemas", metavar="DIR", type=Path, help="schemas directory (default: asyncapi.schemas)"
    )
    source.add_argument(
        "--registry", metavar="URL", help="read each subject's latest version from a registry"
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--out", metavar="FILE", type=Path, help="write here (default: stdout)")
    target.add_argument(
        "--check",
        metavar="FILE",
        type=Path,
        help="write nothing; exit 1 and say what changed if FILE is not what would be written",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        import yaml  # noqa: F401  (the document is YAML)

        from eventscope.asyncapi.render import read_document, to_yaml
        from eventscope.asyncapi.service import service_document
    except ImportError as exc:
        raise UsageError(
            f"needs the asyncapi extra ({exc.name} is missing): pip install 'eventscope[asyncapi]'"
        ) from None
    from eventscope.config import load_config

    config = load_config(args.config)
    document = service_document(config, args.schemas, args.registry)
    if args.check is not None:
        from eventscope.asyncapi.drift import differences

        changes = differences(read_document(args.check), document)
        if changes:
            print(f"{args.check}: out of date with the code:", file=sys.stderr)
            for line in changes:
                print(f"  {line}", file=sys.stderr)
            print(f"regenerate it: eventscope asyncapi --out {args.check}", file=sys.stderr)
            return 1
        print(f"{args.check}: up to date")
        return 0
    text = to_yaml(document)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--out {args.out}: cannot write: {exc.strerror}") from None
    print(f"{args.out}: written from {config.source}")
    return 0
