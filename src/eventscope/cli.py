"""The ``eventscope`` command.

Each area registers its own sub-commands; this module only builds the parser, runs
the chosen command and turns the errors users can fix into one clear line and exit
code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from eventscope.errors import UsageError


def build_parser() -> argparse.ArgumentParser:
    from eventscope.demo.command import register as register_demo
    from eventscope.generate.command import register as register_generate
    from eventscope.lag.command import register as register_lag
    from eventscope.registry.command import register as register_registry
    from eventscope.registry.sync_command import register as register_schema_sync
    from eventscope.schemas.cli import register as register_schema

    parser = argparse.ArgumentParser(
        prog="eventscope",
        description="Observability and contract testing for event-driven services.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register_demo(commands)
    register_schema_sync(register_schema(commands))
    register_registry(commands)
    register_lag(commands)
    register_generate(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except UsageError as exc:
        print(f"eventscope {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
