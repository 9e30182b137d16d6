"""Grafana provisioning documents: the Prometheus data source and the dashboard provider.

They are plain data (dumped to YAML by the ``generate`` command): Grafana reads them
from ``provisioning/datasources`` and ``provisioning/dashboards`` at start-up.
"""

from __future__ import annotations

from typing import Any

from eventscope.config import Config
from eventscope.dashboards.variables import datasource_name


def datasource_provisioning(config: Config) -> dict[str, Any]:
    """The Prometheus data source every panel and Grafana-managed rule reads by uid."""
    return {
        "apiVersion": 1,
        "datasources": [
            {
                "name": datasource_name(config),
                "uid": config.grafana.datasource_uid,
                "type": "prometheus",
                "access": "proxy",
                "url": config.grafana.prometheus_url,
                "editable": False,
                "jsonData": {"httpMethod": "POST"},
            }
        ],
    }


def dashboard_provisioning(config: Config) -> dict[str, Any]:
    """A file provider reading the generated dashboard JSON into one folder."""
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": config.name,
                "orgId": 1,
                "folder": config.grafana.folder,
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {
                    "path": config.grafana.dashboards_path,
                    "foldersFromFilesStructure": False,
                },
            }
        ],
    }
