"""What the pytest plugin imports: a run without contract work must not pay for the
contract machinery (``eventscope.contracts``, schema checkers, registry, pact-python).

Each run is a fresh subprocess: this process has imported all of it long ago.
"""

from __future__ import annotations

import pytest

NO_HYPOTHESIS = ("-p", "no:hypothesispytest")
CONTRACT_MODULES = ("eventscope.contracts", "eventscope.schemas", "pact")

# Reports, when the run ends, which of CONTRACT_MODULES it imported.
REPORTER = f"""
import sys

def pytest_unconfigure(config):
    loaded = [m for m in {CONTRACT_MODULES!r} if m in sys.modules]
    sys.stdout.write("LOADED=" + ",".join(loaded) + "\\n")
"""


def _loaded(result: pytest.RunResult) -> list[str]:
    line = next(line for line in result.outlines if line.startswith("LOADED="))
    return [name for name in line.removeprefix("LOADED=").split(",") if name]


@pytest.mark.parametrize(
    ("ini", "args"),
    [
        pytest.param("", (), id="not configured"),
        pytest.param("eventscope_pacts = pacts\n", ("test_plain.py",), id="narrowed run"),
    ],
)
def test_a_run_without_contract_items_imports_no_contract_machinery(
    pytester: pytest.Pytester, ini: str, args: tuple[str, ...]
) -> None:
    pytester.makeini(f"[pytest]\n{ini}")
    pytester.makeconftest(REPORTER)
    pytester.makepyfile(test_plain="def test_plain(): pass")
    pytester.mkdir("pacts")

    result = pytester.runpytest_subprocess(*NO_HYPOTHESIS, "-p", "no:pact", *args)

    result.assert_outcomes(passed=1)
    assert _loaded(result) == []


def test_a_run_with_a_message_pact_imports_it_when_asked(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\n")
    pytester.makeconftest(REPORTER)
    pytester.makepyfile(
        test_consumer="""
        import pytest

        @pytest.mark.eventscope_pact(consumer="billing", provider="orders-service")
        def test_declares_nothing(message_pact):
            pass
        """
    )

    result = pytester.runpytest_subprocess(*NO_HYPOTHESIS, "-p", "no:pact")

    result.assert_outcomes(passed=1)
    assert "eventscope.contracts" in _loaded(result)
