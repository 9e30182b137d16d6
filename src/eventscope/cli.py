"""The ``eventscope`` command.

Each area registers its own sub-commands; this module only builds the parser, runs
the chosen command and turns the errors users can fix into one clear line and exit
code 2, never a traceback.

A team installs only the extra its commands need (``eventscope[schemas]`` for schema
checks in CI, ``eventscope[lag,rabbitmq]`` for a lag exporter), so the parser imports
nothing but the chosen command's module: ``eventscope --help`` works on a bare install,
and a command whose extra is missing says which one to install, in one line.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from eventscope.errors import UsageError


@dataclass(frozen=True)
class Command:
    """One sub-command: where its ``register`` lives and the extra it needs, if any."""

    name: str
    summary: str
    module: str
    extra: str | None
    joined_by: tuple[str, ...] = ()
    """Modules whose ``register`` adds sub-commands to this command's set (a higher
    layer's: ``schema push|pull`` need the registry client, which builds on schemas)."""


COMMANDS = (
    Command(
        "demo",
        "run the example order system on the in-memory bus",
        "eventscope.demo.command",
        None,
    ),
    Command(
        "schema",
        "check schema compatibility the way Confluent Schema Registry does",
        "eventscope.schemas.cli",
        "schemas",
        joined_by=("eventscope.registry.sync_command",),
    ),
    Command(
        "registry",
        "run an embedded Confluent-compatible schema registry",
        "eventscope.registry.command",
        "registry",
    ),
    Command(
        "lag",
        "consumer lag and dead-letter depth, once or as a Prometheus exporter",
        "eventscope.lag.command",
        "lag",
    ),
    Command(
        "outbox",
        "relay a transactional outbox table to a broker",
        "eventscope.outbox.command",
        None,
    ),
    Command(
        "generate",
        "write Grafana dashboards, alert rules, provisioning files and runbooks",
        "eventscope.generate.command",
        "dashboards",
    ),
    Command(
        "asyncapi",
        "write or check the service's AsyncAPI 3.0 document",
        "eventscope.asyncapi.command",
        "asyncapi",
    ),
)
"""Every sub-command, in the order ``eventscope --help`` lists them."""


class MissingExtra(UsageError):
    """A command needs a library its extra installs and the extra is not installed."""

    def __init__(self, command: Command, missing: str) -> None:
        extra = command.extra or "dev"
        super().__init__(
            f"needs the {extra} extra (no module named {missing!r}): "
            f"pip install 'eventscope[{extra}]'"
        )


def _missing_dependency(exc: ImportError) -> str | None:
    """The third-party module an import failed on, ``None`` for a bug in eventscope."""
    name = getattr(exc, "name", None)
    if not isinstance(exc, ModuleNotFoundError) or not name:
        return None
    return None if name.split(".")[0] == "eventscope" else name


def _chosen(argv: Sequence[str]) -> Command | None:
    """The command named on the line: the first argument that is not an option."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return next((command for command in COMMANDS if command.name == first), None)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser, with the full arguments of the command ``argv`` names (only that one).

    The other commands appear by name and summary so ``--help`` lists them all without
    importing any of them.
    """
    parser = argparse.ArgumentParser(
        prog="eventscope",
        description="Observability and contract testing for event-driven services.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = _chosen(argv)
    for command in COMMANDS:
        if command is not chosen:
            commands.add_parser(command.name, help=command.summary)
            continue
        try:
            registered = importlib.import_module(command.module).register(commands)
            for module in command.joined_by:
                importlib.import_module(module).register(registered)
        except ImportError as exc:
            missing = _missing_dependency(exc)
            if missing is None:
                raise
            raise MissingExtra(command, missing) from None
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    chosen = _chosen(arguments)
    try:
        parser = build_parser(arguments)
        args = parser.parse_args(arguments)
        return int(args.run(args) or 0)
    except UsageError as exc:
        name = chosen.name if chosen else "eventscope"
        print(f"eventscope {name}: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        missing = _missing_dependency(exc)
        if missing is None or chosen is None:
            raise
        print(f"eventscope {chosen.name}: {MissingExtra(chosen, missing)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
