"""Two teams' generated rule files in one Prometheus: no shared series, no cross-firing.

The orders team (the example configuration) and a payments team generate their rules
separately and load all four files into the same Prometheus.  Every alert scenario of
each team must give exactly the alerts it gives alone (promtool compares the complete
list of firing alerts of that name, so one alert from the other team's rules, carrying
``team="payments"`` for the orders team's ``billing`` group, fails it), and no recorded
series may be written by two rules (Prometheus' "duplicate sample for timestamp").
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from eventscope.config import Config, config_from_mapping
from eventscope.generate.documents import SLO_RULES, THRESHOLD_RULES
from tests.alerts.scenarios import promtool_tests
from tests.alerts.tools import example_config, promtool, write_generated

pytestmark = pytest.mark.prometheus

PAYMENTS = {
    "name": "payments",
    "services": ["payments-service"],
    "destinations": ["payments"],
    "dead_letter_destinations": ["payments.dlq"],
    "consumer_groups": ["ledger"],
    "lag_targets": ["payments-rabbitmq"],
    "alert_labels": {"team": "payments"},
}


def teams() -> dict[str, Config]:
    return {"orders": example_config(), "payments": config_from_mapping(PAYMENTS, "payments.toml")}


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory holding both teams' rule files, as a Prometheus rule_files glob sees."""
    shared = tmp_path_factory.mktemp("rules")
    for team, config in teams().items():
        files = write_generated(config, shared / team)
        for name in (THRESHOLD_RULES, SLO_RULES):
            (shared / f"{team}-{Path(name).name}").write_bytes(files[name])
    return shared


def _rule_files(rules_dir: Path) -> list[str]:
    names = [
        f"{team}-{Path(name).name}" for team in teams() for name in (THRESHOLD_RULES, SLO_RULES)
    ]
    assert all((rules_dir / name).is_file() for name in names)
    return names


def test_no_series_is_recorded_by_both_teams(rules_dir: Path) -> None:
    recorded: dict[str, list[str]] = {}
    groups: list[str] = []
    for name in _rule_files(rules_dir):
        for group in yaml.safe_load((rules_dir / name).read_text())["groups"]:
            groups.append(group["name"])
            for rule in group["rules"]:
                if "record" in rule:
                    recorded.setdefault(rule["record"], []).append(name)
    assert len(recorded) == 2 * 19  # each team's 19 recording rules, none shared
    assert {k: v for k, v in recorded.items() if len(v) > 1} == {}
    assert len(set(groups)) == len(groups)


def test_promtool_accepts_both_teams_files_together(rules_dir: Path) -> None:
    files = _rule_files(rules_dir)
    assert len(files) == 4
    assert promtool("check", "rules", *files, cwd=rules_dir).count("SUCCESS") == 4


@pytest.mark.parametrize("team", ["orders", "payments"])
def test_each_teams_alerts_fire_exactly_as_alone_with_both_loaded(
    team: str, rules_dir: Path
) -> None:
    documents = promtool_tests(teams()[team])
    every_rule_file = _rule_files(rules_dir)
    for name, document in documents.items():
        document["rule_files"] = every_rule_file
        (rules_dir / f"test-{team}-{name}").write_text(yaml.safe_dump(document, sort_keys=False))
    tests = [f"test-{team}-{name}" for name in documents]
    assert promtool("test", "rules", *tests, cwd=rules_dir).count("SUCCESS") == len(tests)
