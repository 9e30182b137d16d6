"""``eventscope outbox``: create an outbox table, show what waits in it, relay it to a broker."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from typing import Any

from eventscope.errors import UsageError
from eventscope.outbox.connection import connect
from eventscope.outbox.metrics import RelayStats, register_metrics
from eventscope.outbox.publishers import BROKERS, publisher_for
from eventscope.outbox.relay import BacklogReader, Relay, RelayPolicy
from eventscope.outbox.table import DEFAULT_TABLE, Backlog, OutboxTable, checked_table

logger = logging.getLogger("eventscope.outbox")


def _count(name: str, minimum: float, kind: type = int):
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, not {text!r}") from None
        if not value >= minimum:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{name} must be ≥ {minimum:g}, not {text!r}")
        return value

    return parse


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "outbox",
        help="relay a transactional outbox table to a broker",
        description="The transactional outbox (docs/outbox.md): create its table, show "
        "the rows waiting in it, or relay them to a broker with their stored trace headers.",
    )
    modes = parser.add_subparsers(dest="outbox_mode", metavar="MODE", required=True)

    def with_table(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--dsn", required=True, help="postgresql://user@host/db or sqlite:///path/to/file.db"
        )
        sub.add_argument("--table", default=DEFAULT_TABLE, help=f"default {DEFAULT_TABLE}")

    init = modes.add_parser("init", help="create the outbox table and its indexes")
    with_table(init)
    init.set_defaults(run=_init)

    status = modes.add_parser("status", help="rows waiting per destination")
    with_table(status)
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(run=_status)

    relay = modes.add_parser(
        "relay",
        help="publish waiting rows to a broker until stopped",
        description="Claim waiting rows (several relays may share a table), publish them "
        "with their stored headers, mark them published; retry failures with backoff and "
        "delete published rows after the retention period.",
    )
    with_table(relay)
    relay.add_argument("--broker", required=True, choices=sorted(BROKERS))
    relay.add_argument("--bootstrap", help="Kafka bootstrap servers, host:port[,host:port]")
    relay.add_argument("--url", help="broker URL: amqp://..., nats://..., redis://...")
    relay.add_argument("--batch-size", type=_count("--batch-size", 1), default=100)
    relay.add_argument(
        "--retention",
        type=_count("--retention", 0, float),
        default=RelayPolicy.retention,
        help="seconds to keep published rows (default one day)",
    )
    relay.add_argument(
        "--metrics-port",
        type=_count("--metrics-port", 0),
        help="serve the outbox metrics on /metrics here (0: any free port)",
    )
    relay.add_argument("--once", action="store_true", help="publish what is waiting now, then exit")
    relay.set_defaults(run=_relay)


def _table(args: argparse.Namespace) -> str:
    return checked_table(args.table)


def _init(args: argparse.Namespace) -> int:
    table = _table(args)
    connection, dialect = connect(args.dsn)
    try:
        OutboxTable(dialect, table).create(connection)
        connection.commit()
    finally:
        connection.close()
    print(f"outbox table {table} ready in {dialect.name}")
    return 0


def _backlog(args: argparse.Namespace) -> list[Backlog]:
    """What waits now; a table that cannot be read is bad input, said in one line."""
    reader = BacklogReader(args.dsn, _table(args))
    try:
        return reader()
    except UsageError:
        raise
    except Exception as exc:
        raise UsageError(
            f"cannot read outbox table {args.table} ({exc}); "
            "create it with: eventscope outbox init --dsn ..."
        ) from exc
    finally:
        reader.close()


def _status(args: argparse.Namespace) -> int:
    readings = _backlog(args)
    if args.json:
        print(json.dumps([r.__dict__ for r in readings], indent=2))
    else:
        for r in readings:
            print(f"{r.destination:<30} {r.waiting:>8} waiting, oldest {r.oldest_age:8.1f} s")
        if not readings:
            print("nothing waiting")
    return 0


def _address(args: argparse.Namespace) -> str:
    flag = "--bootstrap" if args.broker == "kafka" else "--url"
    address = args.bootstrap if args.broker == "kafka" else args.url
    if not address:
        raise UsageError(f"--broker {args.broker} needs {flag} ({BROKERS[args.broker][0]})")
    return address


def _relay(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    table = _table(args)
    _backlog(args)
    publisher = publisher_for(args.broker, _address(args))
    policy = RelayPolicy(batch_size=args.batch_size, retention=args.retention)
    relay = Relay(args.dsn, publisher, table=table, policy=policy)
    try:
        if args.metrics_port is not None:
            _serve_metrics(args, relay.stats)
        if args.once:
            published = 0
            while (batch := relay.relay_batch()).rows and batch.failed < len(batch.rows):
                published += batch.published
            print(f"published {published} rows")
            return 0
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        logger.info("relaying outbox table %s to %s (SIGTERM stops)", table, args.broker)
        relay.run(stop)
        return 0
    finally:
        relay.close()


def _serve_metrics(args: argparse.Namespace, stats: RelayStats) -> None:
    from prometheus_client import CollectorRegistry, start_http_server

    registry = CollectorRegistry()
    register_metrics(registry, args.table, BacklogReader(args.dsn, args.table), stats)
    try:
        server, _ = start_http_server(args.metrics_port, registry=registry)
    except OSError as exc:
        raise UsageError(f"cannot serve metrics on port {args.metrics_port}: {exc}") from exc
    print(f"outbox metrics on http://127.0.0.1:{server.server_address[1]}/metrics", file=sys.stderr)
