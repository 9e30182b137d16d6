"""``eventscope lag``: a lag table once, or ``eventscope lag serve``: an exporter."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from dataclasses import asdict
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server

from eventscope.errors import UsageError
from eventscope.lag.broker_options import timeout_option
from eventscope.lag.collector import CollectorError, Snapshot
from eventscope.lag.config import load_config
from eventscope.lag.deadline import close_within, collect_within, describe
from eventscope.lag.exporter import LagExporter
from eventscope.lag.targets import COLLECTORS, build_collector


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "lag",
        help="consumer lag and dead-letter depth, once or as a Prometheus exporter",
        description="Print consumer lag per partition/queue/stream once, read from the "
        "broker itself; or, with 'serve', export it for Prometheus.",
    )
    parser.add_argument("--broker", choices=sorted(COLLECTORS))
    parser.add_argument("--bootstrap", help="Kafka bootstrap servers")
    parser.add_argument("--url", help="broker URL (RabbitMQ management API, nats://, redis://)")
    parser.add_argument(
        "--group",
        action="append",
        dest="groups",
        metavar="GROUP",
        help="only this consumer group (repeatable; default all)",
    )
    parser.add_argument(
        "--dead-letter",
        action="append",
        dest="dead_letters",
        metavar="DEST",
        help="a dead-letter destination to measure (repeatable; "
        "default every destination ending in .dlq)",
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a collector option (repeatable), e.g. vhost=/",
    )
    parser.add_argument(
        "--timeout",
        default=5.0,
        help="seconds the whole collection may take, connecting included (default 5)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=_once)
    modes = parser.add_subparsers(dest="lag_mode", metavar="serve")
    serve = modes.add_parser(
        "serve",
        help="a Prometheus exporter over the brokers and groups of a lag.yaml",
        description="Serve /metrics for every target of a lag.yaml; each scrape asks "
        "every broker, with a timeout, and reports failures as error metrics.",
    )
    serve.add_argument("--config", required=True, help="the lag.yaml file")
    serve.add_argument("--port", type=int, default=9465, help="port for /metrics (default 9465)")
    serve.add_argument("--address", default="0.0.0.0", help="address to listen on")
    serve.set_defaults(run=_serve)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {"timeout": args.timeout}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--option {item!r}: expected KEY=VALUE")
        options[key] = value
    for key in ("bootstrap", "url", "groups", "dead_letters"):
        value = getattr(args, key)
        if value is not None:
            options[key] = value
    return options


def _once(args: argparse.Namespace) -> int:
    if args.broker is None:
        raise UsageError("--broker is required (or use 'eventscope lag serve --config ...')")
    options = _options(args)
    timeout = timeout_option(options)
    collector = build_collector(args.broker, options)
    try:
        snapshot = collect_within(collector, timeout, describe(collector))
    except CollectorError as exc:
        print(f"eventscope lag: {args.broker}: {exc}", file=sys.stderr)
        return 1
    finally:
        close_within(collector, 1.0)
    if args.json:
        print(json.dumps(_as_json(snapshot), indent=2))
    else:
        print(render_table(snapshot))
    missing = sorted(set(args.groups or ()) - {r.group for r in snapshot.lag})
    if missing:  # a typo in --group must not read as "all caught up"
        print(
            f"eventscope lag: {args.broker} has no consumer group {', '.join(missing)}",
            file=sys.stderr,
        )
        return 1
    return 0


def _as_json(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "lag": [asdict(r) for r in snapshot.lag],
        "consumers": [asdict(c) for c in snapshot.consumers],
        "dead_letters": [asdict(d) for d in snapshot.dead_letters],
        "total_lag": sum(r.messages for r in snapshot.lag),
    }


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def render_table(snapshot: Snapshot) -> str:
    """The lag readings as an aligned text table, dead-letter depths below."""
    header = ("SYSTEM", "DESTINATION", "GROUP", "PARTITION", "LAG", "LAG(S)", "PENDING", "POSITION")
    rows = [
        (
            r.system,
            r.destination,
            r.group,
            r.partition,
            r.messages,
            r.seconds,
            r.pending,
            r.position,
        )
        for r in sorted(snapshot.lag, key=lambda r: (r.destination, r.group, r.partition))
    ]
    lines = _align([header, *[tuple(_cell(v) for v in row) for row in rows]])
    if not rows:
        lines.append("(no consumer groups found)")
    if snapshot.dead_letters:
        lines.append("")
        lines += _align(
            [("DEAD LETTERS", "DEPTH")]
            + [(d.destination, str(d.messages)) for d in snapshot.dead_letters]
        )
    return "\n".join(lines)


def _align(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def _serve(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = load_config(args.config)
    collectors = {}
    for target in config.targets:
        try:
            collectors[target.name] = build_collector(target.broker, target.options)
        except UsageError as exc:
            raise UsageError(f"{args.config}: target {target.name!r}: {exc}") from exc
    exporter = LagExporter(collectors, config.scrape_timeout)
    registry = CollectorRegistry()
    registry.register(exporter)
    try:
        server, _thread = start_http_server(args.port, args.address, registry)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.address}:{args.port}: {exc}") from exc
    print(
        f"eventscope lag: serving {len(collectors)} target(s) on "
        f"http://{args.address}:{server.server_address[1]}/metrics",
        file=sys.stderr,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        exporter.close()
    return 0
