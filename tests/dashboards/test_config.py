"""The configuration file: defaults, where it is found, and errors that name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventscope.cli import main
from eventscope.config import Config, load_config
from eventscope.errors import UsageError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_no_file_means_every_default(tmp_path: Path) -> None:
    assert load_config(directory=tmp_path) == Config()


def test_eventscope_toml_is_found_and_read(tmp_path: Path) -> None:
    write(
        tmp_path,
        "eventscope.toml",
        'services = ["billing-svc"]\n[slo]\nwindow = "30d"\nlatency_seconds = 1.0\n'
        "[thresholds]\nlag_messages = 10\n",
    )
    config = load_config(directory=tmp_path)
    assert config.services == ("billing-svc",)
    assert config.slo.window == "30d"
    assert config.slo.latency_seconds == 1.0
    assert config.thresholds.lag_messages == 10
    assert config.thresholds.lag_seconds == Config().thresholds.lag_seconds


def test_pyproject_tool_table_is_read(tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        '[project]\nname = "x"\n[tool.eventscope]\nname = "shop"\nconsumer_groups = ["a"]\n',
    )
    config = load_config(directory=tmp_path)
    assert (config.name, config.consumer_groups) == ("shop", ("a",))


def test_pyproject_without_the_table_gives_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')
    assert load_config(path).slo == Config().slo


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("[thresholds]\nlag_messages = -1\n", "thresholds.lag_messages", "≥ 0"),
        ('[thresholds]\nlag_seconds = "a lot"\n', "thresholds.lag_seconds", "must be a number"),
        ("[thresholds]\nerror_ratio = 2\n", "thresholds.error_ratio", "between 0 and 1"),
        ('[thresholds]\nstalled_after = "soon"\n', "thresholds.stalled_after", "duration"),
        ("[slo]\nlatency_seconds = 3.0\n", "slo.latency_seconds", "slo.latency_buckets"),
        ("[slo]\nlatency_buckets = [1, 0.5]\n", "slo.latency_buckets", "strictly increasing"),
        ("[slo]\nlatency_buckets = []\n", "slo.latency_buckets", "positive numbers"),
        ("[slo]\nlatency_buckets = [1, 2]\nlatency_seconds = 3\n", "slo.latency_seconds", "1, 2"),
        ("lag_targets = [1]\n", "lag_targets", "list of non-empty strings"),
        ("[slo]\nlatency_percentile = 100\n", "slo.latency_percentile", "strictly between"),
        ('[slo]\nwindow = "1d"\n', "slo.window", "at least"),
        ("[slo]\nobjective = 1\n", "slo.objective", "unknown key"),
        ('services = "billing"\n', "services", "list of non-empty strings"),
        ('name = "Has Spaces"\n', "name", "does not match"),
        ('[alert_labels]\nseverity = "page"\n', "alert_labels.severity", "set by the generator"),
        ("grafana = 3\n", "grafana", "must be a table"),
        ("lag = 1\n", "lag", "unknown key"),
        ("time_scale = 0\n", "time_scale", "above 0"),
        ("time_scale = 2\n", "time_scale", "between 0 and 1"),
    ],
)
def test_bad_values_name_the_file_and_the_key(
    tmp_path: Path, text: str, key: str, problem: str
) -> None:
    path = write(tmp_path, "eventscope.toml", text)
    with pytest.raises(UsageError) as error:
        load_config(path)
    message = str(error.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert problem in message


def test_pyproject_errors_give_the_tool_path(tmp_path: Path) -> None:
    path = write(tmp_path, "pyproject.toml", "[tool.eventscope.slo]\nerror_ratio = 0\n")
    with pytest.raises(UsageError, match=r"pyproject.toml: tool\.eventscope\.slo\.error_ratio"):
        load_config(path)


def test_broken_toml_and_missing_file_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"not valid TOML.*line 1"):
        load_config(write(tmp_path, "eventscope.toml", "name = \n"))
    with pytest.raises(UsageError, match="no such file"):
        load_config(tmp_path / "absent.toml")


def test_the_command_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "eventscope.toml", "[thresholds]\np99_processing_seconds = -2\n")
    code = main(["generate", "--config", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == (
        f"eventscope generate: {path}: thresholds.p99_processing_seconds: must be ≥ 0, not -2"
    )
    assert not (tmp_path / "out").exists()


def test_time_scale_shortens_every_for_and_window_but_no_recorded_name(tmp_path: Path) -> None:
    """A test stack's rules fire in seconds; production's (scale 1) keep ``5m`` and ``1h``."""
    from eventscope.alerts import all_alerts, recordings
    from eventscope.alerts.prometheus import slo_rule_file, threshold_rule_file

    normal = load_config(write(tmp_path, "eventscope.toml", 'name = "x"\n'))
    fast = load_config(write(tmp_path, "eventscope.toml", 'name = "x"\ntime_scale = 0.01\n'))
    assert fast.time_scale == 0.01
    expected = (
        (normal, {"[5m]", "[1h]", "[3d]"}, {"10m", "2m", "3h"}),
        (fast, {"[3s]", "[36s]", "[2592s]"}, {"6s", "1s", "108s"}),
    )
    for config, windows, fors in expected:
        files = (threshold_rule_file(config), slo_rule_file(config))
        rules = [r for f in files for g in f["groups"] for r in g["rules"]]
        text = "\n".join(r["expr"] for r in rules)
        assert all(w in text for w in windows), (windows, text)
        assert fors <= {r["for"] for r in rules if "for" in r}
    names = [[r.record for rs in recordings(c).values() for r in rs] for c in (normal, fast)]
    assert names[0] == names[1]
    assert "[5m]" not in "\n".join(a.expr for a in all_alerts(fast))
