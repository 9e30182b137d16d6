"""The ``eventscope demo`` sub-command."""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading

from eventscope.catalog import MEMORY
from eventscope.demo.faults import Faults
from eventscope.demo.runner import DemoOptions, DemoResult, run_demo
from eventscope.demo.transport import TRANSPORTS
from eventscope.errors import UsageError
from eventscope.example.system import GROUPS, TOPIC


def _positive(kind: type, name: str, allow_zero: bool = False):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, not {text!r}") from None
        if not math.isfinite(value):  # nan compares false with everything: never "< 0"
            raise argparse.ArgumentTypeError(f"{name} must be a finite number, not {text!r}")
        if value < 0 or (value == 0 and not allow_zero):
            raise argparse.ArgumentTypeError(f"{name} must be {'≥' if allow_zero else '>'} 0")
        return value

    return parse


def _fraction(text: str) -> float:
    value = _positive(float, "the rate", allow_zero=True)(text)
    if value >= 1:
        raise argparse.ArgumentTypeError("a rate must be below 1")
    return value


def _window(text: str) -> tuple[float, float]:
    start, sep, end = text.partition(":")
    try:
        window = (float(start), float(end))
    except ValueError:
        window = None
    if not sep or window is None or not 0 <= window[0] < window[1] < math.inf:
        raise argparse.ArgumentTypeError(f"expected START:END seconds, START < END, not {text!r}")
    return window


def _fault_arguments(parser: argparse.ArgumentParser) -> None:
    faults = parser.add_argument_group(
        "faults", "what to break, and when (--poison-rate follows --fault-window too)"
    )
    faults.add_argument(
        "--fault-window",
        type=_window,
        metavar="START:END",
        help="faults are on from START to END seconds after the run starts (default: always)",
    )
    faults.add_argument("--stall-group", choices=GROUPS, help="this group stops consuming")
    faults.add_argument("--slow-group", choices=GROUPS, help="this group's handler turns slow")
    faults.add_argument(
        "--slow-handler-ms",
        type=_positive(float, "--slow-handler-ms", True),
        default=250.0,
        help="what the slow group's handler adds to each message (default 250)",
    )
    faults.add_argument(
        "--producer-errors",
        type=_fraction,
        default=0.0,
        help="share of sends the broker refuses (default 0)",
    )
    faults.add_argument(
        "--stop-relay",
        action="store_true",
        help="with --outbox and --fault-window: the outbox relay stops during the window",
    )


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "demo",
        help="run the example order system on the in-memory bus",
        description="Run the example order system (a publisher, billing and shipping "
        "consumer groups, poison orders that end in the dead-letter topic) on the "
        "in-memory bus, serve /metrics, and print a live summary.",
    )
    parser.add_argument(
        "--broker",
        choices=sorted(TRANSPORTS),
        default=MEMORY.name,
        help="where to run it (default: the in-memory bus; others need their server)",
    )
    parser.add_argument("--bootstrap", help="Kafka bootstrap servers, host:port[,host:port]")
    parser.add_argument(
        "--url", help="broker URL (amqp://..., nats://..., redis://...) for the other brokers"
    )
    parser.add_argument(
        "--messages",
        type=_positive(int, "--messages"),
        default=None,
        help="stop after N orders are published and drained (default 500)",
    )
    parser.add_argument(
        "--duration",
        type=_positive(float, "--duration"),
        default=None,
        help="stop publishing after S seconds",
    )
    parser.add_argument(
        "--rate",
        type=_positive(float, "--rate"),
        default=250.0,
        help="orders published per second (default 250)",
    )
    parser.add_argument(
        "--poison-rate",
        type=_fraction,
        default=0.02,
        help="share of orders that always fail (default 0.02)",
    )
    parser.add_argument(
        "--duplicate-rate",
        type=_fraction,
        default=0.01,
        help="share of orders the publisher sends twice, as after a timeout (default 0.01)",
    )
    parser.add_argument(
        "--gateway-failure-rate",
        type=_fraction,
        default=0.03,
        help="share of billing attempts the simulated payment gateway times out (default 0.03)",
    )
    parser.add_argument(
        "--topic", default=TOPIC, help=f"the topic's name on the broker (default {TOPIC})"
    )
    parser.add_argument(
        "--vhost",
        help="RabbitMQ: the virtual host the run creates and deletes (default: a new one)",
    )
    parser.add_argument(
        "--no-lag-watch",
        action="store_true",
        help="do not export lag from the demo (a standalone `eventscope lag serve` does)",
    )
    _fault_arguments(parser)
    parser.add_argument("--partitions", type=_positive(int, "--partitions"), default=3)
    parser.add_argument(
        "--metrics-port",
        type=_positive(int, "--metrics-port", True),
        default=9464,
        help="serve /metrics here (0: any free port)",
    )
    parser.add_argument("--no-metrics-server", action="store_true", help="do not serve /metrics")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--outbox",
        metavar="DSN",
        help="write orders through a transactional outbox in this database "
        "(postgresql://… or sqlite:///file.db) and relay them in-process",
    )
    parser.add_argument(
        "--outbox-table",
        metavar="NAME",
        help="the outbox table's name, which the run creates and drops "
        "(default: eventscope_outbox_demo_<random>)",
    )
    parser.add_argument(
        "--dedup-store",
        metavar="URL",
        help="share handled event ids among consumer instances in this store "
        "(redis://… or postgresql://…)",
    )
    parser.add_argument(
        "--instances",
        type=_positive(int, "--instances"),
        default=1,
        help="consumer instances per group (default 1)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object at the end instead of the text summary",
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    messages = args.messages
    if messages is None and args.duration is None:
        messages = 500
    if args.metrics_port > 65535:
        raise UsageError(f"--metrics-port {args.metrics_port} is not a TCP port")
    flags = (("bootstrap", args.bootstrap), ("url", args.url), ("vhost", args.vhost))
    connection = {k: v for k, v in flags if v}
    options = DemoOptions(
        broker=args.broker,
        connection=connection,
        messages=messages,
        duration=args.duration,
        rate=args.rate,
        poison_rate=args.poison_rate,
        duplicate_rate=args.duplicate_rate,
        partitions=args.partitions,
        metrics_port=None if args.no_metrics_server else args.metrics_port,
        seed=args.seed,
        outbox=args.outbox,
        outbox_table=args.outbox_table,
        dedup_store=args.dedup_store,
        instances=args.instances,
        topic=args.topic,
        lag_watch=not args.no_lag_watch,
        gateway_failure_rate=args.gateway_failure_rate,
        faults=Faults(
            window=args.fault_window,
            stall_group=args.stall_group,
            slow_group=args.slow_group,
            slow_handler_ms=args.slow_handler_ms if args.slow_group else 0.0,
            producer_errors=args.producer_errors,
            stop_relay=args.stop_relay,
        ),
    )
    stop = threading.Event()
    # SIGTERM (a supervisor, a test) ends publishing; the run drains and reports as usual.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    result = run_demo(options, stop=stop)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        _print_summary(result)
    return 0 if result.invariants_hold and result.drained else 1


def _print_summary(result: DemoResult, out=sys.stdout) -> None:
    print(f"\neventscope demo — order system on {result.broker} ({result.destination})", file=out)
    rows = [
        ("published", result.published),
        ("refused by the broker", result.refused),
        ("processed (all groups ok)", result.processed),
        ("dead-lettered", result.dead_lettered),
        ("retried deliveries", result.retried),
        ("re-sent by the publisher", result.resent),
        ("duplicates skipped", result.duplicates),
        ("traced end to end", result.traced),
        ("lag after drain", result.lag),
        *(
            [("outbox rows left", result.outbox_pending)]
            if result.outbox_pending is not None
            else []
        ),
        ("dead-letter depth", result.dlq_depth),
        ("processing p50 / p99", f"{result.p50_ms:.2f} / {result.p99_ms:.2f} ms"),
        ("end-to-end p99", f"{result.e2e_p99_ms:.2f} ms"),
        ("throughput", f"{result.throughput_per_s:.0f} orders/s over {result.seconds:.1f} s"),
    ]
    for name, value in rows:
        print(f"  {name:<28} {value}", file=out)
    verdict = "hold" if result.invariants_hold else "DO NOT hold"
    print(f"  invariants (processed + dead-lettered = published = traced): {verdict}", file=out)
    if result.sample_trace:
        print("\nsample trace:", file=out)
        for line in result.sample_trace:
            print("  " + line, file=out)
