"""The Prometheus half renders without grafana-foundation-sdk, byte for byte.

Alerts name their panels by declared id, so nothing on the way from the configuration
to a rule file or a runbook may build a dashboard.  A subprocess makes every import of
``grafana_foundation_sdk`` fail before eventscope is imported, renders the rule files
and runbooks, and must produce exactly what the full ``generate`` writes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from eventscope.config import Config
from eventscope.generate import generated_files
from eventscope.generate.documents import ALERTS, RUNBOOKS
from tests.alerts.tools import EXAMPLE_CONFIG, REPO, example_config

RENDER_WITHOUT_SDK = """
import json, sys

sys.modules["grafana_foundation_sdk"] = None  # every import of the SDK now fails
try:
    import grafana_foundation_sdk.builders.dashboard
except ImportError:
    pass
else:
    raise SystemExit("the SDK blocker did not work")

from eventscope.config import Config, load_config
from eventscope.generate import prometheus_files

config = load_config(sys.argv[1]) if len(sys.argv) > 1 else Config()
files = prometheus_files(config)
loaded = sorted(m for m in sys.modules if m.startswith("eventscope.dashboards"))
json.dump({"files": {k: v.decode() for k, v in files.items()}, "dashboards": loaded}, sys.stdout)
"""


@pytest.mark.parametrize("name", ["defaults", "example"])
def test_rule_files_and_runbooks_render_without_the_sdk(name: str) -> None:
    args = [str(EXAMPLE_CONFIG)] if name == "example" else []
    config = example_config() if name == "example" else Config()
    result = subprocess.run(
        [sys.executable, "-c", RENDER_WITHOUT_SDK, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rendered = json.loads(result.stdout)
    assert rendered["dashboards"] == [], "rendering rules imported the dashboards package"
    without_sdk = {k: v.encode() for k, v in rendered["files"].items()}
    full = {
        k: v for k, v in generated_files(config).items() if k.split("/")[0] in (ALERTS, RUNBOOKS)
    }
    assert sorted(without_sdk) == sorted(full)
    assert without_sdk == full
