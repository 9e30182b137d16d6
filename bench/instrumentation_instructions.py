"""Issue 16's table in instructions per message, which the machine's load cannot move.

``bench/instrumentation.py`` times the variants; on a shared machine a burst of load
moves its ratios by a tenth or more.  This runs each variant of
:func:`instrumentation_profile.variants` under valgrind's callgrind, which counts
the instructions executed (collection is switched on only inside the measured loop,
a ``functools.reduce`` call), and prints the same rows as instruction ratios.  An
instruction count is not a time: a lock or a system call costs more than its count
says, so the timed bench stays the reference and this is its load-free check.

Needs ``valgrind``; one process under it runs every variant, a few minutes in all.
Run: ``python bench/instrumentation_instructions.py [--json] [--iterations N]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from opentelemetry.sdk.trace import TracerProvider

import instrumentation as bench
import instrumentation_variants as v
from instrumentation_profile import variants

WARM_UP = 300


def _loops(names: list[str], iterations: int) -> None:
    """The measured process: for each variant in turn, build it, warm it up, then the
    counted loop (callgrind writes one file of counts per loop)."""
    provider = TracerProvider()
    provider.add_span_processor(bench._Count())
    table = variants(provider)
    for name in names:
        bench.isolated(_loop, table[name], iterations)


def _loop(build: Callable[[], Callable[[], object]], iterations: int) -> float:
    one = build()
    for _ in range(WARM_UP):
        one()
    functools.reduce(lambda _acc, _i: one(), range(iterations), None)
    return 0.0


def instructions(names: list[str], iterations: int) -> dict[str, float]:
    """Instructions per call of each variant (counted inside its loop only)."""
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            "--collect-atstart=no",
            "--toggle-collect=functools_reduce",
            "--dump-after=functools_reduce",
            sys.executable,
            __file__,
            "--iterations",
            str(iterations),
            "--loops",
            *names,
        ]
        done = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).parent)
        if done.returncode != 0:
            raise RuntimeError(f"callgrind run failed:\n{done.stderr[-2000:]}")
        # one dump per loop, numbered in order: callgrind.out.1, callgrind.out.2, ...
        counts = [_total(Path(f"{out}.{n}")) for n in range(1, len(names) + 1)]
    return {name: count / iterations for name, count in zip(names, counts, strict=True)}


def _total(dump: Path) -> int:
    for line in dump.read_text().splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {dump}")


def run(iterations: int) -> dict:
    ir = instructions(list(variants(TracerProvider())), iterations)
    for name in ("pipeline_instrumented", "pipeline_bare"):
        ir[name] /= v.PIPELINE_ROUND

    def ratio(a: float, b: float) -> float:
        return round(a / b, 3)

    return {
        "iterations": iterations,
        "pika_traced_vs_contrib": ratio(ir["pika"], ir["pika_contrib"]),
        "kafka_traced_vs_contrib": ratio(ir["kafka"], ir["kafka_contrib"]),
        "traced_vs_handwritten_prometheus": ratio(ir["traced"], ir["handwritten_prometheus"]),
        "metrics_only_consumer_vs_raw_prometheus": ratio(
            ir["consumer_metrics_only"] - ir["bare_handler"],
            ir["raw_consumer"] - ir["bare_handler"],
        ),
        "metrics_only_producer_vs_raw_prometheus": ratio(
            ir["producer_metrics_only"] - ir["bare_send"], ir["raw_producer"] - ir["bare_send"]
        ),
        # throughput: the bare bus's instructions per message over the instrumented's
        "pipeline_vs_bare_bus": ratio(ir["pipeline_bare"], ir["pipeline_instrumented"]),
        "sampled_1pct_vs_handwritten_prometheus": ratio(
            ir["sampled_traced"], ir["sampled_handwritten_prometheus"]
        ),
        "instructions_per_message": {name: round(count) for name, count in ir.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--loops", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loops:
        _loops(args.loops, args.iterations)
        return
    if shutil.which("valgrind") is None:
        print("instrumentation_instructions: valgrind is not installed", file=sys.stderr)
        raise SystemExit(2)
    result = run(args.iterations)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name, count in result["instructions_per_message"].items():
        print(f"{name:<40}{count:>12,} instructions")
    print()
    bench.print_goals(result)


if __name__ == "__main__":
    main()
