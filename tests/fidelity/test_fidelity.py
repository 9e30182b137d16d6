"""Every generated query, run by a real Prometheus against a real instrumented run.

The design promises that a renamed metric cannot leave a panel or an alert silently
empty.  This test holds it to that: Debian's Prometheus scrapes ``eventscope demo``
(the example order system on the in-memory bus, instrumented by the decorators) every
second, evaluates the generated rule files, and then every dashboard query, template
variable, recording rule and alert signal must return data.  Only metrics the demo
cannot produce are exempt, listed below with the reason, and they must stay empty (a
stale exemption fails too).
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from eventscope import catalog
from eventscope.alerts import all_alerts, recordings
from eventscope.dashboards.variables import panel_scope
from eventscope.demo.runner import DemoOptions, DemoResult, run_demo
from eventscope.generate import generated_files
from eventscope.generate.documents import ALERTS
from eventscope.monitoring import signals
from tests.alerts.tools import binary, example_config
from tests.dashboards.queries import metric_names, substitute, targets, variable_queries

pytestmark = pytest.mark.prometheus

EXEMPT = {
    catalog.CONSUMER_PENDING: "the in-memory bus acknowledges on commit: nothing is pending",
    catalog.CONSUMER_REDELIVERED: "the in-memory bus does not count redeliveries per group",
    catalog.INVALID_HEADERS: "the demo's producer writes only valid eventscope headers",
    catalog.LAG_TARGET_UP: "exported by the standalone lag exporter only",
    catalog.LAG_COLLECTION_ERRORS: "exported by the standalone lag exporter only",
    catalog.LAG_COLLECTION_DURATION: "exported by the standalone lag exporter only",
    **dict.fromkeys(
        (
            catalog.OUTBOX_WAITING,
            catalog.OUTBOX_OLDEST_AGE,
            catalog.OUTBOX_RELAY_DURATION,
            catalog.OUTBOX_RELAY_FAILURES,
        ),
        "this demo runs without --outbox (the stopped-relay fault is issue 14's to add)",
    ),
}
EXEMPT_SERIES = {m.series(part) for m in EXEMPT for part in ("", "_bucket", "_count", "_sum")}
JOB = "eventscope-demo"
RANGES = {"$__rate_interval": "15s", "$__range": "1m", "$__interval": "15s"}
DEMO = DemoOptions(messages=None, duration=20, rate=20, poison_rate=0.05, seed=3)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Prometheus:
    url: str
    at: float = 0.0

    def query(self, expr: str) -> list[dict[str, Any]]:
        """Instant query at :attr:`at`; fails the test on a PromQL error."""
        data = urllib.parse.urlencode({"query": expr, "time": f"{self.at:.3f}"}).encode()
        request = urllib.request.Request(f"{self.url}/api/v1/query", data=data)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = json.load(response)
        except urllib.error.HTTPError as exc:
            pytest.fail(f"{expr}\n→ {exc.code}: {exc.read().decode()}", pytrace=False)
        assert body["status"] == "success", body
        return body["data"]["result"]


def _wait_for(check, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    root = tmp_path_factory.mktemp("fidelity")
    config = example_config()
    for name, content in generated_files(config).items():
        if name.startswith(f"{ALERTS}/"):
            (root / Path(name).name).write_bytes(content)
    metrics_port, web_port = _free_port(), _free_port()
    (root / "prometheus.yml").write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": sorted(p.name for p in root.glob("*-rules.yaml")),
                "scrape_configs": [
                    {
                        "job_name": JOB,
                        "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}],
                    }
                ],
            }
        )
    )
    server = subprocess.Popen(
        [
            binary("prometheus"),
            f"--config.file={root / 'prometheus.yml'}",
            f"--storage.tsdb.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{web_port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(root / "prometheus.log").open("w"),
    )
    result: list[DemoResult] = []
    demo = threading.Thread(
        target=lambda: result.append(run_demo(replace(DEMO, metrics_port=metrics_port), live=None)),
        name="eventscope-demo",
    )
    try:
        prom = Prometheus(f"http://127.0.0.1:{web_port}")
        _wait_for(lambda: _ready(prom.url), "Prometheus to start", 30)
        demo.start()
        yield _when_populated(prom, config)
    finally:
        demo.join(timeout=120)
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert result and result[0].invariants_hold, result


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _when_populated(prom: Prometheus, config) -> Prometheus:
    """Wait until scrapes and rule evaluations have produced every recorded series."""
    recorded = [r.record for rules in recordings(config).values() for r in rules]
    dead = catalog.DEAD_LETTER_MESSAGES.series()

    def populated() -> bool:
        prom.at = time.time()
        scrapes = prom.query(f'count_over_time(up{{job="{JOB}"}}[1m]) >= 8')
        return bool(scrapes) and bool(prom.query(dead)) and all(prom.query(r) for r in recorded)

    _wait_for(populated, "eight scrapes of the demo and every recorded series", 45)
    prom.at = time.time() - 0.5
    return prom


def _check(prom: Prometheus, expr: str, where: str, failures: list[str]) -> None:
    rows = prom.query(expr)
    names = metric_names(expr)
    exempt = bool(names) and names <= EXEMPT_SERIES
    if exempt and rows:
        failures.append(f"{where}: exempt as not produced by the demo, yet has data: {expr}")
    elif not exempt and not rows:
        failures.append(f"{where}: empty: {expr}")


def test_every_dashboard_query_returns_data(prometheus: Prometheus) -> None:
    config = example_config()
    stalled = substitute(
        signals.stalled(panel_scope(config, False), config.thresholds.stalled_after)
    )
    failures: list[str] = []
    checked = 0
    for name, content in generated_files(config).items():
        if not name.startswith("dashboards/"):
            continue
        dashboard = json.loads(content)
        for target in targets(dashboard):
            expr = substitute(target.expr, ranges=RANGES)
            if expr == stalled:
                # A healthy run has no stalled consumer; the table's two halves are the
                # stall alert's signals, checked in the alert test below.
                assert prometheus.query(expr) == []
                continue
            _check(prometheus, expr, f"{target.dashboard} / {target.panel}", failures)
            checked += 1
        for variable, selector, label in variable_queries(dashboard):
            expr = f"count by ({label}) ({substitute(selector)})"
            _check(prometheus, expr, f"{dashboard['uid']} ${variable}", failures)
            checked += 1
    assert not failures, "\n".join(failures)
    assert checked > 60


def test_every_recording_rule_returns_data(prometheus: Prometheus) -> None:
    failures: list[str] = []
    for group, rules in recordings(example_config()).items():
        for rule in rules:
            _check(prometheus, rule.record, f"{group} (recorded by Prometheus)", failures)
            _check(prometheus, rule.expr, f"{group} / {rule.record}", failures)
    assert not failures, "\n".join(failures)


def test_every_alert_runs_and_its_signals_return_data(prometheus: Prometheus) -> None:
    failures: list[str] = []
    for alert in all_alerts(example_config()):
        prometheus.query(alert.expr)  # runs without error; a healthy run may not fire it
        for signal in alert.signals:
            _check(prometheus, signal, f"{alert.key} signal", failures)
    assert not failures, "\n".join(failures)


def test_the_demo_run_was_real(prometheus: Prometheus) -> None:
    """The data came from the decorators: traffic, dead letters and lag all reported."""
    consumed = prometheus.query(f"sum({catalog.CONSUMED_MESSAGES.series()})")
    assert float(consumed[0]["value"][1]) > 50
    reasons = prometheus.query(catalog.DEAD_LETTER_MESSAGES.series())
    assert reasons
    groups = {
        row["metric"]["messaging_consumer_group_name"]
        for row in prometheus.query(catalog.CONSUMER_LAG.series())
    }
    assert groups == set(example_config().consumer_groups)
