"""Prometheus rule files: recording rules for every ratio and quantile, then the alerts.

Nothing here needs grafana-foundation-sdk: each alert names its panel by declared id,
so the files render without building (or being able to build) any dashboard.  Two
files, each a recording group followed by the alerts that read it: the threshold
alerts, and the SLO burn-rate alerts (whose recorded SLIs the SLO dashboard also reads).
Rule dictionaries keep Prometheus' own key names; the ``generate`` command dumps them to
YAML with sorted keys.
"""

from __future__ import annotations

from typing import Any

from eventscope.alerts.definitions import burn_rate_alerts, threshold_alerts
from eventscope.alerts.model import Alert
from eventscope.config import Config, scaled_duration
from eventscope.monitoring import (
    RecordedNames,
    Recording,
    alerting_recordings,
    config_scope,
    dashboard_url,
    runbook_url,
    slo_recordings,
)


def all_alerts(config: Config) -> list[Alert]:
    """Every alert rule, threshold alerts first, then the SLO burn-rate alerts."""
    return [*threshold_alerts(config), *burn_rate_alerts(config)]


def recordings(config: Config) -> dict[str, list[Recording]]:
    """Recording rules by group name."""
    scope = config_scope(config)
    names = RecordedNames(config.name)
    return {
        f"{config.name}-recording": alerting_recordings(names, scope),
        f"{config.name}-slo-recording": slo_recordings(
            names, scope, config.slo.latency_seconds, config.slo.window
        ),
    }


def annotations(alert: Alert, config: Config) -> dict[str, str]:
    """Summary, description and the two links every alert carries."""
    variables = {name: "{{ $labels." + lbl + " }}" for name, lbl in alert.link_variables.items()}
    return {
        "summary": alert.summary,
        "description": alert.description,
        "runbook_url": runbook_url(config, alert.name),
        "dashboard_url": dashboard_url(config, alert.dashboard, alert.panel.id, variables),
    }


def alert_labels(alert: Alert, config: Config) -> dict[str, str]:
    return {**config.alert_labels, **alert.labels, "severity": alert.severity}


def _rule(alert: Alert, config: Config) -> dict[str, Any]:
    return {
        "alert": alert.name,
        "expr": alert.expr,
        "for": scaled_duration(alert.for_, config.time_scale),
        "labels": alert_labels(alert, config),
        "annotations": annotations(alert, config),
    }


def _recording_group(name: str, rules: list[Recording]) -> dict[str, Any]:
    return {"name": name, "rules": [{"record": r.record, "expr": r.expr} for r in rules]}


def threshold_rule_file(config: Config) -> dict[str, Any]:
    """The recorded ratios and quantile, then the threshold alerts that compare them."""
    recorded = recordings(config)[f"{config.name}-recording"]
    return {
        "groups": [
            _recording_group(f"{config.name}-recording", recorded),
            {
                "name": f"{config.name}-alerts",
                "rules": [_rule(a, config) for a in threshold_alerts(config)],
            },
        ]
    }


def slo_rule_file(config: Config) -> dict[str, Any]:
    """The SLIs over every window (the SLO dashboard reads them), then burn-rate alerts."""
    recorded = recordings(config)[f"{config.name}-slo-recording"]
    return {
        "groups": [
            _recording_group(f"{config.name}-slo-recording", recorded),
            {
                "name": f"{config.name}-slo-alerts",
                "rules": [_rule(a, config) for a in burn_rate_alerts(config)],
            },
        ]
    }
