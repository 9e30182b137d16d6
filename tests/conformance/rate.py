"""The conformance pass rate per format: ``python -m tests.conformance.rate [--failures]``.

pytest reports known failures as xfails, which hides how far a format is from Confluent;
this prints the plain number.  A case passes when the verdict matches Confluent's and,
for an incompatible case, every incompatibility type Confluent names is reported; known
failures and crashes count as failures.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from eventscope.schemas import check_compatibility
from tests.conformance.cases import FORMATS, Case, load_cases


def failure(case: Case) -> str | None:
    """Why ``case`` fails, or ``None`` when eventscope agrees with Confluent."""
    try:
        result = check_compatibility(
            case.candidate,
            case.previous,
            format=case.format,
            mode=case.mode,
            references=case.references or None,
        )
    except Exception as exc:  # a crash is one more failure to count, not the end of the run
        return f"{type(exc).__name__}: {exc}"
    if result.is_compatible is not case.compatible:
        types = ", ".join(sorted({i.type for i in result.incompatibilities}))
        said = "compatible" if result.is_compatible else f"incompatible ({types})"
        return f"expected {'compatible' if case.compatible else 'incompatible'}, got {said}"
    missing = set(case.types) - {i.type for i in result.incompatibilities}
    if missing and not case.compatible:
        return f"does not report {', '.join(sorted(missing))}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--failures", action="store_true", help="list each failing case")
    args = parser.parse_args(argv)
    passed_all = total_all = 0
    print(f"{'format':<10}{'passed':>8}{'total':>8}{'rate':>9}")
    for fmt in FORMATS:
        cases = load_cases((fmt,))
        failures = {case.id: reason for case in cases if (reason := failure(case))}
        passed = len(cases) - len(failures)
        passed_all, total_all = passed_all + passed, total_all + len(cases)
        print(f"{fmt:<10}{passed:>8}{len(cases):>8}{_percent(passed, len(cases)):>9}")
        if args.failures:
            for case_id, reason in failures.items():
                print(f"  FAIL {case_id}: {reason}")
    print(f"{'all':<10}{passed_all:>8}{total_all:>8}{_percent(passed_all, total_all):>9}")
    return 0


def _percent(passed: int, total: int) -> str:
    return f"{100 * passed / total:.1f}%" if total else "-"


if __name__ == "__main__":
    sys.exit(main())
