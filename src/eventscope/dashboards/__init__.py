"""Grafana dashboards and provisioning files, written from the metric catalog.

``build_dashboards(config)`` returns the overview, consumer-lag, dead-letter and SLO
dashboards (grafana-foundation-sdk models with stable uids and the panel ids declared
in :mod:`eventscope.monitoring.panel_ids`).  The PromQL they draw comes from
:mod:`eventscope.monitoring`, which the alert rules share; this package never imports
:mod:`eventscope.alerts`.  ``Config``, ``load_config``, ``Kind``, ``dashboard_url`` and
``runbook_url`` are re-exported from their homes (:mod:`eventscope.config`,
:mod:`eventscope.monitoring`) for code written against the earlier layout.
"""

from eventscope.config import Config, Grafana, Slo, Thresholds, load_config
from eventscope.dashboards.boards import GeneratedDashboard
from eventscope.dashboards.dead_letter import dead_letter
from eventscope.dashboards.lag import consumer_lag
from eventscope.dashboards.overview import overview
from eventscope.dashboards.provisioning import dashboard_provisioning, datasource_provisioning
from eventscope.dashboards.slo import slo_dashboard
from eventscope.monitoring import Kind, dashboard_url, runbook_url


def build_dashboards(config: Config) -> list[GeneratedDashboard]:
    """Every generated dashboard, in a fixed order."""
    return [overview(config), consumer_lag(config), dead_letter(config), slo_dashboard(config)]


__all__ = [
    "Config",
    "GeneratedDashboard",
    "Grafana",
    "Kind",
    "Slo",
    "Thresholds",
    "build_dashboards",
    "dashboard_provisioning",
    "dashboard_url",
    "datasource_provisioning",
    "load_config",
    "runbook_url",
]
