"""Placing panels on Grafana's 24-column grid, with ids that never change.

The SDK can place panels itself, but it wraps only after a row is already past 24
columns (a 12-wide panel after a 16-wide one overflows), so this module computes every
``gridPos`` and hands the SDK explicit positions.  Panel ids are given in order of
appearance, and each panel has a stable key so alert rules can link to it by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models.dashboard import Dashboard, GridPos, Panel

GRID_WIDTH = 24


@dataclass
class Board:
    """A dashboard being laid out: rows of panels, left to right, top to bottom."""

    builder: builders.Dashboard
    panel_ids: dict[str, int] = field(default_factory=dict)
    _next_id: int = 1
    _x: int = 0
    _y: int = 0
    _row_height: int = 0

    def _take_id(self) -> int:
        panel_id = self._next_id
        self._next_id += 1
        return panel_id

    def row(self, title: str) -> None:
        """Start a new (expanded) row; its panels follow it on the grid."""
        self._y += self._row_height
        self._x = self._row_height = 0
        row = (
            builders.Row(title)
            .id(self._take_id())
            .grid_pos(GridPos(h=1, w=GRID_WIDTH, x=0, y=self._y))
        )
        self.builder.with_row(row)
        self._y += 1

    def add(self, key: str, panel: Builder[Panel], width: int, height: int = 8) -> int:
        """Place ``panel`` (``width`` of 24 columns) and return its id."""
        if key in self.panel_ids:
            raise ValueError(f"panel key {key!r} used twice")
        if not 0 < width <= GRID_WIDTH:
            raise ValueError(f"panel {key!r}: width {width} outside 1..{GRID_WIDTH}")
        if self._x + width > GRID_WIDTH:
            self._y += self._row_height
            self._x = self._row_height = 0
        panel_id = self._take_id()
        panel.id(panel_id).grid_pos(GridPos(h=height, w=width, x=self._x, y=self._y))
        self.builder.with_panel(panel)
        self._x += width
        self._row_height = max(self._row_height, height)
        self.panel_ids[key] = panel_id
        return panel_id

    def build(self) -> Dashboard:
        return self.builder.build()
