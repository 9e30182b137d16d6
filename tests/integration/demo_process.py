"""``eventscope demo`` as a process of its own, for the tests that run two at once on
one broker (or cut its connections) and read each run's JSON summary."""

from __future__ import annotations

import json
import subprocess
import sys


def start_demo(broker: str, *flags: str) -> subprocess.Popen[str]:
    """A JSON-summary demo run on ``broker`` with poison orders and no metrics server."""
    return subprocess.Popen(
        [
            sys.executable, "-m", "eventscope.cli", "demo", "--broker", broker,
            "--poison-rate", "0.05", "--no-metrics-server", "--json", *flags,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def demo_summary(run: subprocess.Popen[str], timeout: float) -> dict:
    """The run's summary, once it has ended cleanly (exit 0, no traceback)."""
    out, err = run.communicate(timeout=timeout)
    assert run.returncode == 0, err
    assert "Traceback" not in err
    return json.loads(out)
