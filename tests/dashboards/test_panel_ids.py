"""Declared panel ids: unique per dashboard, all placed, and every alert's panel exists.

Ids come from :mod:`eventscope.monitoring.panel_ids`, not from the order panels are
built in; these tests hold the built dashboards to the declarations.
"""

from __future__ import annotations

from typing import Any

import pytest

from eventscope.alerts import all_alerts
from eventscope.config import Config
from eventscope.monitoring import DASHBOARD_OF, Kind, LagPanel, OverviewPanel, PanelId
from eventscope.monitoring.links import uid
from tests.dashboards.queries import panels


def _by_kind(config: Config, dashboards: list[dict[str, Any]]) -> dict[Kind, dict[str, Any]]:
    by_uid = {d["uid"]: d for d in dashboards}
    return {kind: by_uid[uid(config, kind)] for kind in Kind}


def test_every_dashboard_has_one_enumeration_of_unique_ids() -> None:
    assert sorted(DASHBOARD_OF.values()) == sorted(Kind)
    for enumeration in DASHBOARD_OF:
        ids = [member.id for member in enumeration]
        assert len(ids) == len(set(ids)), enumeration.__name__
        assert all(member.dashboard is DASHBOARD_OF[enumeration] for member in enumeration)


def test_built_dashboards_use_exactly_the_declared_ids(
    config: Config, dashboards: list[dict[str, Any]]
) -> None:
    built = _by_kind(config, dashboards)
    for enumeration, kind in DASHBOARD_OF.items():
        ids = sorted(p["id"] for p in panels(built[kind]))
        assert ids == sorted(member.id for member in enumeration), kind


def test_every_alert_links_to_a_panel_of_its_dashboard(
    config: Config, dashboards: list[dict[str, Any]]
) -> None:
    built = _by_kind(config, dashboards)
    for alert in all_alerts(config):
        assert isinstance(alert.panel, PanelId), alert.name
        assert alert.panel.dashboard is alert.dashboard
        ids = {p["id"]: p for p in panels(built[alert.dashboard])}
        panel = ids.get(alert.panel.id)
        assert panel is not None, f"{alert.name}: no panel {alert.panel!r}"
        assert panel["type"] != "row", f"{alert.name} links to a row"


def test_ids_of_different_dashboards_never_compare_equal() -> None:
    assert OverviewPanel.GLANCE_ROW.id == LagPanel.GLANCE_ROW.id
    assert OverviewPanel.GLANCE_ROW != LagPanel.GLANCE_ROW


def test_a_panel_of_another_dashboard_is_refused() -> None:
    from grafana_foundation_sdk.builders import dashboard as builders

    from eventscope.dashboards.layout import Board

    board = Board(builders.Dashboard("t"), Kind.OVERVIEW)
    with pytest.raises(ValueError, match="belongs to"):
        board.row(LagPanel.GLANCE_ROW, "wrong board")
    board.row(OverviewPanel.GLANCE_ROW, "right board")
    with pytest.raises(ValueError, match="twice"):
        board.row(OverviewPanel.GLANCE_ROW, "again")
