"""The generated rule files pass promtool, and every alert fires and stays silent on cue."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from eventscope.alerts import all_alerts
from eventscope.config import Config, config_from_mapping
from eventscope.generate.documents import SLO_RULES, THRESHOLD_RULES
from tests.alerts.scenarios import cases, promtool_tests
from tests.alerts.tools import example_config, promtool, write_generated

pytestmark = pytest.mark.prometheus

def _two_second_objective() -> Config:
    """A team whose objective is not a catalog boundary brings its own buckets."""
    slo = {"latency_seconds": 2, "latency_buckets": [0.25, 0.5, 1, 2, 5, 10, 30]}
    return config_from_mapping({"name": "payments", "slo": slo}, "payments.toml")


CONFIGS = {"defaults": Config, "example": example_config, "own buckets": _two_second_objective}


@pytest.fixture(params=sorted(CONFIGS), scope="module")
def config(request: pytest.FixtureRequest) -> Config:
    return CONFIGS[request.param]()


def test_promtool_accepts_every_rule_file(config: Config, tmp_path: Path) -> None:
    files = write_generated(config, tmp_path)
    rule_files = [name for name in files if name.startswith("alerts/")]
    assert sorted(rule_files) == sorted([THRESHOLD_RULES, SLO_RULES])
    output = promtool("check", "rules", *rule_files, cwd=tmp_path)
    assert output.count("SUCCESS") == len(rule_files)


def test_scenarios_cover_every_alert_rule(config: Config) -> None:
    firing = {key for case in cases(config) if case.expected for key in case.covers}
    silent = {case.alertname for case in cases(config) if not case.expected}
    alerts = all_alerts(config)
    assert firing == {a.key for a in alerts}
    assert silent == {a.name for a in alerts}


def test_every_alert_fires_on_its_series_and_not_on_healthy_ones(
    config: Config, tmp_path: Path
) -> None:
    write_generated(config, tmp_path)
    documents = promtool_tests(config)
    for name, document in documents.items():
        (tmp_path / "alerts" / name).write_text(yaml.safe_dump(document, sort_keys=False))
    output = promtool("test", "rules", *documents, cwd=tmp_path / "alerts")
    assert output.count("SUCCESS") == len(documents)
