"""Panel factories: one place that decides how a time series, a stat and a table look.

Every panel and every query reads from the ``$datasource`` template variable, so a
dashboard works against whichever Prometheus the viewer picks.  Thresholds are the
alert thresholds from the configuration, so the red line on a panel is where its
alert fires.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import common, units
from grafana_foundation_sdk.models.dashboard import (
    DashboardLinkType,
    DataSourceRef,
    Panel,
    Threshold,
    ThresholdsMode,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

DATASOURCE_VARIABLE = "datasource"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${" + DATASOURCE_VARIABLE + "}")

MESSAGES_PER_SECOND = "suffix: msg/s"
SECONDS = units.Seconds
COUNT = units.Short
RATIO = units.PercentUnit
NONE = "none"

GREEN = "green"
YELLOW = "yellow"
RED = "red"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False


@dataclass(frozen=True)
class Link:
    """A panel link to another generated dashboard (keeps time range and variables)."""

    title: str
    url: str


def show(label: str) -> str:
    """A legend placeholder for one label's value."""
    return "{{" + label + "}}"


def steps(*levels: tuple[float, str], base: str = GREEN) -> list[Threshold]:
    """Absolute threshold steps: ``base`` below the first level."""
    return [Threshold(value=None, color=base), *(Threshold(value=v, color=c) for v, c in levels)]


def _targets(queries: Sequence[Query]) -> list[prometheus.Dataquery]:
    targets = []
    for index, query in enumerate(queries):
        target = (
            prometheus.Dataquery()
            .expr(query.expr)
            .ref_id(chr(ord("A") + index))
            .datasource(DATASOURCE)
            .legend_format(query.legend or "__auto")
        )
        targets.append(
            target.instant().format(PromQueryFormat.TABLE) if query.instant else target.range()
        )
    return targets


def _links(links: Sequence[Link]) -> list[dashboard_builders.DashboardLink]:
    return [
        dashboard_builders.DashboardLink(link.title)
        .type(DashboardLinkType.LINK)
        .url(link.url)
        .keep_time(True)
        .include_vars(True)
        .target_blank(False)
        for link in links
    ]


def _thresholds(levels: list[Threshold]) -> dashboard_builders.ThresholdsConfig:
    return dashboard_builders.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(levels)


def time_series(
    title: str,
    description: str,
    queries: Sequence[Query],
    unit: str,
    thresholds: list[Threshold] | None = None,
    *,
    stacked: bool = False,
    links: Sequence[Link] = (),
    minimum: float | None = 0,
) -> Builder[Panel]:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries))
        .unit(unit)
        .fill_opacity(10)
        .legend(
            common_builders.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.TABLE)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
            .calcs(["mean", "max", "lastNotNull"])
        )
    )
    if minimum is not None:
        panel = panel.min(minimum)
    if stacked:
        panel = panel.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
    if thresholds is not None:
        panel = panel.thresholds(_thresholds(thresholds)).thresholds_style(
            common_builders.GraphThresholdsStyleConfig().mode(
                common.GraphThresholdsStyleMode.DASHED
            )
        )
    if links:
        panel = panel.links(_links(links))
    return panel


def single_stat(
    title: str,
    description: str,
    query: Query,
    unit: str,
    thresholds: list[Threshold] | None = None,
    *,
    links: Sequence[Link] = (),
    decimals: int | None = None,
) -> Builder[Panel]:
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets([query]))
        .unit(unit)
        .graph_mode(common.BigValueGraphMode.AREA)
        .color_mode(common.BigValueColorMode.VALUE)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .thresholds(_thresholds(thresholds or steps()))
    )
    if decimals is not None:
        panel = panel.decimals(decimals)
    if links:
        panel = panel.links(_links(links))
    return panel


def instant_table(
    title: str, description: str, query: Query, unit: str, *, links: Sequence[Link] = ()
) -> Builder[Panel]:
    panel = (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets([query]))
        .unit(unit)
        .show_header(True)
        .no_value("none")
    )
    if links:
        panel = panel.links(_links(links))
    return panel
