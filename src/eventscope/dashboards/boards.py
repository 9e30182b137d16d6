"""What every generated dashboard shares: uid, title, tags, links, variables, time."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.models.dashboard import (
    Dashboard,
    DashboardCursorSync,
    DashboardLinkType,
    DataSourceRef,
)

from eventscope.catalog import Metric
from eventscope.config import Config
from eventscope.dashboards.layout import Board
from eventscope.dashboards.panels import Link
from eventscope.dashboards.variables import template_variables
from eventscope.monitoring import links
from eventscope.monitoring.links import Kind

TAG = "eventscope"


@dataclass(frozen=True)
class GeneratedDashboard:
    """One built dashboard (its panel ids are the ones declared for ``kind``)."""

    kind: Kind
    uid: str
    model: Dashboard


def new_board(
    config: Config, kind: Kind, description: str, source: Sequence[Metric], with_service: bool
) -> Board:
    builder = (
        builders.Dashboard(links.title(config, kind))
        .uid(links.uid(config, kind))
        .description(description)
        .tags(sorted({TAG, config.name}))
        .editable()
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .time("now-3h", "now")
        .refresh("30s")
        .timezone("browser")
        .link(
            builders.DashboardLink("eventscope dashboards")
            .type(DashboardLinkType.DASHBOARDS)
            .tags([config.name])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
        .variables(template_variables(config, source, with_service))
        .annotation(
            builders.AnnotationQuery()
            .name("Annotations & Alerts")
            .type("dashboard")
            .built_in(1)
            .datasource(DataSourceRef(type_val="grafana", uid="-- Grafana --"))
            .enable(True)
            .hide(True)
            .icon_color("rgba(0, 211, 255, 1)")
        )
    )
    return Board(builder, kind)


def link_to(config: Config, kind: Kind) -> Link:
    return Link(f"{links.TITLES[kind]} dashboard", links.path(config, kind))


def above(threshold: float) -> float:
    """The first value Grafana should colour as past ``threshold`` (> 0 when it is 0)."""
    return threshold if threshold > 0 else math.ulp(0.0)


def finish(config: Config, board: Board) -> GeneratedDashboard:
    return GeneratedDashboard(board.kind, links.uid(config, board.kind), board.build())
