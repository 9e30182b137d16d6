"""Every panel shows a number and every alert fires when, and only when, its fault is on.

One run of the whole stack (:mod:`tests.fidelity.scenario`): the demo on Redis and on
RabbitMQ, one process per fault, ``eventscope lag serve`` over both brokers, and Debian's
Prometheus loading the generated rules (time-scaled through the configuration).  No
metric is exempt: while healthy, every dashboard query, template variable and recording
rule returns a value and no alert is pending or firing; during the faults exactly the
expected alerts fire, and by the end they have all resolved (burn-rate tickets, which
last their short window by design, are reported).  The report is printed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fidelity.scenario import Report, run_scenario

pytestmark = pytest.mark.prometheus


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    result = run_scenario(Path(tmp_path_factory.mktemp("fidelity")))
    print("\n" + result.render())
    return result


def test_every_query_returns_a_value_while_healthy(report: Report) -> None:
    assert report.queries > 60
    assert not report.empty, "\n".join(report.empty)


def test_no_alert_is_pending_or_firing_while_healthy(report: Report) -> None:
    assert not report.healthy_alerts, "\n".join(report.healthy_alerts)


def test_each_fault_fires_exactly_its_own_alerts(report: Report) -> None:
    rows = report.by_fault()
    missing = {
        key: sorted(row["expected"] - set(row["fired"]), key=str) for key, row in rows.items()
    }
    assert not any(missing.values()), missing
    unexpected = [f for row in rows.values() for f in row["unexpected"]]
    assert not unexpected, unexpected


def test_every_alert_resolves_once_its_fault_is_removed(report: Report) -> None:
    assert not report.still_firing, report.still_firing


def test_the_demos_ran_and_drained(report: Report) -> None:
    assert not report.demo_failures, "\n".join(report.demo_failures)
