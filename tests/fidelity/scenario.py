"""One run of the whole stack with every fault at once, and the report it gives.

Per broker, one demo process per fault (its own topic, so its alerts carry labels no
other fault's have) plus a healthy control demo, one ``eventscope lag serve`` with a
lag target per demo and one more reached through a :class:`Forwarder`, all scraped by
one Prometheus that loads the rules generated from :func:`fidelity_config`.  Faults are
on between :data:`FAULT_START` and :data:`FAULT_END` seconds (the demos' own
``--fault-window``; the forwarder and the dead-letter purge follow the same clock).

Before the faults start, every dashboard query, template variable and recording rule
must return a value and no alert may be pending or firing.  Then firing alerts are
sampled every second: each must belong to a fault that expects it, every expected
alert must fire, and everything must have resolved by the end, but burn-rate tickets,
which by design outlast a short outage by their short window (reported, see
:func:`is_ticket`).

To add a fault, add a :class:`Fault` to :data:`FAULTS`: the demo flags that cause it
and the alerts (with the consumer group they carry, if any) it must fire.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import redis
import yaml

from eventscope import catalog
from eventscope.alerts import recordings
from eventscope.alerts.model import WARNING
from eventscope.alerts.prometheus import slo_rule_file, threshold_rule_file
from eventscope.config import Config, Slo, Thresholds, duration_seconds
from eventscope.example.system import BILLING, GROUPS, SHIPPING
from eventscope.monitoring import BURN_WINDOWS
from tests.alerts.tools import example_config
from tests.dashboards.queries import metric_names, substitute, targets, variable_queries
from tests.fidelity.stack import (
    EVENTSCOPE,
    Forwarder,
    Prometheus,
    QueryError,
    free_port,
    start,
    start_prometheus,
    stop,
)

BROKERS = ("redis", "rabbitmq")
FAULT_START = 30.0
FAULT_END = 85.0
"""Seconds after the demos start: healthy until FAULT_START, faults until FAULT_END
(long enough for EventscopeConsumerLagGrowing: its 15m window and 30m ``for``, scaled)."""
PURGE = (FAULT_END + 10, FAULT_END + 25)
"""When the poison fault's dead letters are discarded, at every sample (each demo's clock
starts a few seconds after the suite's, and retried poison still lands after its end)."""
RESOLVED_BY = FAULT_END + 90
"""The run ends once only burn-rate tickets fire (see :func:`is_ticket`), at most then."""
TIME_SCALE = 1 / 60
"""Every ``for`` and window of the rules, shortened: 5m → 5 s, 1h → 60 s."""
DEMO_JOB_INTERVAL = "1s"
LAG_JOB = "eventscope-lag"
LAG_JOB_INTERVAL = "2s"
RANGES = {"$__rate_interval": "10s", "$__range": "30s", "$__interval": "5s"}
REDIS_URL = "redis://127.0.0.1:6379/0"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
MANAGEMENT = ("127.0.0.1", 15672)

LAG = (
    "EventscopeConsumerLagHigh",
    "EventscopeConsumerLagSecondsHigh",
    "EventscopeConsumerLagGrowing",
    "EventscopeConsumerStalled",
)


@dataclass(frozen=True)
class Fault:
    name: str
    flags: tuple[str, ...]
    """``eventscope demo`` flags that inject it (inside ``--fault-window``)."""
    alerts: frozenset[tuple[str, str | None]]
    """(alert name, consumer group or ``None``) it must fire on its own topic."""
    rate: float = 5.0
    """Orders per second of its demo."""
    cannot_fire: frozenset[tuple[str, str]] = frozenset()
    """(broker, alert name) pairs whose signal that broker cannot produce."""
    outbox: bool = False
    """Its demo writes through an outbox table (SQLite) and relays in-process."""

    def expected(self, broker: str) -> frozenset[tuple[str, str | None]]:
        return frozenset(a for a in self.alerts if (broker, a[0]) not in self.cannot_fire)


FAULTS: tuple[Fault, ...] = (
    Fault("healthy", (), frozenset()),
    Fault(
        "stalled consumer",
        ("--stall-group", BILLING),
        frozenset(
            {(a, BILLING) for a in LAG}
            # The backlog is handled late once the group resumes: its latency budget burns.
            | {("EventscopeLatencyBudgetBurn", BILLING)}
        ),
        # RabbitMQ's management API gives no age for a quorum queue's head message.
        cannot_fire=frozenset({("rabbitmq", "EventscopeConsumerLagSecondsHigh")}),
    ),
    Fault(
        "slow handler",
        ("--slow-group", SHIPPING, "--slow-handler-ms", "1500"),
        frozenset(
            {("EventscopeSlowProcessing", SHIPPING), ("EventscopeLatencyBudgetBurn", SHIPPING)}
        ),
        rate=0.5,
    ),
    Fault(
        "poison messages",
        ("--poison-rate", "0.8"),
        frozenset(
            {
                (alert, group)
                for group in GROUPS
                for alert in (
                    "EventscopeDeadLetterTraffic",
                    "EventscopeHighErrorRatio",
                    "EventscopeErrorBudgetBurn",
                )
            }
            | {("EventscopeDeadLetterDepth", None)}
        ),
    ),
    Fault(
        "producer errors",
        ("--producer-errors", "0.3"),
        frozenset({("EventscopeProducerSendErrors", None)}),
    ),
    Fault(
        "stopped relay",
        ("--stop-relay",),
        frozenset(
            {("EventscopeOutboxStuck", None), ("EventscopeOutboxGrowing", None)}
            # The orders the relay held back reach the groups late: latency budget burns.
            | {("EventscopeLatencyBudgetBurn", g) for g in GROUPS}
        ),
        outbox=True,
    ),
)
POISON = next(f for f in FAULTS if f.name == "poison messages")
UNREACHABLE = Fault("unreachable lag target", (), frozenset({("EventscopeLagExporterDown", None)}))
"""Not a demo: a lag target behind a forwarder that is down during the fault window."""


TICKET_WINDOWS = {w.long for w in BURN_WINDOWS if w.severity == WARNING}


def is_ticket(labels: dict[str, str]) -> bool:
    """A burn-rate ticket (1d/2h, 3d/6h): it fires on budget a fault really spent and, by
    design, stays until its short window (2 h, 6 h; scaled 120 s, 360 s) has passed;
    the run reports it, and does not wait for it."""
    return labels.get("long_window") in TICKET_WINDOWS


def fidelity_config(run: str) -> Config:
    """The example's configuration, scoped to this run, with thresholds a short run crosses."""
    base = example_config()
    topics = [topic(run, f) for f in FAULTS]
    return replace(
        base,
        services=base.services,
        destinations=tuple(topics),
        dead_letter_destinations=tuple(catalog.REDIS.dead_letter_destination(t) for t in topics),
        consumer_groups=GROUPS,
        lag_targets=tuple(lag_target(run, b, f) for b in BROKERS for f in (*FAULTS, UNREACHABLE)),
        time_scale=TIME_SCALE,
        slo=Slo(latency_seconds=1.0, latency_percentile=95, error_ratio=0.05),
        thresholds=Thresholds(
            lag_messages=30,
            lag_seconds=5,
            dead_letter_rate=0,
            dead_letter_depth=0,
            error_ratio=0.05,
            p99_processing_seconds=1.0,
            send_error_ratio=0.01,
            stalled_after="10m",
            outbox_waiting=20,
            outbox_age_seconds=10,
        ),
    )


def topic(run: str, fault: Fault) -> str:
    return f"fid-{run}-{fault.name.split()[0]}"


def lag_target(run: str, broker: str, fault: Fault) -> str:
    return f"{broker}-{topic(run, fault)}"


def outbox_table(run: str, broker: str, fault: Fault) -> str:
    """Its outbox alerts carry no broker, but this table name."""
    return f"fid_{run}_{broker}_{fault.name.split()[0]}"


@dataclass
class Firing:
    alert: str
    labels: dict[str, str]
    first: float
    last: float


@dataclass
class Report:
    run: str
    broker_faults: dict[tuple[str, str], Fault] = field(default_factory=dict)
    queries: int = 0
    empty: list[str] = field(default_factory=list)
    healthy_alerts: list[str] = field(default_factory=list)
    """Alerts firing before any fault."""
    healthy_pending: list[str] = field(default_factory=list)
    """Alerts pending (not firing) before any fault: reported, not failed."""
    firings: dict[str, Firing] = field(default_factory=dict)
    still_firing: list[str] = field(default_factory=list)
    tickets_firing: list[str] = field(default_factory=list)
    """Burn-rate tickets still firing when the run ended (see :func:`is_ticket`)."""
    demo_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    """From the demos' start until every alert had resolved (or the deadline)."""
    waits: dict[str, str] = field(default_factory=dict)
    """Each alert's ``for`` in the generated rules (the shortest of its rules)."""

    def owner(self, labels: dict[str, str]) -> tuple[str, Fault] | None:
        system = labels.get("messaging_system", "")
        target = labels.get("eventscope_lag_target")
        table = labels.get("eventscope_outbox_table")
        destination = labels.get("messaging_destination_name", "")
        for (broker, name), fault in self.broker_faults.items():
            if target is not None and target == name:
                return broker, fault
            if table is not None and table == outbox_table(self.run, broker, fault):
                return broker, fault
            if system == broker and name in (destination, destination.removesuffix(".dlq")):
                return broker, fault
        return None

    def by_fault(self) -> dict[tuple[str, str], dict[str, Any]]:
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for (broker, _), fault in self.broker_faults.items():
            rows[(broker, fault.name)] = {
                "expected": fault.expected(broker),
                "fired": {},
                "unexpected": [],
            }
        for firing in self.firings.values():
            found = self.owner(firing.labels)
            key = (firing.alert, firing.labels.get("messaging_consumer_group_name"))
            if found is None:
                rows.setdefault(
                    ("?", "nobody's"), {"expected": frozenset(), "fired": {}, "unexpected": []}
                )
                rows[("?", "nobody's")]["unexpected"].append(firing)
                continue
            broker, fault = found
            row = rows[(broker, fault.name)]
            if key in fault.expected(broker):
                row["fired"].setdefault(key, firing.first)
            else:
                row["unexpected"].append(firing)
        return rows

    def problems(self) -> list[str]:
        out = [f"empty: {e}" for e in self.empty]
        out += [f"alert while healthy: {a}" for a in self.healthy_alerts]
        out += [f"still firing at the end: {a}" for a in self.still_firing]
        out += self.demo_failures
        for (broker, name), row in self.by_fault().items():
            for key in sorted(row["expected"] - set(row["fired"]), key=str):
                out.append(f"{broker} / {name}: expected {key} never fired")
            for firing in row["unexpected"]:
                out.append(f"{broker} / {name}: unexpected {firing.alert} {firing.labels}")
        return out

    def render(self) -> str:
        lines = [
            "== fidelity report",
            f"queries checked while healthy: {self.queries}, empty: {len(self.empty)}",
            *(f"  empty: {e}" for e in self.empty),
            f"alerts firing while healthy: {len(self.healthy_alerts)}",
            *(f"  {a}" for a in self.healthy_alerts),
            f"alerts pending while healthy: {len(self.healthy_pending)}",
            *(f"  {a}" for a in self.healthy_pending),
            f"faults on from {FAULT_START:g} s to {FAULT_END:g} s; rules at time scale "
            f"{TIME_SCALE:.4g}",
        ]
        for (broker, name), row in sorted(self.by_fault().items()):
            lines.append(
                f"{broker:9} {name:24} expected {len(row['expected']):2}  fired "
                f"{len(row['fired']):2}  unexpected {len(row['unexpected']):2}"
            )
            for (alert, group), first in sorted(row["fired"].items(), key=lambda i: i[1]):
                where = f" ({group})" if group else ""
                lines.append(
                    f"    {alert}{where}: fired {first - FAULT_START:+.0f} s after start "
                    f"(for: {self.waits.get(alert, '?')})"
                )
            for firing in row["unexpected"]:
                lines.append(f"    UNEXPECTED {firing.alert} {firing.labels}")
        lines.append(
            f"still firing at the end: {len(self.still_firing)} "
            f"(run ended {self.seconds - FAULT_END:.0f} s after the faults)"
        )
        lines += [f"  {a}" for a in self.still_firing]
        lines.append(
            f"burn-rate tickets still firing (they last their short window): "
            f"{len(self.tickets_firing)}"
        )
        lines += [f"  {a}" for a in self.tickets_firing]
        lines += [f"  {d}" for d in self.demo_failures]
        return "\n".join(lines)


def _demo_args(broker: str, run: str, fault: Fault, port: int, root: Path) -> list[str]:
    url = REDIS_URL if broker == "redis" else AMQP_URL
    args = [
        EVENTSCOPE, "demo", "--broker", broker, "--url", url, "--topic", topic(run, fault),
        "--duration", f"{RESOLVED_BY + 60:g}", "--rate", f"{fault.rate:g}", "--poison-rate", "0",
        "--duplicate-rate", "0.01", "--gateway-failure-rate", "0.01",
        "--metrics-port", str(port), "--no-lag-watch", "--json",
        "--fault-window", f"{FAULT_START:g}:{FAULT_END:g}", *fault.flags,
    ]  # fmt: skip
    if broker == "rabbitmq":
        args += ["--vhost", f"{topic(run, fault)}-{broker}"]
    if fault.outbox:
        table = outbox_table(run, broker, fault)
        args += ["--outbox", f"sqlite:///{root / table}.db", "--outbox-table", table]
    return args


def _lag_targets(run: str, forwarders: dict[str, Forwarder]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for broker in BROKERS:
        for fault in FAULTS:
            name, dlq = topic(run, fault), catalog.REDIS.dead_letter_destination(topic(run, fault))
            target: dict[str, Any] = {"name": lag_target(run, broker, fault), "broker": broker}
            if broker == "redis":
                target |= {"url": REDIS_URL, "streams": [name, dlq], "dead_letters": [dlq]}
            else:
                target |= {"url": AMQP_URL, "vhost": f"{name}-{broker}", "dead_letters": [dlq]}
            out.append(target | {"groups": list(GROUPS)})
        port = forwarders[broker].port
        cut: dict[str, Any] = {"name": lag_target(run, broker, UNREACHABLE), "broker": broker}
        if broker == "redis":
            cut |= {"url": f"redis://127.0.0.1:{port}/0", "streams": [f"fid-{run}-absent"]}
        else:
            cut |= {"url": f"http://guest:guest@127.0.0.1:{port}", "vhost": "/"}
        out.append(cut | {"groups": [], "dead_letters": [], "timeout": 1})
    return out


def healthy_queries(config: Config) -> Iterator[tuple[str, str]]:
    """(where, expression) of every dashboard query, template variable and recording rule."""
    from eventscope.generate import generated_files

    for name, content in generated_files(config).items():
        if not name.startswith("dashboards/"):
            continue
        dashboard = json.loads(content)
        for target in targets(dashboard):
            yield f"{target.dashboard} / {target.panel}", substitute(target.expr, ranges=RANGES)
        for variable, selector, label in variable_queries(dashboard):
            yield f"{dashboard['uid']} ${variable}", f"count by ({label}) ({substitute(selector)})"
    for group, rules in recordings(config).items():
        for rule in rules:
            yield f"{group} / {rule.record}", rule.record


def unreported_series(broker: str) -> set[str]:
    """Sample names of the metrics ``broker`` cannot produce (the catalog's NOT_REPORTED)."""
    return {
        metric.series(suffix)
        for (system, metric), _ in catalog.NOT_REPORTED.items()
        if system == broker
        for suffix in ("", "_bucket", "_count", "_sum")
    }


def broker_queries(config: Config) -> Iterator[tuple[str, str, str]]:
    """(broker, where, expression) of every panel query, with ``$system`` set to each broker."""
    from eventscope.generate import generated_files

    for name, content in generated_files(config).items():
        if not name.startswith("dashboards/"):
            continue
        for target in targets(json.loads(content)):
            if "$system" not in target.expr and "${system}" not in target.expr:
                continue
            for broker in BROKERS:
                names = metric_names(target.expr)
                if names and names <= unreported_series(broker):
                    continue  # the panel says the broker cannot report it
                expr = target.expr.replace("${system}", broker).replace("$system", broker)
                yield (
                    broker,
                    f"{target.dashboard} / {target.panel}",
                    substitute(expr, ranges=RANGES),
                )


def _check_healthy(prom: Prometheus, config: Config, report: Report) -> None:
    for broker, where, expr in broker_queries(config):
        report.queries += 1
        if not prom.query(expr):
            report.empty.append(f"{where} (system={broker}): {expr}")
    for where, expr in healthy_queries(config):
        report.queries += 1
        try:
            rows = prom.query(expr)
        except QueryError as exc:
            report.empty.append(f"{where}: error {exc}")
            continue
        if not rows:
            report.empty.append(f"{where}: {expr}")
    for row in prom.query("ALERTS"):
        labels = row["metric"]
        into = report.healthy_alerts if labels["alertstate"] == "firing" else report.healthy_pending
        into.append(f"{labels['alertname']} {_key(labels)}")


def _key(labels: dict[str, str]) -> str:
    return json.dumps({k: v for k, v in labels.items() if k != "alertstate"}, sort_keys=True)


def _sample(prom: Prometheus, report: Report, now: float) -> tuple[list[str], list[str]]:
    """(alerts, burn-rate tickets) firing now, each recorded in ``report.firings``."""
    keys: list[str] = []
    tickets: list[str] = []
    for row in prom.query('ALERTS{alertstate="firing"}'):
        labels = row["metric"]
        key = _key(labels)
        (tickets if is_ticket(labels) else keys).append(key)
        firing = report.firings.get(key)
        if firing is None:
            report.firings[key] = Firing(labels["alertname"], labels, now, now)
        else:
            firing.last = now
    return keys, tickets


def _purge_dead_letters(run: str) -> None:
    """Removing the poison fault includes replaying (here: discarding) what it left."""
    poison = topic(run, POISON)
    dlq = catalog.REDIS.dead_letter_destination(poison)
    redis.Redis.from_url(REDIS_URL).xtrim(dlq, maxlen=0)
    import pika

    params = pika.URLParameters(AMQP_URL)
    params.virtual_host = f"{poison}-rabbitmq"
    with pika.BlockingConnection(params) as connection:
        connection.channel().queue_purge(dlq)


def run_scenario(root: Path | None = None) -> Report:
    """The whole run (about two and a half minutes); the report says what happened."""
    run = uuid.uuid4().hex[:6]
    config = fidelity_config(run)
    report = Report(run)
    files = (threshold_rule_file(config), slo_rule_file(config))
    rules = [r for f in files for g in f["groups"] for r in g["rules"] if "alert" in r]
    for name in {r["alert"] for r in rules}:
        waits = (r["for"] for r in rules if r["alert"] == name)
        report.waits[name] = min(waits, key=lambda d: duration_seconds(d) or 0)
    for broker in BROKERS:
        for fault in (*FAULTS, UNREACHABLE):
            report.broker_faults[
                (
                    broker,
                    lag_target(run, broker, fault) if fault is UNREACHABLE else topic(run, fault),
                )
            ] = fault
    with ExitStack() as stack:
        if root is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fidelity-")))
        forwarders = {
            "redis": Forwarder(("127.0.0.1", 6379)),
            "rabbitmq": Forwarder(MANAGEMENT),
        }
        for forwarder in forwarders.values():
            forwarder.up()
            stack.callback(forwarder.close)
        lag_port = free_port()
        (root / "lag.yaml").write_text(
            yaml.safe_dump({"scrape_timeout": 2, "targets": _lag_targets(run, forwarders)})
        )
        demos: dict[tuple[str, str], tuple[Any, Path]] = {}
        ports = []
        for broker in BROKERS:
            for fault in FAULTS:
                port = free_port()
                ports.append(port)
                log = root / f"demo-{broker}-{topic(run, fault)}.log"
                demos[(broker, fault.name)] = (
                    start(_demo_args(broker, run, fault, port, root), log),
                    log,
                )
        started = time.monotonic()
        for process, _ in demos.values():
            stack.callback(stop, process)
        exporter = start(
            [EVENTSCOPE, "lag", "serve", "--config", str(root / "lag.yaml"), "--port",
             str(lag_port), "--address", "127.0.0.1"],
            root / "lag-serve.log",
        )  # fmt: skip
        stack.callback(stop, exporter)
        server, prom = start_prometheus(
            root,
            config,
            {
                config.services[0]: (ports, DEMO_JOB_INTERVAL),
                LAG_JOB: ([lag_port], LAG_JOB_INTERVAL),
            },
        )
        stack.callback(stop, server)

        def until(t: float) -> None:
            while (left := started + t - time.monotonic()) > 0:
                time.sleep(min(left, 1.0))

        until(FAULT_START - 3)
        prom.at = time.time()
        _check_healthy(prom, config, report)
        prom.at = None
        until(FAULT_START)
        for forwarder in forwarders.values():
            forwarder.down()
        restored = False
        last: list[str] = []
        tickets: list[str] = []
        while (now := time.monotonic() - started) < RESOLVED_BY:
            if now >= FAULT_END and not restored:
                for forwarder in forwarders.values():
                    forwarder.up()
                restored = True
            if PURGE[0] <= now < PURGE[1]:
                _purge_dead_letters(run)
            last, tickets = _sample(prom, report, now)
            if now >= PURGE[1] and not last:
                break
            time.sleep(1.0)
        report.still_firing = last
        report.tickets_firing = tickets
        report.seconds = time.monotonic() - started
        for process, _ in demos.values():
            process.terminate()  # the demo stops publishing, drains and reports
        for (broker, name), (process, log) in demos.items():
            try:
                code = process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                code = None
            if code != 0:
                tail = log.read_text()[-600:]
                report.demo_failures.append(f"demo {broker} / {name} exited {code}: {tail}")
    return report


if __name__ == "__main__":
    result = run_scenario(Path(tempfile.mkdtemp(prefix="fidelity-")))
    print(result.render())
    raise SystemExit(1 if result.problems() else 0)
