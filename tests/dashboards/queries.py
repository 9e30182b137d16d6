"""Reading the generated dashboards back: every query, variable and datasource reference.

Also a small PromQL scanner that lists the metric names an expression selects, to be
compared with the catalog (a renamed metric must fail a test, not empty a panel).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from eventscope import catalog
from eventscope.alerts import recordings
from eventscope.config import Config

KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACES = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_IDENTIFIER = re.compile(r"(?<![\w:.$])([a-zA-Z_:][\w:]*)(\s*\()?")
_NAME_REGEX = re.compile(r'__name__\s*=~\s*"([^"]*)"')


def metric_names(expr: str) -> set[str]:
    """Metric (or recorded series) names an expression selects."""
    names = set()
    for alternatives in _NAME_REGEX.findall(expr):
        names.update(alternatives.split("|"))
    text = _STRING.sub('""', expr)
    text = _BRACES.sub("", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub("", text)
    for identifier, call in _IDENTIFIER.findall(text):
        if call or identifier.lower() in KEYWORDS:
            continue
        names.add(identifier)
    return names


def catalog_series() -> set[str]:
    """Every sample name the catalog's metrics export, histogram parts included."""
    names = set()
    for metric in catalog.METRICS:
        names.add(metric.series())
        if metric.kind is catalog.Kind.HISTOGRAM:
            names.update(metric.series(s) for s in ("_bucket", "_sum", "_count"))
    return names


def recorded_series(config: Config) -> set[str]:
    return {r.record for rules in recordings(config).values() for r in rules}


@dataclass(frozen=True)
class Target:
    dashboard: str
    panel: str
    expr: str
    legend: str


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def targets(dashboard: dict[str, Any]) -> Iterator[Target]:
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield Target(
                dashboard["uid"], panel["title"], target["expr"], target.get("legendFormat", "")
            )


def variable_queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(variable name, series selector, label) of every ``label_values`` variable."""
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = re.fullmatch(r"label_values\((.*), (\w+)\)", variable["query"])
        assert match, f"{dashboard['uid']}: ${variable['name']}: {variable['query']!r}"
        yield variable["name"], match.group(1), match.group(2)


GRAFANA_RANGES = {"$__rate_interval": "1m", "$__range": "1h", "$__interval": "1m"}


def substitute(expr: str, value: str = ".*", ranges: dict[str, str] | None = None) -> str:
    """``expr`` with Grafana's range variables and ``$variables`` replaced."""
    for name, replacement in (ranges or GRAFANA_RANGES).items():
        expr = expr.replace(name, replacement)
    return re.sub(r"\$\{?(\w+)\}?", value, expr)
