"""The same alerts as Grafana-managed rules, in Grafana's file-provisioning format.

Each rule is built with the SDK's alerting builders: query ``A`` is the Prometheus
rule's expression (an instant query), and condition ``B`` fires for every series ``A``
returns, which is exactly how Prometheus treats an alerting expression (a Math
expression true for any number, NaN or infinity).  Thresholds therefore stay in the
PromQL, identical to the Prometheus rule file.

Two pitfalls handled here: the SDK serialises rules in the HTTP API's shape
(``folderUID``, ``orgID``, ``ruleGroup``), which file provisioning does not use (it has
``folder`` and ``orgId`` on the group); and in Grafana templates ``$value`` of a
multi-query rule is a summary string, so annotations read ``$values.A.Value``.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from grafana_foundation_sdk.builders import alerting, expr, prometheus
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.alerting import RelativeTimeRange

from eventscope.alerts.definitions import burn_rate_alerts, threshold_alerts
from eventscope.alerts.model import Alert
from eventscope.alerts.prometheus import alert_labels, annotations
from eventscope.config import Config, scaled_duration
from eventscope.monitoring.links import uid as dashboard_uid

EXPRESSION_DATASOURCE = "__expr__"
ANY_SERIES = "is_number($A) || is_nan($A) || is_inf($A)"
QUERY_RANGE_SECONDS = 600
EVALUATION_INTERVAL = "1m"
_API_ONLY = ("folderUID", "orgID", "ruleGroup")
_MAX_UID = 40


def rule_uid(config: Config, alert: Alert) -> str:
    """Readable when it fits Grafana's 40 characters, a stable hash when not."""
    slug = re.sub(r"(?<!^)(?=[A-Z])", "-", alert.name.removeprefix("Eventscope")).lower()
    readable = "-".join([config.name, slug, *alert.labels.values()])
    if len(readable) <= _MAX_UID:
        return readable
    digest = hashlib.sha256(readable.encode()).hexdigest()[: _MAX_UID - len(config.name) - 1]
    return f"{config.name}-{digest}"


def title(alert: Alert) -> str:
    """Rule titles are unique in a folder: burn-rate rules add their windows."""
    windows = "/".join(alert.labels.values())
    return f"{alert.name} ({windows})" if windows else alert.name


def _grafana_templates(text: str) -> str:
    return text.replace("{{ $value |", "{{ $values.A.Value |")


def _rule(alert: Alert, config: Config, group: str) -> dict[str, Any]:
    notes = {k: _grafana_templates(v) for k, v in annotations(alert, config).items()}
    query = (
        alerting.Query("A")
        .datasource_uid(config.grafana.datasource_uid)
        .relative_time_range(RelativeTimeRange(from_val=QUERY_RANGE_SECONDS, to=0))
        .model(prometheus.Dataquery().expr(alert.expr).instant().ref_id("A"))
    )
    condition = (
        alerting.Query("B")
        .datasource_uid(EXPRESSION_DATASOURCE)
        .model(expr.TypeMath().expression(ANY_SERIES).ref_id("B"))
    )
    built = (
        alerting.Rule(title(alert))
        .uid(rule_uid(config, alert))
        .rule_group(group)
        .condition("B")
        .queries([query, condition])
        .for_val(scaled_duration(alert.for_, config.time_scale))
        .labels(alert_labels(alert, config))
        .annotations(notes)
        .no_data_state("OK")
        .exec_err_state("Error")
        .is_paused(False)
        .build()
    )
    rule: dict[str, Any] = json.loads(json.dumps(built, cls=JSONEncoder))
    for key in _API_ONLY:
        rule.pop(key, None)
    rule["dashboardUid"] = dashboard_uid(config, alert.dashboard)
    rule["panelId"] = alert.panel.id
    return rule


def grafana_alert_provisioning(config: Config) -> dict[str, Any]:
    """A provisioning file (``provisioning/alerting``) with both rule groups."""
    groups = []
    for name, alerts in (
        (f"{config.name}-alerts", threshold_alerts(config)),
        (f"{config.name}-slo-alerts", burn_rate_alerts(config)),
    ):
        groups.append(
            {
                "orgId": 1,
                "name": name,
                "folder": config.grafana.folder,
                "interval": EVALUATION_INTERVAL,
                "rules": [_rule(a, config, name) for a in alerts],
            }
        )
    return {"apiVersion": 1, "groups": groups}
