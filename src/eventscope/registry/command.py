"""``eventscope registry serve``: the Confluent-compatible registry from the shell.

For local work, CI jobs and teams that run their own registry without a JVM or a
container: ``--storage`` says where the state lives (a SQLite file in the working
directory by default, so a restart loses nothing; PostgreSQL for several instances),
``--schemas`` preloads the team's schemas directory so the registry holds the history in
git.  A bad directory, storage or a port already taken is bad input (exit 2) and nothing
is served.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from eventscope.errors import UsageError
from eventscope.registry.auth import ROLES, UsersFileError, hash_password
from eventscope.registry.server import AUTO, EmbeddedRegistry, is_loopback
from eventscope.registry.storage import DEFAULT_STORAGE, StorageError
from eventscope.schemas.directory import SchemaDirectoryError
from eventscope.schemas.verdicts import Mode


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``registry`` and ``registry serve`` to the ``eventscope`` parser."""
    registry = commands.add_parser(
        "registry",
        help="run an embedded Confluent-compatible schema registry",
        description="A schema registry speaking Confluent's REST API, kept in SQLite or "
        "PostgreSQL, judging new versions with eventscope's compatibility checker.",
    )
    actions = registry.add_subparsers(dest="registry_command", metavar="COMMAND", required=True)
    serve = actions.add_parser(
        "serve",
        help="serve the registry until interrupted",
        description="Serve a schema registry until Ctrl-C. With --schemas, every "
        "subject of the schemas directory is registered first, its versions numbered as "
        "their files are (v3-*.avsc is version 3).",
    )
    serve.add_argument("--port", type=_port, default=8081, help="port (default 8081; 0: any)")
    serve.add_argument("--address", default="127.0.0.1", help="address (default 127.0.0.1)")
    serve.add_argument(
        "--schemas", type=Path, metavar="DIR", help="schemas directory to preload (see docs)"
    )
    serve.add_argument(
        "--storage",
        default=DEFAULT_STORAGE,
        metavar="URL",
        help="where versions are kept: sqlite:///FILE, postgresql://USER@HOST:PORT/DATABASE "
        f"or memory (default {DEFAULT_STORAGE}, in the working directory)",
    )
    serve.add_argument(
        "--users",
        type=Path,
        metavar="FILE",
        help="users and tokens with their roles (TOML; see docs/registry.md)",
    )
    serve.add_argument(
        "--anonymous",
        choices=[*ROLES, "none"],
        help="role of requests without credentials (default: admin on a loopback address "
        "without --users, none otherwise)",
    )
    serve.add_argument(
        "--compatibility",
        type=_mode,
        default=Mode.BACKWARD,
        metavar="MODE",
        help=f"global compatibility level: {', '.join(Mode)} (default BACKWARD)",
    )
    serve.set_defaults(run=run_serve)
    hashing = actions.add_parser(
        "hash-password",
        help="hash a password for a users file",
        description="Read a password from the terminal (or one line of standard input) and "
        "print its scrypt hash, for the password = of a [users.NAME] table.",
    )
    hashing.set_defaults(run=run_hash_password)


def run_serve(args: argparse.Namespace) -> int:
    anonymous = _anonymous(args)
    try:
        registry = EmbeddedRegistry(
            address=args.address,
            port=args.port,
            schemas=args.schemas,
            compatibility=args.compatibility,
            storage=args.storage,
            users=args.users,
            anonymous=anonymous,
        )
    except (SchemaDirectoryError, StorageError, UsersFileError) as exc:
        raise UsageError(str(exc)) from None
    try:
        url = registry.start()
    except OSError as exc:
        registry.stop()
        raise UsageError(
            f"cannot listen on {args.address}:{args.port}: {exc.strerror or exc}"
        ) from None
    # Ctrl-C may come as soon as the server answers, before the banner is even out: the
    # whole serving section stops cleanly on it.
    try:
        summary = (
            f"{registry.store.storage.description}, compatibility {registry.store.compatibility()}"
        )
        if args.schemas is not None:
            subjects = len(registry.store.subjects())
            summary += (
                f", {registry.preloaded} version(s) of {subjects} subject(s) from {args.schemas}"
            )
        print(f"schema registry serving at {url} ({summary}); Ctrl-C stops it", flush=True)
        registry.wait()
    except KeyboardInterrupt:
        pass
    finally:
        registry.stop()
    return 0


def run_hash_password(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise UsageError("an empty password cannot be hashed")
    print(hash_password(password))
    return 0


def _anonymous(args: argparse.Namespace) -> str | None:
    """The anonymous role, refusing a registry open to the network that nobody could use
    or, silently, anybody could."""
    if args.anonymous is None:
        if args.users is None and not is_loopback(args.address):
            raise UsageError(
                f"{args.address} is reachable from other machines: give --users FILE, or "
                "--anonymous ROLE to let anyone who can reach it in"
            )
        return AUTO
    anonymous = None if args.anonymous == "none" else args.anonymous
    if anonymous is not None and not is_loopback(args.address):
        print(
            f"eventscope registry: warning: anyone who can reach {args.address} may "
            f"{anonymous} without credentials (--anonymous {anonymous})",
            file=sys.stderr,
        )
    return anonymous


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return port


def _mode(text: str) -> Mode:
    if text.upper() not in Mode.__members__:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(Mode)}")
    return Mode(text.upper())
