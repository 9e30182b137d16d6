"""Stable dashboard uids and the URLs that point into them.

Uids derive from the configured system name only, so regenerating never breaks a
bookmark, a panel link or an alert's dashboard link.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from urllib.parse import quote

from eventscope.config import Config


class Kind(StrEnum):
    """The generated dashboards."""

    OVERVIEW = "overview"
    LAG = "consumer-lag"
    DEAD_LETTER = "dead-letter"
    SLO = "slo"


TITLES = {
    Kind.OVERVIEW: "Overview",
    Kind.LAG: "Consumer lag",
    Kind.DEAD_LETTER: "Dead letters",
    Kind.SLO: "SLOs",
}


def uid(config: Config, kind: Kind) -> str:
    return f"{config.name}-{kind.value}"


def title(config: Config, kind: Kind) -> str:
    return f"{config.name} / {TITLES[kind]}"


def path(config: Config, kind: Kind) -> str:
    """The Grafana path of a dashboard (relative to the Grafana root)."""
    return f"/d/{uid(config, kind)}/{uid(config, kind)}"


def dashboard_url(
    config: Config,
    kind: Kind,
    panel_id: int | None = None,
    variables: Mapping[str, str] | None = None,
) -> str:
    """An absolute URL; variable values may be alert templates such as ``{{ $labels.x }}``."""
    params = []
    if panel_id is not None:
        params.append(f"viewPanel={panel_id}")
    for name, value in (variables or {}).items():
        params.append(f"var-{name}={value}")
    query = "?" + "&".join(params) if params else ""
    return f"{config.grafana.url}{path(config, kind)}{query}"


def runbook_url(config: Config, alert: str) -> str:
    return f"{config.runbook_url}/{quote(alert)}.md"
