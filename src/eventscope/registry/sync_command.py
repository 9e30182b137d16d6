"""``eventscope schema push`` and ``eventscope schema pull`` (see :mod:`.sync`).

They talk to a registry, so they live in the registry package and join the ``schema``
command from above: :mod:`eventscope.schemas` knows nothing of registries.  Exit codes
follow ``schema check``: 0 done, 1 a version refused (push) or a file that disagrees
with the registry (pull), 2 bad input or a registry that cannot be reached.

Building the parser imports nothing but argparse: the client and the checker load when
``push`` or ``pull`` runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from eventscope.errors import UsageError

if TYPE_CHECKING:
    from eventscope.registry.client import RegistryClient


def register(actions: argparse._SubParsersAction) -> None:
    """Add ``push`` and ``pull`` to the ``schema`` command's sub-commands."""
    for name, run, description in (
        (
            "push",
            run_push,
            "Register every version of DIRECTORY the registry lacks, oldest first, each "
            "judged first by eventscope's checker against the registry's versions.",
        ),
        (
            "pull",
            run_pull,
            "Write the registry's subjects into DIRECTORY as <subject>/v<N>.<suffix>, "
            "leaving files that already hold the same schema alone.",
        ),
    ):
        command = actions.add_parser(
            name, help=description.split(",")[0].lower(), description=description
        )
        command.add_argument("directory", type=Path, metavar="DIRECTORY")
        command.add_argument(
            "--registry",
            required=True,
            metavar="URL",
            help="a Confluent-compatible registry (credentials: https://USER:PASSWORD@host)",
        )
        if name == "pull":
            command.add_argument(
                "--subject", action="append", metavar="SUBJECT", help="only these (repeatable)"
            )
        command.set_defaults(run=run)


def run_push(args: argparse.Namespace) -> int:
    from eventscope.registry.errors import RegistryError
    from eventscope.registry.sync import push
    from eventscope.schemas.directory import SchemaDirectoryError
    from eventscope.schemas.errors import SchemaParseError

    client = _client(args.registry)
    try:
        outcomes = push(client, args.directory)
    except (SchemaDirectoryError, SchemaParseError, RegistryError) as exc:
        raise UsageError(str(exc)) from None
    refused = 0
    for outcome in outcomes:
        for path, schema_id in outcome.registered:
            print(f"{outcome.subject}: registered {path} (id {schema_id})")
        if outcome.refused is not None:
            refused += 1
            print(f"{outcome.subject}: REFUSED {outcome.refused}")
            for message in outcome.messages:
                print(f"    {message}")
        elif not outcome.registered:
            print(f"{outcome.subject}: up to date ({outcome.unchanged} version(s))")
    return 1 if refused else 0


def run_pull(args: argparse.Namespace) -> int:
    from eventscope.registry.errors import RegistryError
    from eventscope.registry.sync import pull

    client = _client(args.registry)
    try:
        outcomes = pull(client, args.directory, args.subject)
    except RegistryError as exc:
        raise UsageError(str(exc)) from None
    conflicts = 0
    for outcome in outcomes:
        for path in outcome.written:
            print(f"{outcome.subject}: wrote {path}")
        for conflict in outcome.conflicts:
            conflicts += 1
            print(f"{outcome.subject}: CONFLICT {conflict}")
        if not outcome.written and not outcome.conflicts:
            print(f"{outcome.subject}: up to date ({outcome.unchanged} version(s))")
    return 1 if conflicts else 0


def _client(url: str) -> RegistryClient:
    from eventscope.registry.client import RegistryClient

    try:
        return RegistryClient(url)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
