"""``eventscope demo``: the invariants of a drained run, the JSON summary, bad flags."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from eventscope.demo import DemoOptions, run_demo


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
    ],
)
def test_bad_flags_exit_2_with_a_reason(flags: list[str], complaint: str) -> None:
    done = _demo(*flags)
    assert done.returncode == 2
    assert complaint in done.stderr
    assert "Traceback" not in done.stderr
