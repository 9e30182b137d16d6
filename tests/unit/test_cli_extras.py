"""Each command works with only its documented extra; ``--help`` works on a bare install.

Every command runs in a fresh interpreter where the libraries of the extras a user did
not install cannot be imported (a meta-path finder refuses them, as a missing package
would), so what passes here passes in a venv holding ``eventscope[<extra>]`` only.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = ROOT / "examples" / "contracts" / "schemas"

EXTRA_MODULES = {
    "schemas": {"fastavro", "jsonschema", "grpc_tools", "grpc", "google.protobuf"},
    "lag": {"yaml"},
    "dashboards": {"grafana_foundation_sdk", "yaml"},
    "contracts": {"pact", "fastavro", "jsonschema"},
    "otlp": {"opentelemetry.exporter"},
    "kafka": {"confluent_kafka", "aiokafka"},
    "rabbitmq": {"pika", "aio_pika"},
    "nats": {"nats"},
    "redis": {"redis"},
    "sqs": {"boto3"},
}
"""What each extra of pyproject.toml installs, as import names."""

_RUN = textwrap.dedent(
    """
    import importlib.abc, sys

    BLOCKED = set(sys.argv[1].split(",")) - {""}

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())
    from eventscope.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


def eventscope(*args: str, extras: tuple[str, ...] = (), cwd: Path = ROOT):
    """Run ``eventscope ARGS`` as if only ``eventscope[EXTRAS]`` were installed."""
    installed = set().union(*(EXTRA_MODULES[extra] for extra in extras))
    blocked = set().union(*EXTRA_MODULES.values()) - installed
    return subprocess.run(
        [sys.executable, "-c", _RUN, ",".join(sorted(blocked)), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_help_on_a_bare_install_lists_every_command():
    result = eventscope("--help")
    assert result.returncode == 0, result.stderr
    for command in ("demo", "schema", "registry", "lag", "generate"):
        assert f"    {command} " in result.stdout


@pytest.mark.parametrize("command", ["demo", "schema", "registry", "lag", "generate"])
def test_each_command_help_works_with_only_its_extra(command):
    extras = {"demo": (), "schema": ("schemas",), "registry": ("schemas",)}.get(
        command, (command if command != "generate" else "dashboards",)
    )
    result = eventscope(command, "--help", extras=extras)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: eventscope {command}")


def test_schema_check_dir_runs_with_only_the_schemas_extra():
    result = eventscope("schema", "check-dir", str(SCHEMAS_DIR), extras=("schemas",))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "orders-value" in result.stdout


def test_generate_runs_with_only_the_dashboards_extra(tmp_path):
    result = eventscope("generate", "--out", str(tmp_path), extras=("dashboards",), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "alerts" / "slo-rules.yaml").is_file()
    assert list((tmp_path / "dashboards").glob("*.json"))


def test_the_in_memory_demo_runs_on_a_bare_install():
    result = eventscope("demo", "--messages", "20", "--no-metrics-server", "--json")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (("generate", "--out", "out"), "dashboards"),
        (("schema", "check", "new.avsc", "--against", "old.avsc"), "schemas"),
        (("lag", "serve", "--config", "lag.yaml"), "lag"),
        (("lag", "--broker", "redis", "--url", "redis://127.0.0.1:1"), "redis"),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(tmp_path, args, extra):
    for name in ("new.avsc", "old.avsc"):
        (tmp_path / name).write_text('{"type": "string"}')
    installed = ("lag",) if args[0] == "lag" and extra != "lag" else ()
    result = eventscope(*args, extras=installed, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"pip install 'eventscope[{extra}]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "out").exists()


def test_schema_check_dir_without_the_extra_names_it_per_subject():
    result = eventscope("schema", "check-dir", str(SCHEMAS_DIR))
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert "pip install 'eventscope[schemas]'" in result.stdout
