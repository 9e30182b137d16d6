"""Prometheus alerting and recording rules, Grafana-managed rules and runbooks.

Every rule is written from the shared PromQL signals of :mod:`eventscope.monitoring`
and links to the panel that shows its number (by declared panel id) and to its runbook;
this package never imports :mod:`eventscope.dashboards`.  ``all_alerts(config)`` lists
the rules, one small definition each (:mod:`eventscope.alerts.definitions`); the
``*_file`` / ``*_provisioning`` functions return the documents the ``generate`` command
writes.

The Prometheus rule files and the runbooks need no grafana-foundation-sdk:
``grafana_alert_provisioning`` (built with grafana-foundation-sdk) is imported on first
use, so ``import eventscope.alerts`` works without the dashboards extra.
"""

from eventscope._lazy import lazy_names
from eventscope.alerts.definitions import (
    ERROR_BUDGET_BURN,
    LATENCY_BUDGET_BURN,
    burn_rate_alerts,
    threshold_alerts,
)
from eventscope.alerts.model import Alert, Runbook
from eventscope.alerts.prometheus import all_alerts, recordings, slo_rule_file, threshold_rule_file
from eventscope.alerts.runbooks import runbooks

__getattr__ = lazy_names(__name__, {"grafana_alert_provisioning": "eventscope.alerts.grafana"})


__all__ = [
    "ERROR_BUDGET_BURN",
    "LATENCY_BUDGET_BURN",
    "Alert",
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
