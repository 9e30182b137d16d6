"""An alert rule as eventscope writes it once and renders three ways.

The same :class:`Alert` becomes a Prometheus alerting rule, a Grafana-managed rule and
a runbook page, so the three never disagree on the expression, the threshold or the
words.  ``signals`` are the value expressions the rule compares: the fidelity test runs
them against a real instrumented run, where a comparison alone would say nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from eventscope.monitoring import Kind, PanelId

CRITICAL = "critical"
WARNING = "warning"


def label(name: str) -> str:
    """A Prometheus/Grafana template reading one label of the alert."""
    return "{{ $labels." + name + " }}"


def value(fmt: str) -> str:
    """A template printing the alert's value with a printf format such as ``%.3g``."""
    return '{{ $value | printf "' + fmt + '" }}'


@dataclass(frozen=True)
class Runbook:
    """What an on-call engineer needs, in the order they need it."""

    meaning: str
    impact: str
    investigate: tuple[str, ...]
    remedies: tuple[str, ...]


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: str
    summary: str
    description: str
    panel: PanelId
    """The panel the dashboard link opens: the one that shows the alert's number."""
    signals: tuple[str, ...]
    runbook: Runbook
    link_variables: Mapping[str, str] = field(default_factory=dict)
    """Dashboard variable → alert label, so the link opens on the offending group."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels besides ``severity`` (burn-rate windows) that tell rules of one name apart."""

    @property
    def dashboard(self) -> Kind:
        return self.panel.dashboard

    @property
    def key(self) -> str:
        """Unique among all rules: the name, plus the extra labels when there are any."""
        return "-".join([self.name, *self.labels.values()])
