"""Everything ``eventscope generate`` writes, as file contents keyed by relative path.

Rendering is separate from writing so that the same bytes can be written, compared
with a committed copy (``--check``, the drift test) or fed to promtool.  This module
adds the Grafana half (dashboards, provisioning, Grafana-managed rules, all built with
grafana-foundation-sdk) to the Prometheus half of :mod:`eventscope.generate.prometheus`.
"""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from eventscope.alerts.grafana import grafana_alert_provisioning
from eventscope.config import Config
from eventscope.dashboards import build_dashboards, dashboard_provisioning, datasource_provisioning
from eventscope.generate.documents import DASHBOARDS, PROVISIONING, yaml_bytes
from eventscope.generate.prometheus import prometheus_files


def _json(document: Any) -> bytes:
    text = json.dumps(document, cls=JSONEncoder, sort_keys=True, indent=2, ensure_ascii=False)
    return (text + "\n").encode()


def grafana_files(config: Config) -> dict[str, bytes]:
    """Relative path → content for the dashboards and the three provisioning files."""
    files = {f"{DASHBOARDS}/{d.uid}.json": _json(d.model) for d in build_dashboards(config)}
    files[f"{PROVISIONING}/datasources.yaml"] = yaml_bytes(datasource_provisioning(config), config)
    files[f"{PROVISIONING}/dashboards.yaml"] = yaml_bytes(dashboard_provisioning(config), config)
    files[f"{PROVISIONING}/alerting.yaml"] = yaml_bytes(grafana_alert_provisioning(config), config)
    return files


def generated_files(config: Config) -> dict[str, bytes]:
    """Relative path → content for the whole generated set."""
    return dict(sorted({**grafana_files(config), **prometheus_files(config)}.items()))
