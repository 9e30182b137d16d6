"""``eventscope demo``: the invariants of a drained run, the JSON summary, bad flags."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from eventscope.demo import DemoOptions, run_demo
from eventscope.demo.faults import Faults


def test_a_drained_run_holds_its_invariants() -> None:
    result = run_demo(
        DemoOptions(
            messages=300, rate=5000, poison_rate=0.05, duplicate_rate=0.05, metrics_port=None
        ),
        live=None,
    )
    assert result.drained
    assert result.published == 300
    assert result.processed + result.dead_lettered == result.published
    assert result.traced == result.published
    assert result.dead_lettered > 0 and result.retried >= 2 * result.dead_lettered
    assert result.duplicates > 0
    assert result.lag == 0
    assert result.dlq_depth == 2 * result.dead_lettered  # both groups dead-letter a poison order
    assert 0 < result.p50_ms <= result.p99_ms
    assert result.e2e_p99_ms > 0
    assert any("dead_letter" in line for line in result.sample_trace)


def _demo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "eventscope.cli", "demo", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_json_summary() -> None:
    done = _demo("--messages", "120", "--rate", "2000", "--metrics-port", "0", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    for key in (
        "published",
        "processed",
        "retried",
        "dead_lettered",
        "duplicates",
        "traced",
        "lag",
        "p50_ms",
        "p99_ms",
        "e2e_p99_ms",
    ):
        assert key in summary
    assert summary["published"] == 120
    assert summary["processed"] + summary["dead_lettered"] == 120 == summary["traced"]
    assert "metrics on http://127.0.0.1:" in done.stderr


@pytest.mark.parametrize(
    ("flags", "complaint"),
    [
        (["--messages", "-3"], "--messages must be > 0"),
        (["--rate", "fast"], "--rate must be a number"),
        (["--poison-rate", "1.5"], "below 1"),
        (["--metrics-port", "70000"], "not a TCP port"),
        (["--rate", "nan"], "--rate must be a finite number"),
        (["--poison-rate", "nan"], "must be a finite number"),
        (["--duplicate-rate", "nan"], "must be a finite number"),
        (["--duration", "nan"], "--duration must be a finite number"),
        (["--duration=-inf"], "--duration must be a finite number"),
        (["--rate", "inf"], "--rate must be a finite number"),
        (["--fault-window", "5"], "START:END"),
        (["--fault-window", "9:3"], "START < END"),
        (["--stall-group", "nobody"], "invalid choice"),
        (["--stop-relay", "--fault-window", "1:2"], "--stop-relay needs --outbox"),
    ],
)
def test_bad_flags_exit_2_with_a_reason(flags: list[str], complaint: str) -> None:
    done = _demo(*flags)
    assert done.returncode == 2
    assert complaint in done.stderr
    assert "Traceback" not in done.stderr


def test_refused_sends_are_counted_and_not_published() -> None:
    result = run_demo(
        DemoOptions(
            messages=200, rate=5000, poison_rate=0, faults=Faults(producer_errors=0.3),
            duplicate_rate=0.1, metrics_port=None,
        ),
        live=None,
    )  # fmt: skip
    assert result.published == 200
    assert 30 < result.refused < 150
    assert result.invariants_hold and result.drained


def test_poison_follows_the_fault_window() -> None:
    outside = Faults(window=(3600.0, 7200.0))
    result = run_demo(
        DemoOptions(messages=200, rate=5000, poison_rate=0.5, faults=outside, metrics_port=None),
        live=None,
    )
    assert result.dead_lettered == 0 and result.invariants_hold


def test_a_slow_group_is_slow_inside_its_handler() -> None:
    slow = Faults(slow_group="shipping", slow_handler_ms=30)
    result = run_demo(
        DemoOptions(messages=40, rate=5000, poison_rate=0, faults=slow, metrics_port=None),
        live=None,
    )
    assert result.p99_ms >= 30 and result.invariants_hold


def test_a_stalled_group_consumes_nothing_until_its_window_closes() -> None:
    stall = Faults(window=(0.0, 1.5), stall_group="billing")
    options = DemoOptions(messages=20, rate=5000, poison_rate=0, faults=stall, metrics_port=None)
    result = run_demo(options, live=None)
    assert result.drained and result.invariants_hold
    assert result.seconds >= 1.5
    assert result.e2e_p99_ms >= 1000  # billing handled every order after the stall


def test_a_stopped_relay_holds_every_order_in_the_outbox_until_its_window_closes(
    tmp_path,
) -> None:
    stopped = Faults(window=(0.0, 1.5), stop_relay=True)
    options = DemoOptions(
        messages=20, rate=5000, poison_rate=0, faults=stopped, metrics_port=None,
        outbox=f"sqlite:///{tmp_path / 'outbox.db'}",
    )  # fmt: skip
    result = run_demo(options, live=None)
    assert result.drained and result.invariants_hold and result.outbox_pending == 0
    assert result.seconds >= 1.5
    assert result.e2e_p99_ms >= 1000  # every order waited in the table for the relay


def test_sigterm_stops_publishing_and_the_run_drains() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "eventscope.cli", "demo", "--duration", "60", "--rate", "50",
         "--metrics-port", "0", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    process.stderr.readline()  # "metrics on ...": the run has started
    process.stderr.readline()  # the first summary line: a second of publishing
    process.terminate()
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    summary = json.loads(out)
    assert 0 < summary["published"] < 60 * 50 and summary["drained"]
