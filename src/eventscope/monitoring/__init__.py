"""The monitoring core both renderers share: queries, recorded series, windows, links, ids.

``dashboards`` (Grafana JSON) and ``alerts`` (Prometheus and Grafana rules, runbooks)
are siblings that never import each other; whatever a panel and the alert that links to
it must agree on lives here: the PromQL (:mod:`~eventscope.monitoring.signals`, written
from the catalog by :mod:`~eventscope.monitoring.promql`), the recording-rule names, the
SLO burn windows, the dashboard uids and URLs, and the declared panel ids.  Nothing here
needs grafana-foundation-sdk.
"""

from eventscope.monitoring import signals
from eventscope.monitoring.burn_windows import BURN_WINDOWS, SLO_WINDOWS, BurnWindow
from eventscope.monitoring.links import TITLES, Kind, dashboard_url, runbook_url
from eventscope.monitoring.panel_ids import (
    DASHBOARD_OF,
    DeadLetterPanel,
    LagPanel,
    OverviewPanel,
    PanelId,
    SloPanel,
)
from eventscope.monitoring.promql import Scope, config_scope
from eventscope.monitoring.recording import (
    RecordedNames,
    Recording,
    alerting_recordings,
    recorded,
    slo_recordings,
)

__all__ = [
    "BURN_WINDOWS",
    "DASHBOARD_OF",
    "SLO_WINDOWS",
    "TITLES",
    "BurnWindow",
    "DeadLetterPanel",
    "Kind",
    "LagPanel",
    "OverviewPanel",
    "PanelId",
    "RecordedNames",
    "Recording",
    "Scope",
    "SloPanel",
    "alerting_recordings",
    "config_scope",
    "dashboard_url",
    "recorded",
    "runbook_url",
    "signals",
    "slo_recordings",
]
