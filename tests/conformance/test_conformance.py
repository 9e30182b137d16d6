"""Every Confluent test vector, run through ``check_compatibility``."""

from __future__ import annotations

import pytest

from eventscope.schemas import check_compatibility
from tests.conformance.cases import Case, known_failures, load_cases

CASES = load_cases()
KNOWN = known_failures()


def _param(case: Case):
    marks = []
    if case.id in KNOWN:
        marks.append(pytest.mark.xfail(reason=KNOWN[case.id], strict=True))
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_verdict_matches_confluent(case: Case) -> None:
    result = check_compatibility(
        case.candidate,
        case.previous,
        format=case.format,
        mode=case.mode,
        references=case.references or None,
    )
    assert result.is_compatible is case.compatible, result.to_dict()
    if case.types and not case.compatible:
        reported = {i.type for i in result.incompatibilities}
        assert set(case.types) <= reported, result.to_dict()


def test_known_failures_name_real_cases() -> None:
    ids = {c.id for c in CASES}
    assert not set(KNOWN) - ids, "known_failures lists cases that do not exist"
