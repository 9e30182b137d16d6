"""Placing panels on Grafana's 24-column grid, under the ids declared for them.

The SDK can place panels itself, but it wraps only after a row is already past 24
columns (a 12-wide panel after a 16-wide one overflows), so this module computes every
``gridPos`` and hands the SDK explicit positions.  Ids are not computed: each panel is
placed under its :class:`~eventscope.monitoring.PanelId`, declared once in
:mod:`eventscope.monitoring.panel_ids`, which alert rules link to without building
anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models.dashboard import Dashboard, GridPos, Panel

from eventscope.monitoring import Kind, PanelId

GRID_WIDTH = 24


@dataclass
class Board:
    """A dashboard being laid out: rows of panels, left to right, top to bottom."""

    builder: builders.Dashboard
    kind: Kind
    placed: set[PanelId] = field(default_factory=set)
    _x: int = 0
    _y: int = 0
    _row_height: int = 0

    def _take(self, panel: PanelId) -> int:
        """Check that ``panel`` belongs here and is placed once; return its id."""
        if panel.dashboard is not self.kind:
            raise ValueError(f"panel {panel!r} belongs to {panel.dashboard}, not {self.kind}")
        if panel in self.placed:
            raise ValueError(f"panel {panel!r} placed twice")
        self.placed.add(panel)
        return panel.id

    def row(self, panel: PanelId, title: str) -> None:
        """Start a new (expanded) row; its panels follow it on the grid."""
        self._y += self._row_height
        self._x = self._row_height = 0
        row = (
            builders.Row(title)
            .id(self._take(panel))
            .grid_pos(GridPos(h=1, w=GRID_WIDTH, x=0, y=self._y))
        )
        self.builder.with_row(row)
        self._y += 1

    def add(self, panel: PanelId, built: Builder[Panel], width: int, height: int = 8) -> None:
        """Place ``built`` as ``panel``, ``width`` of 24 columns wide."""
        if not 0 < width <= GRID_WIDTH:
            raise ValueError(f"panel {panel!r}: width {width} outside 1..{GRID_WIDTH}")
        if self._x + width > GRID_WIDTH:
            self._y += self._row_height
            self._x = self._row_height = 0
        built.id(self._take(panel)).grid_pos(GridPos(h=height, w=width, x=self._x, y=self._y))
        self.builder.with_panel(built)
        self._x += width
        self._row_height = max(self._row_height, height)

    def build(self) -> Dashboard:
        return self.builder.build()
