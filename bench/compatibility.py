"""How fast eventscope's compatibility checker is, and how it compares with Karapace.

Three measurements, run from the repository root::

    python -m bench.compatibility [--versions 1000] [--repeat 3] [--json]
        [--karapace SRC --karapace-python PYTHON [--karapace-versions 200]]

(a) A 1,000-version Avro history of a realistic schema (50+ fields: nested records,
    arrays, maps, enums, unions, fixed, logical types; each version adds one optional
    field with a default), newest checked BACKWARD_TRANSITIVE and FULL_TRANSITIVE, from
    schema text (what the CLI pays) and from parsed schemas (what a long-lived process
    pays).
(b) The whole conformance corpus (tests/conformance/<format>/), cases per second per
    format, with the share of verdicts that match Confluent's.
(c) With ``--karapace``: the same Avro and JSON Schema work done by Karapace's own
    compatibility functions, for the speed ratio and the verdict agreement.  Karapace is
    not on PyPI and needs its own dependencies (the ``avro`` package, ``networkx``), so
    it runs in a separate interpreter (``--karapace-python``, a throwaway venv) fed by
    this same file in worker mode; ``SRC`` is the ``src`` directory of a Karapace
    checkout.  Nothing of Karapace is vendored.  Karapace takes minutes per long
    history, so it gets ``--karapace-versions`` versions (200 unless given, never more
    than ``--versions``); eventscope then checks that same shorter history too, and
    each history ratio compares the two on identical work.

Every eventscope timing starts cold: :func:`eventscope.schemas.clear_caches` empties
the parse caches and remembered verdicts before each run, so a repeat measures the
work again rather than a cache lookup (a long-lived process would do better).

Only the standard library is imported at module level because worker mode runs under
Karapace's interpreter, which has no eventscope.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any

NAMESPACE = "com.acme.orders"
TRANSITIVE_MODES = ("BACKWARD_TRANSITIVE", "FULL_TRANSITIVE")
KARAPACE_FORMATS = ("avro", "json")
#: The long history is timed once: a run takes seconds, so noise is small, and it is
#: the slowest part of the benchmark.  ``--repeat`` applies to the corpus.
HISTORY_RUNS = 1
KARAPACE_VERSIONS = 200


# --- the realistic Avro history -------------------------------------------------------


def _optional(name: str, type_: Any, doc: str = "") -> dict[str, Any]:
    return {"name": name, "type": ["null", type_], "default": None, "doc": doc}


def _money(name: str) -> dict[str, Any]:
    return {"name": name, "type": "Money"}


def base_order_schema() -> dict[str, Any]:
    """An order event as a retailer would publish it: 56 fields at five levels of nesting."""
    money = {
        "type": "record",
        "name": "Money",
        "fields": [
            {"name": "units", "type": "long"},
            {"name": "nanos", "type": "int", "default": 0},
            {"name": "currency", "type": {"type": "string", "avro.java.string": "String"}},
        ],
    }
    address = {
        "type": "record",
        "name": "Address",
        "fields": [
            {"name": "line1", "type": "string"},
            _optional("line2", "string"),
            {"name": "city", "type": "string"},
            _optional("region", "string"),
            {"name": "postal_code", "type": "string"},
            {"name": "country", "type": {"type": "fixed", "name": "CountryCode", "size": 2}},
            _optional(
                "geo",
                {
                    "type": "record",
                    "name": "GeoPoint",
                    "fields": [
                        {"name": "lat", "type": "double"},
                        {"name": "lon", "type": "double"},
                    ],
                },
            ),
        ],
    }
    customer = {
        "type": "record",
        "name": "Customer",
        "fields": [
            {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
            {"name": "email", "type": "string"},
            _optional("phone", "string"),
            {
                "name": "tier",
                "type": {
                    "type": "enum",
                    "name": "Tier",
                    "symbols": ["STANDARD", "SILVER", "GOLD", "PLATINUM"],
                    "default": "STANDARD",
                },
                "default": "STANDARD",
            },
            {"name": "billing", "type": address},
            _optional("shipping", "Address"),
            {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
            {"name": "attributes", "type": {"type": "map", "values": "string"}, "default": {}},
        ],
    }
    line_item = {
        "type": "record",
        "name": "LineItem",
        "fields": [
            {"name": "sku", "type": "string"},
            {"name": "quantity", "type": "int"},
            _money("unit_price"),
            _optional("discount", "Money"),
            {
                "name": "options",
                "type": {"type": "map", "values": ["null", "string", "long", "boolean"]},
                "default": {},
            },
            {"name": "gift", "type": "boolean", "default": False},
        ],
    }
    status = {
        "type": "enum",
        "name": "OrderStatus",
        "symbols": ["CREATED", "PAID", "PACKED", "SHIPPED", "DELIVERED", "CANCELLED", "RETURNED"],
        "default": "CREATED",
    }
    payment = {
        "type": "record",
        "name": "CardPayment",
        "fields": [
            {"name": "last4", "type": "string"},
            {"name": "network", "type": "string"},
            _money("amount"),
        ],
    }
    voucher = {
        "type": "record",
        "name": "VoucherPayment",
        "fields": [{"name": "code", "type": "string"}, _money("amount")],
    }
    return {
        "type": "record",
        "name": "Order",
        "namespace": NAMESPACE,
        "doc": "An order as it moves from checkout to delivery.",
        "fields": [
            {"name": "order_id", "type": {"type": "string", "logicalType": "uuid"}},
            {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            _optional("updated_at", {"type": "long", "logicalType": "timestamp-micros"}),
            {"name": "status", "type": status, "default": "CREATED"},
            {"name": "subtotal", "type": money},
            {"name": "customer", "type": customer},
            {"name": "items", "type": {"type": "array", "items": line_item}},
            _money("tax"),
            _money("shipping_cost"),
            _money("total"),
            {"name": "payments", "type": {"type": "array", "items": [payment, voucher]}},
            {"name": "channel", "type": "string", "default": "web"},
            _optional("coupon", "string"),
            {"name": "metadata", "type": {"type": "map", "values": "string"}, "default": {}},
            {
                "name": "history",
                "type": {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "StatusChange",
                        "fields": [
                            {"name": "status", "type": "OrderStatus"},
                            {"name": "at", "type": "long"},
                            _optional("reason", "string"),
                        ],
                    },
                },
                "default": [],
            },
            {"name": "weight_grams", "type": ["null", "int", "long"], "default": None},
            {"name": "priority", "type": "int", "default": 0},
            {"name": "checksum", "type": {"type": "fixed", "name": "Sha256", "size": 32}},
            {"name": "notes", "type": ["null", "string", "bytes"], "default": None},
            {"name": "test_order", "type": "boolean", "default": False},
        ],
    }


def count_fields(schema: Any) -> int:
    """All record fields, at every level (each named record counted once)."""
    if isinstance(schema, list):
        return sum(count_fields(branch) for branch in schema)
    if not isinstance(schema, dict):
        return 0
    kind = schema.get("type")
    if kind == "record":
        return sum(1 + count_fields(f["type"]) for f in schema["fields"])
    if kind == "array":
        return count_fields(schema["items"])
    if kind == "map":
        return count_fields(schema["values"])
    return count_fields(kind) if isinstance(kind, dict | list) else 0


_EXTENSION_TYPES = ("string", "long", {"type": "map", "values": "string"}, "double")


def avro_history(count: int) -> list[str]:
    """``count`` versions as schema text, oldest first; version k adds field ``ext_k``."""
    base = base_order_schema()
    fields = list(base["fields"])
    history = [json.dumps({**base, "fields": list(fields)})]
    for k in range(1, count):
        fields.append(_optional(f"ext_{k}", _EXTENSION_TYPES[k % len(_EXTENSION_TYPES)]))
        history.append(json.dumps({**base, "fields": list(fields)}))
    return history


# --- timing ---------------------------------------------------------------------------


def best_time(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The best wall time of ``repeat`` runs, and that run's value."""
    best, value = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        took = time.perf_counter() - started
        if took < best:
            best, value = took, result
    return best, value


# --- eventscope -----------------------------------------------------------------------


def cold(run: Callable[[], Any]) -> Callable[[], Any]:
    """``run`` preceded by emptying eventscope's caches, so each timing starts cold."""
    from eventscope.schemas import clear_caches

    def cold_run() -> Any:
        clear_caches()
        return run()

    return cold_run


def eventscope_history(history: list[str]) -> dict[str, Any]:
    from eventscope.schemas import check_compatibility
    from eventscope.schemas.avro import parse

    parsed = [parse(text) for text in history]
    results: dict[str, Any] = {}
    for mode in TRANSITIVE_MODES:
        from_text, verdict = best_time(
            cold(
                lambda m=mode: check_compatibility(history[-1], history[:-1], format="avro", mode=m)
            ),
            HISTORY_RUNS,
        )
        pre_parsed, _ = best_time(
            cold(
                lambda m=mode: check_compatibility(parsed[-1], parsed[:-1], format="avro", mode=m)
            ),
            HISTORY_RUNS,
        )
        results[mode] = {
            "compatible": verdict.is_compatible,
            "seconds_from_text": from_text,
            "seconds_parsed": pre_parsed,
        }
    return results


def eventscope_corpus(cases: list[Any], repeat: int) -> dict[str, Any]:
    from eventscope.schemas import check_compatibility

    def verdict(case: Any) -> str:
        try:
            result = check_compatibility(
                case.candidate,
                case.previous,
                format=case.format,
                mode=case.mode,
                references=case.references or None,
            )
        except Exception as exc:  # a crash is a wrong verdict, counted, not fatal
            return f"error: {type(exc).__name__}"
        return "compatible" if result.is_compatible else "incompatible"

    table: dict[str, Any] = {}
    for fmt in sorted({case.format for case in cases}):
        selected = [case for case in cases if case.format == fmt]
        seconds, (found, case_seconds) = best_time(
            cold(lambda s=selected: timed_verdicts(s, verdict, attrgetter("id"))), repeat
        )
        expected = {c.id: "compatible" if c.compatible else "incompatible" for c in selected}
        table[fmt] = {
            "cases": len(selected),
            "seconds": seconds,
            "cases_per_second": len(selected) / seconds if seconds else None,
            "matches_confluent": sum(found[i] == expected[i] for i in expected),
            "verdicts": found,
            "case_seconds": case_seconds,
        }
    return table


def timed_verdicts(
    cases: list[Any], verdict: Callable[[Any], str], case_id: Callable[[Any], str]
) -> tuple[dict[str, str], dict[str, float]]:
    """Each case's verdict and the seconds it took (both sides use this, for the ratio
    over the cases Karapace decides)."""
    found: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for case in cases:
        started = time.perf_counter()
        found[case_id(case)] = verdict(case)
        seconds[case_id(case)] = time.perf_counter() - started
    return found, seconds


# --- Karapace (worker mode runs under Karapace's interpreter) -------------------------


def _karapace_worker(src: str) -> None:
    """Read the work as JSON on stdin, do it with Karapace's functions, print JSON."""
    sys.path.insert(0, src)
    from avro.compatibility import (
        ReaderWriterCompatibilityChecker,
        SchemaCompatibilityType,
        merge,
    )
    from avro.schema import parse as avro_parse
    from jsonschema import Draft7Validator
    from karapace.core.compatibility.jsonschema.checks import compatibility as json_check

    # Karapace's schema_models parse and SchemaCompatibility.check_compatibility dispatch,
    # restated without the modules that pull in its server and Go protobuf library.
    def parse(fmt: str, schema: Any) -> Any:
        if fmt == "avro":
            return parse_avro_text(json.dumps(schema))
        Draft7Validator.check_schema(schema)
        return Draft7Validator(schema)

    def parse_avro_text(text: str) -> Any:
        return avro_parse(text, validate_enum_symbols=True, validate_names=True)

    def pair(fmt: str, reader: Any, writer: Any) -> Any:
        if fmt == "avro":
            return ReaderWriterCompatibilityChecker().get_compatibility(reader, writer)
        return json_check(reader, writer)

    def compatible(fmt: str, mode: str, new: Any, olds: list[Any]) -> bool:
        if mode == "NONE" or not olds:
            return True
        for old in olds if mode.endswith("_TRANSITIVE") else olds[-1:]:
            if mode.startswith("BACKWARD"):
                result = pair(fmt, new, old)
            elif mode.startswith("FORWARD"):
                result = pair(fmt, old, new)
            else:
                result = merge(pair(fmt, new, old), pair(fmt, old, new))
            if result.compatibility is not SchemaCompatibilityType.compatible:
                return False
        return True

    def verdict(case: dict[str, Any]) -> str:
        try:
            new = parse(case["format"], case["candidate"])
            olds = [parse(case["format"], s) for s in case["previous"]]
            ok = compatible(case["format"], case["mode"], new, olds)
        except Exception as exc:  # Karapace refuses the schema or crashes: no verdict
            return f"error: {type(exc).__name__}"
        return "compatible" if ok else "incompatible"

    work = json.load(sys.stdin)
    repeat = work["repeat"]
    history = work["history"]
    out: dict[str, Any] = {"history": {}, "corpus": {}}
    parsed = [parse_avro_text(text) for text in history]
    for mode in TRANSITIVE_MODES:

        def from_text(m: str = mode) -> bool:
            schemas = [parse_avro_text(text) for text in history]
            return compatible("avro", m, schemas[-1], schemas[:-1])

        seconds_text, ok = best_time(from_text, HISTORY_RUNS)
        seconds_parsed, _ = best_time(
            lambda m=mode: compatible("avro", m, parsed[-1], parsed[:-1]), HISTORY_RUNS
        )
        out["history"][mode] = {
            "compatible": ok,
            "seconds_from_text": seconds_text,
            "seconds_parsed": seconds_parsed,
        }
    for fmt in KARAPACE_FORMATS:
        selected = [case for case in work["cases"] if case["format"] == fmt]
        seconds, (found, case_seconds) = best_time(
            lambda s=selected: timed_verdicts(s, verdict, itemgetter("id")), repeat
        )
        out["corpus"][fmt] = {
            "cases": len(selected),
            "seconds": seconds,
            "verdicts": found,
            "case_seconds": case_seconds,
        }
    json.dump(out, sys.stdout)


def karapace_run(
    python: str, src: str, history: list[str], cases: list[Any], repeat: int
) -> dict[str, Any]:
    """Run the worker under Karapace's interpreter; the work travels as JSON."""
    work = {
        "repeat": repeat,
        "history": history,
        "cases": [
            {
                "id": c.id,
                "format": c.format,
                "mode": c.mode,
                "candidate": c.candidate,
                "previous": c.previous,
            }
            for c in cases
            if c.format in KARAPACE_FORMATS and not c.references
        ],
    }
    done = subprocess.run(
        [python, str(Path(__file__).resolve()), "--karapace-worker", src],
        input=json.dumps(work),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"Karapace worker failed:\n{done.stderr}")
    return json.loads(done.stdout)


def compare(ours: dict[str, Any], theirs: dict[str, Any], cases: list[Any]) -> dict[str, Any]:
    """Speed ratios and verdict agreement, eventscope vs Karapace.

    History ratios use eventscope's run of the history Karapace was given.
    """
    expected = {c.id: "compatible" if c.compatible else "incompatible" for c in cases}
    report: dict[str, Any] = {"history": {}, "corpus": {}}
    for mode, mine in ours.get("history_for_karapace", ours["history"]).items():
        other = theirs["history"][mode]
        report["history"][mode] = {
            key: other[key] / mine[key] for key in ("seconds_from_text", "seconds_parsed")
        }
    for fmt, other in theirs["corpus"].items():
        mine = ours["corpus"].get(fmt)
        if mine is None or not other["cases"]:
            continue
        ids = list(other["verdicts"])
        report["corpus"][fmt] = {
            "cases": len(ids),
            "speedup": (other["seconds"] / other["cases"]) / (mine["seconds"] / mine["cases"]),
            "speedup_where_karapace_decides": _decided_speedup(mine, other, ids),
            "agree_with_eventscope": sum(other["verdicts"][i] == mine["verdicts"][i] for i in ids),
            "karapace_matches_confluent": sum(other["verdicts"][i] == expected[i] for i in ids),
            "eventscope_matches_confluent": sum(mine["verdicts"][i] == expected[i] for i in ids),
            "karapace_errors": sum(other["verdicts"][i].startswith("error") for i in ids),
            "disagreements": {
                i: {
                    "confluent": expected[i],
                    "eventscope": mine["verdicts"][i],
                    "karapace": other["verdicts"][i],
                }
                for i in ids
                if other["verdicts"][i] != mine["verdicts"][i]
            },
        }
    return report


def _decided_speedup(mine: dict[str, Any], other: dict[str, Any], ids: list[str]) -> float:
    """The ratio over the cases Karapace gives a verdict for (it fails fast on others,
    such as recursive schemas, where eventscope does the full work)."""
    decided = [i for i in ids if not other["verdicts"][i].startswith("error")]
    theirs = sum(other["case_seconds"][i] for i in decided)
    ours = sum(mine["case_seconds"][i] for i in decided)
    return theirs / ours if ours else float("nan")


# --- output ---------------------------------------------------------------------------


def print_tables(doc: dict[str, Any]) -> None:
    history = doc["eventscope"]["history"]
    print(
        f"(a) Avro history: {doc['versions']} versions, {doc['fields']} fields in v1, "
        f"{doc['fields'] + doc['versions'] - 1} in v{doc['versions']}"
    )
    print(f"    {'mode':<22}{'from text':>12}{'parsed':>12}{'pairs/s':>10}  verdict")
    pairs = doc["versions"] - 1
    for mode, row in history.items():
        verdict = "compatible" if row["compatible"] else "INCOMPATIBLE"
        print(
            f"    {mode:<22}{row['seconds_from_text']:>11.3f}s{row['seconds_parsed']:>11.3f}s"
            f"{pairs / row['seconds_parsed']:>10.0f}  {verdict}"
        )
    print("(b) conformance corpus (Confluent's test vectors)")
    print(f"    {'format':<10}{'cases':>7}{'seconds':>10}{'cases/s':>10}{'match':>8}")
    for fmt, row in doc["eventscope"]["corpus"].items():
        rate = f"{row['cases_per_second']:.0f}" if row["cases_per_second"] else "-"
        print(
            f"    {fmt:<10}{row['cases']:>7}{row['seconds']:>10.3f}{rate:>10}"
            f"{row['matches_confluent']:>5}/{row['cases']}"
        )
    if "comparison" in doc:
        _print_comparison(doc)


def _print_comparison(doc: dict[str, Any]) -> None:
    comparison, karapace = doc["comparison"], doc["karapace"]
    ours = doc["eventscope"].get("history_for_karapace", doc["eventscope"]["history"])
    print("(c) Karapace (same machine, same run); ratio = Karapace time / eventscope time")
    print(f"    Avro history of {doc['karapace_versions']} versions, same work on both sides:")
    for mode, ratio in comparison["history"].items():
        row, mine = karapace["history"][mode], ours[mode]
        print(
            f"    {mode:<22}Karapace {row['seconds_from_text']:.3f}s from text, "
            f"{row['seconds_parsed']:.3f}s parsed; eventscope {mine['seconds_from_text']:.3f}s"
            f" / {mine['seconds_parsed']:.3f}s: faster by "
            f"{ratio['seconds_from_text']:.1f}x / {ratio['seconds_parsed']:.1f}x"
        )
    for fmt, row in comparison["corpus"].items():
        print(
            f"    {fmt:<10}{row['cases']} cases: eventscope faster by {row['speedup']:.2f}x "
            f"({row['speedup_where_karapace_decides']:.2f}x on the cases Karapace decides); "
            f"verdicts agree on {row['agree_with_eventscope']}/{row['cases']}; "
            f"match Confluent: Karapace {row['karapace_matches_confluent']}, "
            f"eventscope {row['eventscope_matches_confluent']} "
            f"(Karapace refused {row['karapace_errors']})"
        )


def _drop_verdicts(doc: dict[str, Any]) -> None:
    """Per-case verdicts feed ``compare``; the report keeps only the disagreements."""
    for side in ("eventscope", "karapace"):
        for row in doc.get(side, {}).get("corpus", {}).values():
            del row["verdicts"]
            del row["case_seconds"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=1000, help="history length (a)")
    parser.add_argument("--repeat", type=int, default=3, help="corpus runs; best kept")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--karapace", metavar="SRC", help="Karapace checkout's src directory")
    parser.add_argument(
        "--karapace-python", metavar="PYTHON", help="interpreter with Karapace's dependencies"
    )
    parser.add_argument(
        "--karapace-versions",
        type=int,
        metavar="N",
        help=f"history length Karapace checks, and eventscope again for the ratio "
        f"(default {KARAPACE_VERSIONS}, at most --versions)",
    )
    parser.add_argument("--karapace-worker", metavar="SRC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.karapace_worker:
        _karapace_worker(args.karapace_worker)
        return 0
    if bool(args.karapace) != bool(args.karapace_python):
        parser.error("--karapace and --karapace-python go together")
    if args.versions < 2:
        parser.error("--versions must be at least 2")
    karapace_versions = min(args.karapace_versions or KARAPACE_VERSIONS, args.versions)
    if karapace_versions < 2:
        parser.error("--karapace-versions must be at least 2")

    from tests.conformance.cases import load_cases

    cases = load_cases()
    history = avro_history(args.versions)
    doc: dict[str, Any] = {
        "versions": args.versions,
        "fields": count_fields(base_order_schema()),
        "eventscope": {
            "history": eventscope_history(history),
            "corpus": eventscope_corpus(cases, args.repeat),
        },
    }
    if args.karapace:
        short = avro_history(karapace_versions)
        doc["karapace_versions"] = karapace_versions
        if karapace_versions != args.versions:
            doc["eventscope"]["history_for_karapace"] = eventscope_history(short)
        doc["karapace"] = karapace_run(
            args.karapace_python, args.karapace, short, cases, args.repeat
        )
        doc["comparison"] = compare(doc["eventscope"], doc["karapace"], cases)
    _drop_verdicts(doc)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print_tables(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
