"""The SLO dashboard: each objective, the error budget left, and how fast it burns.

Everything here reads the SLO recording rules (the alert rule file must be loaded in
Prometheus): burn rates over one to three days of raw samples would be too slow to
draw on every refresh.  Each objective is one row of the same panels, under the ids
declared for it in :class:`~eventscope.monitoring.SloPanel` (the burn-rate alerts link
to its burn panel).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eventscope import catalog
from eventscope.config import Config
from eventscope.dashboards.boards import GeneratedDashboard, finish, link_to, new_board
from eventscope.dashboards.layout import Board
from eventscope.dashboards.panels import (
    GREEN,
    NONE,
    RATIO,
    RED,
    YELLOW,
    Query,
    show,
    single_stat,
    steps,
    time_series,
)
from eventscope.dashboards.variables import panel_scope
from eventscope.monitoring import (
    BURN_WINDOWS,
    Kind,
    RecordedNames,
    SloPanel,
    recorded,
    signals,
)
from eventscope.monitoring.promql import DESTINATION, GROUP, Scope, number

LEGEND = f"{show(DESTINATION)} / {show(GROUP)}"


@dataclass(frozen=True)
class ObjectivePanels:
    """The ids of one objective's row and its six panels."""

    row: SloPanel
    objective: SloPanel
    sli: SloPanel
    budget: SloPanel
    burn_now: SloPanel
    burn: SloPanel
    budget_trend: SloPanel


ERRORS = ObjectivePanels(
    SloPanel.ERRORS_ROW,
    SloPanel.ERRORS_OBJECTIVE,
    SloPanel.ERRORS_SLI,
    SloPanel.ERRORS_BUDGET,
    SloPanel.ERRORS_BURN_NOW,
    SloPanel.ERRORS_BURN,
    SloPanel.ERRORS_BUDGET_TREND,
)
LATENCY = ObjectivePanels(
    SloPanel.LATENCY_ROW,
    SloPanel.LATENCY_OBJECTIVE,
    SloPanel.LATENCY_SLI,
    SloPanel.LATENCY_BUDGET,
    SloPanel.LATENCY_BURN_NOW,
    SloPanel.LATENCY_BURN,
    SloPanel.LATENCY_BUDGET_TREND,
)


@dataclass(frozen=True)
class Objective:
    panels: ObjectivePanels
    title: str
    promise: str
    budget: float
    recorded: Callable[[str], str]


def objectives(config: Config) -> tuple[Objective, Objective]:
    slo = config.slo
    names = RecordedNames(config.name)
    return (
        Objective(
            ERRORS,
            "Errors",
            f"{100 - slo.error_ratio * 100:g} % of messages handled without error or "
            f"dead-letter, over {slo.window}",
            slo.error_ratio,
            names.slo_errors,
        ),
        Objective(
            LATENCY,
            "End-to-end latency",
            f"{slo.latency_percentile:g} % of messages processed within "
            f"{slo.latency_seconds:g} s of publishing, over {slo.window}",
            slo.latency_budget,
            names.slo_latency,
        ),
    )


def slo_dashboard(config: Config) -> GeneratedDashboard:
    scope = panel_scope(config, with_service=False)
    board = new_board(
        config,
        Kind.SLO,
        "Service level objectives per consumer group: the objective, the error budget "
        "left in the SLO window and the multi-window burn rates the alerts use.",
        (catalog.PROCESS_OUTCOMES,),
        with_service=False,
    )
    for objective in objectives(config):
        board.row(objective.panels.row, f"{objective.title}: {objective.promise}")
        _status(board, objective, config.slo.window, scope)
        _trends(board, objective, config, scope)
    return finish(config, board)


def _recorded(objective: Objective, window: str, scope: Scope) -> str:
    return recorded(objective.recorded(window), scope, signals.FLOW)


def _status(board: Board, objective: Objective, window: str, scope: Scope) -> None:
    """Four numbers: the objective, what was achieved, budget left, burn rate now."""
    ids = objective.panels
    budget = number(objective.budget)
    period = _recorded(objective, window, scope)
    fastest = BURN_WINDOWS[0]
    for panel, built in (
        (
            ids.objective,
            single_stat(
                "Objective",
                f"The promise: {objective.promise} (set in the eventscope configuration).",
                Query(f"vector({number(1 - objective.budget)})"),
                RATIO,
                decimals=3,
            ),
        ),
        (
            ids.sli,
            single_stat(
                f"Achieved over {window}",
                f"Share of good messages over the SLO window ({window}), averaged from "
                "the 5-minute SLI; red below the objective.",
                Query(f"1 - ({period})", LEGEND),
                RATIO,
                steps((1 - objective.budget, GREEN), base=RED),
                decimals=3,
            ),
        ),
        (
            ids.budget,
            single_stat(
                "Error budget remaining",
                f"Share of the {window} error budget ({objective.budget:.3%} of messages) "
                "not spent yet; below zero the objective is missed.",
                Query(f"1 - ({period}) / {budget}", LEGEND),
                RATIO,
                steps((0, YELLOW), (0.25, GREEN), base=RED),
                decimals=1,
            ),
        ),
        (
            ids.burn_now,
            single_stat(
                f"Burn rate ({fastest.long})",
                "How many times faster than sustainable the budget burns over the last "
                f"{fastest.long}; 1 spends exactly the budget in {window}.",
                Query(f"{_recorded(objective, fastest.long, scope)} / {budget}", LEGEND),
                NONE,
                steps((1, YELLOW), (fastest.factor, RED)),
                decimals=2,
            ),
        ),
    ):
        board.add(panel, built, width=6, height=5)


def _trends(board: Board, objective: Objective, config: Config, scope: Scope) -> None:
    """Burn rate over every alert window, and the budget left over time."""
    window = config.slo.window
    budget = number(objective.budget)
    board.add(
        objective.panels.burn,
        time_series(
            "Burn rate by window",
            "Burn rate over each alert window. An alert fires when a long window and "
            "its short window both exceed the factor: "
            + "; ".join(
                f"{b.long} and {b.short} above {b.factor:g}x ({b.severity})" for b in BURN_WINDOWS
            )
            + ".",
            [
                Query(f"{_recorded(objective, b.long, scope)} / {budget}", f"{LEGEND} ({b.long})")
                for b in BURN_WINDOWS
            ],
            NONE,
            steps(
                *sorted(
                    {(b.factor, RED if b.severity == "critical" else YELLOW) for b in BURN_WINDOWS}
                )
            ),
            links=[link_to(config, Kind.OVERVIEW)],
        ),
        width=12,
    )
    board.add(
        objective.panels.budget_trend,
        time_series(
            "Error budget remaining",
            f"Share of the {window} error budget left, per consumer group.",
            [Query(f"1 - ({_recorded(objective, window, scope)}) / {budget}", LEGEND)],
            RATIO,
            steps((0, YELLOW), (0.25, GREEN), base=RED),
            minimum=None,
        ),
        width=12,
    )
