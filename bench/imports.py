"""What installing eventscope costs every test run and every import, in fresh processes.

Two comparisons, each against a baseline measured in the same run, the variants taking
turns so that a slow moment of the machine hits both:

* ``plugin_overhead``: ``pytest --co -q`` on a throwaway directory with one plain test,
  with eventscope's pytest plugin loaded (as every project that installs eventscope
  gets it) against the same run with ``-p no:eventscope``.  The project configures no
  contracts, so whatever the plugin costs here is paid for nothing.
* ``import_cost``: ``python -c "import eventscope"`` against ``python -c "pass"``.

Each variant also reports which heavy modules it ended up importing
(OpenTelemetry's SDK, prometheus_client, http.server, pact-python), read from the
process itself.  Numbers are medians of wall-clock times; ratios are printed, never
asserted.

Run: ``python bench/imports.py [--repeat 15] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("opentelemetry.sdk", "prometheus_client", "http.server", "pact")

# Written next to the plain test: it reports, at the end of the run, the heavy modules
# the run imported (pytest's own plugins are the same in both variants).
_REPORTER = f"""
import sys

def pytest_unconfigure(config):
    loaded = [m for m in {HEAVY!r} if m in sys.modules]
    sys.stderr.write("HEAVY=" + ",".join(loaded) + "\\n")
"""

_IMPORT_PROBE = (
    "import sys; {statement}; "
    f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
)


def _project(directory: Path) -> None:
    """A project that has nothing to do with contracts: one test, no eventscope config."""
    (directory / "pytest.ini").write_text("[pytest]\n")
    (directory / "conftest.py").write_text(_REPORTER)
    (directory / "test_plain.py").write_text("def test_plain():\n    pass\n")


def _variants(directory: Path) -> dict[str, list[str]]:
    python = sys.executable
    # Other packages' plugins would load in both variants alike.  Two are off in both:
    # hypothesis's (slow, unrelated noise) and pact-python's own (``pact.testing.pytest``
    # imports ``pact``, which would hide whether eventscope's plugin imports it).
    pytest = [python, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"]
    pytest += ["-p", "no:hypothesispytest", "-p", "no:pact", str(directory)]
    return {
        "pytest_without_plugin": [*pytest, "-p", "no:eventscope"],
        "pytest_with_plugin": pytest,
        "python_pass": [python, "-c", _IMPORT_PROBE.format(statement="pass")],
        "import_eventscope": [python, "-c", _IMPORT_PROBE.format(statement="import eventscope")],
    }


def _run(command: list[str], cwd: Path) -> tuple[float, list[str]]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    marker = [line for line in done.stderr.splitlines() if line.startswith("HEAVY=")]
    heavy = marker[-1].removeprefix("HEAVY=").split(",") if marker else []
    return elapsed, [name for name in heavy if name]


def run(repeat: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="eventscope-bench-imports-") as temp:
        directory = Path(temp)
        _project(directory)
        variants = _variants(directory)
        times: dict[str, list[float]] = {name: [] for name in variants}
        heavy: dict[str, list[str]] = {}
        for command in variants.values():  # warm the file system caches once
            _run(command, directory)
        for _ in range(repeat):
            for name, command in variants.items():
                elapsed, loaded = _run(command, directory)
                times[name].append(elapsed)
                heavy[name] = loaded
    ms = {name: statistics.median(values) * 1000 for name, values in times.items()}
    return {
        "repeat": repeat,
        "python": sys.executable,
        "median_ms": {name: round(value, 1) for name, value in ms.items()},
        "plugin_overhead_ms": round(ms["pytest_with_plugin"] - ms["pytest_without_plugin"], 1),
        "with_plugin_vs_without": round(ms["pytest_with_plugin"] / ms["pytest_without_plugin"], 3),
        "import_cost_ms": round(ms["import_eventscope"] - ms["python_pass"], 1),
        "import_vs_pass": round(ms["import_eventscope"] / ms["python_pass"], 2),
        "heavy_modules": heavy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.repeat)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"fresh processes, median of {result['repeat']} interleaved runs")
    labels = {
        "pytest_without_plugin": "pytest --co, -p no:eventscope",
        "pytest_with_plugin": "pytest --co, plugin loaded",
        "python_pass": 'python -c "pass"',
        "import_eventscope": 'python -c "import eventscope"',
    }
    for name, label in labels.items():
        loaded = ", ".join(result["heavy_modules"][name]) or "none"
        print(f"  {label:<32}{result['median_ms'][name]:9.1f} ms   heavy: {loaded}")
    print(
        f"  plugin load overhead            {result['plugin_overhead_ms']:9.1f} ms"
        f"   ({result['with_plugin_vs_without']:.3f}x the run without it)"
    )
    print(
        f"  import eventscope               {result['import_cost_ms']:9.1f} ms"
        f"   ({result['import_vs_pass']:.2f}x an empty interpreter)"
    )


if __name__ == "__main__":
    main()
