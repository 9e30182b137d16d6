"""Large schemas: do checks grow linearly, and what does the JSON Schema path cost?

Two measurements, each against a baseline taken in the same run:

* Avro enums of N and 10·N symbols (checked against themselves): the time ratio is
  about 10 when the work is linear (it was about 100 with the old ``symbol in
  symbols[:i]`` duplicate check: 0.9 s for 10k symbols, > 60 s for 400k).
* A JSON Schema document of M megabytes (an object of generated property schemas)
  checked against itself from a cold cache, against the baseline of validating the same
  document with :mod:`jsonschema`'s meta-schema check alone, which is what the JSON
  Schema path spent nearly all its time in before (26.9 s for the whole 10 MB check).

Run: ``python bench/schema_inputs.py [--symbols 40000] [--megabytes 1] [--repeat 3]
[--json]``; issue 12's figures are ``--symbols 40000 --megabytes 10``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from jsonschema import Draft7Validator

from eventscope.schemas import check_files, clear_caches


def timed(work: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` cold runs."""
    times = []
    for _ in range(repeat):
        clear_caches()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def enum_schema(symbols: int) -> str:
    return json.dumps({"type": "enum", "name": "E", "symbols": [f"S{i}" for i in range(symbols)]})


def json_schema(megabytes: float) -> dict:
    one = {
        "type": "object",
        "properties": {"x": {"type": "string", "maxLength": 10}, "y": {"type": "integer"}},
        "required": ["x"],
    }
    count = int(megabytes * 1_000_000 / (len(json.dumps(one)) + 12))
    return {"type": "object", "properties": {f"p{i}": one for i in range(count)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--symbols", type=int, default=40_000, help="N: the smaller enum")
    parser.add_argument("--megabytes", type=float, default=1.0, help="JSON Schema size")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        small, large = Path(folder, "small.avsc"), Path(folder, "large.avsc")
        small.write_text(enum_schema(args.symbols))
        large.write_text(enum_schema(10 * args.symbols))
        enum_small = timed(lambda: check_files(small, [small]), args.repeat)
        enum_large = timed(lambda: check_files(large, [large]), args.repeat)

        document = json_schema(args.megabytes)
        path = Path(folder, "large.json")
        path.write_text(json.dumps(document))
        size = path.stat().st_size
        check = timed(lambda: check_files(path, [path]), args.repeat)
        baseline = timed(lambda: Draft7Validator.check_schema(document), args.repeat)
    result = {
        "enum_symbols": [args.symbols, 10 * args.symbols],
        "enum_seconds": [round(enum_small, 3), round(enum_large, 3)],
        "enum_growth_for_10x_symbols": round(enum_large / enum_small, 1),
        "json_schema_bytes": size,
        "json_schema_check_seconds": round(check, 2),
        "jsonschema_metaschema_only_seconds": round(baseline, 2),
        "check_vs_metaschema_only": round(check / baseline, 2),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"Avro enum, {args.symbols:,} -> {10 * args.symbols:,} symbols: "
        f"{enum_small:.3f} s -> {enum_large:.3f} s "
        f"({enum_large / enum_small:.1f}x for 10x the symbols; linear is ~10x)"
    )
    print(
        f"JSON Schema, {size / 1e6:.1f} MB against itself: {check:.2f} s for the whole check; "
        f"jsonschema's meta-schema check alone: {baseline:.2f} s "
        f"(ratio {check / baseline:.2f})"
    )


if __name__ == "__main__":
    main()
