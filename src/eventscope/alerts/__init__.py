"""Prometheus alerting and recording rules, Grafana-managed rules and runbooks.

Every rule is written from the shared PromQL signals (themselves written from the
metric catalog) and links to the dashboard panel that shows its number and to its
runbook.  ``all_alerts(config)`` lists the rules; the ``*_file`` / ``*_provisioning``
functions return the documents the ``generate`` command writes.
"""

from eventscope.alerts.burn_rate import (
    ERROR_BUDGET_BURN,
    LATENCY_BUDGET_BURN,
    burn_rate_alerts,
)
from eventscope.alerts.grafana import grafana_alert_provisioning
from eventscope.alerts.model import Alert, Runbook
from eventscope.alerts.prometheus import (
    PanelIndex,
    all_alerts,
    recordings,
    slo_rule_file,
    threshold_rule_file,
)
from eventscope.alerts.rules import threshold_alerts
from eventscope.alerts.runbooks import runbooks

__all__ = [
    "ERROR_BUDGET_BURN",
    "LATENCY_BUDGET_BURN",
    "Alert",
    "PanelIndex",
    "Runbook",
    "all_alerts",
    "burn_rate_alerts",
    "grafana_alert_provisioning",
    "recordings",
    "runbooks",
    "slo_rule_file",
    "threshold_alerts",
    "threshold_rule_file",
]
