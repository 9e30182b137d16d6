"""``eventscope generate``: the files it writes, byte for byte, and the committed set."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from eventscope.cli import main
from eventscope.generate import differences, generated_files
from tests.alerts.tools import EXAMPLE_CONFIG, REPO, example_config


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_output_layout_and_byte_identical_reruns(tmp_path: Path) -> None:
    args = ["generate", "--config", str(EXAMPLE_CONFIG), "--out"]
    assert main([*args, str(tmp_path / "a")]) == 0
    assert main([*args, str(tmp_path / "b")]) == 0
    first, second = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert first == second
    folders = {name.split("/")[0] for name in first}
    assert folders == {"dashboards", "provisioning", "alerts", "runbooks"}
    assert sum(name.endswith(".json") for name in first) == 4
    assert not any(b"generated at" in content.lower() for content in first.values())


def test_provisioning_files_point_at_each_other(tmp_path: Path) -> None:
    config = example_config()
    files = generated_files(config)
    datasources = yaml.safe_load(files["provisioning/datasources.yaml"])["datasources"]
    assert datasources[0]["uid"] == config.grafana.datasource_uid
    assert datasources[0]["type"] == "prometheus"
    provider = yaml.safe_load(files["provisioning/dashboards.yaml"])["providers"][0]
    assert provider["options"]["path"] == config.grafana.dashboards_path
    alerting = yaml.safe_load(files["provisioning/alerting.yaml"])
    rules = [r for g in alerting["groups"] for r in g["rules"]]
    assert len(rules) == 20
    assert len({r["uid"] for r in rules}) == len(rules)
    assert all(len(r["uid"]) <= 40 for r in rules)
    for rule in rules:
        assert rule["data"][0]["datasourceUid"] == config.grafana.datasource_uid
        assert rule["condition"] == "B" and rule["for"] and rule["labels"]["severity"]
        assert {"folderUID", "orgID", "ruleGroup"}.isdisjoint(rule)
        assert "$value " not in str(rule["annotations"])


def test_check_reports_drift_and_stale_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "set"
    args = ["generate", "--config", str(EXAMPLE_CONFIG), "--out", str(out)]
    assert main(args) == 0
    assert main([*args, "--check"]) == 0
    page = next((out / "runbooks").glob("*.md"))
    page.write_text(page.read_text() + "edited by hand\n")
    (out / "dashboards" / "renamed.json").write_text("{}")
    capsys.readouterr()
    assert main([*args, "--check"]) == 1
    err = capsys.readouterr().err
    assert f"{page.name}: differs" in err
    assert "renamed.json: no longer generated" in err


def test_committed_set_matches_the_generator() -> None:
    """CI fails when dashboards/, provisioning/, alerts/ or runbooks/ drift from the code."""
    problems = differences(generated_files(example_config()), REPO)
    assert not problems, (
        "the committed generated set is out of date; run "
        "`eventscope generate --config eventscope.toml --out .`:\n" + "\n".join(problems)
    )
