"""The Prometheus half of the generated set: rule files and runbooks.

Rendered from :mod:`eventscope.alerts` alone (alerts name their panels by declared id),
so a system without Grafana, or without grafana-foundation-sdk installed, still gets its
rules and runbooks byte for byte as the full ``generate`` writes them.
"""

from __future__ import annotations

from eventscope.alerts import all_alerts, runbooks, slo_rule_file, threshold_rule_file
from eventscope.config import Config
from eventscope.generate.documents import RUNBOOKS, SLO_RULES, THRESHOLD_RULES, yaml_bytes


def prometheus_files(config: Config) -> dict[str, bytes]:
    """Relative path → content for both rule files and every runbook page."""
    files = {
        THRESHOLD_RULES: yaml_bytes(threshold_rule_file(config), config),
        SLO_RULES: yaml_bytes(slo_rule_file(config), config),
    }
    for name, page in runbooks(all_alerts(config), config).items():
        files[f"{RUNBOOKS}/{name}.md"] = page.encode()
    return files
