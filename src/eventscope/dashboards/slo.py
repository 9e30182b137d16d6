"""The SLO dashboard: each objective, the error budget left, and how fast it burns.

Everything here reads the SLO recording rules (the alert rule file must be loaded in
Prometheus): burn rates over one to three days of raw samples would be too slow to
draw on every refresh.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from eventscope import catalog
from eventscope.dashboards import signals
from eventscope.dashboards.boards import GeneratedDashboard, finish, link_to, new_board
from eventscope.dashboards.config import Config
from eventscope.dashboards.links import Kind
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
from eventscope.dashboards.promql import DESTINATION, GROUP, Scope, number
from eventscope.dashboards.variables import panel_scope

LEGEND = f"{show(DESTINATION)} / {show(GROUP)}"


@dataclass(frozen=True)
class Objective:
    key: str
    title: str
    promise: str
    budget: float
    recorded: Callable[[str], str]


def objectives(config: Config) -> tuple[Objective, Objective]:
    slo = config.slo
    return (
        Objective(
            "errors",
            "Errors",
            f"{100 - slo.error_ratio * 100:g} % of messages handled without error or "
            f"dead-letter, over {slo.window}",
            slo.error_ratio,
            signals.slo_errors,
        ),
        Objective(
            "latency",
            "End-to-end latency",
            f"{slo.latency_percentile:g} % of messages processed within "
            f"{slo.latency_seconds:g} s of publishing, over {slo.window}",
            slo.latency_budget,
            signals.slo_latency,
        ),
    )


def _recorded(objective: Objective, window: str, scope: Scope) -> str:
    return signals.recorded(objective.recorded(window), scope, signals.FLOW)


def slo_dashboard(config: Config) -> GeneratedDashboard:
    scope = panel_scope(config, with_service=False)
    window = config.slo.window
    board = new_board(
        config,
        Kind.SLO,
        "Service level objectives per consumer group: the objective, the error budget "
        "left in the SLO window and the multi-window burn rates the alerts use.",
        (catalog.PROCESS_OUTCOMES,),
        with_service=False,
    )
    for objective in objectives(config):
        budget = number(objective.budget)
        period = _recorded(objective, window, scope)
        board.row(f"{objective.title}: {objective.promise}")
        board.add(
            f"slo.{objective.key}.objective",
            single_stat(
                "Objective",
                f"The promise: {objective.promise} (set in the eventscope configuration).",
                Query(f"vector({number(1 - objective.budget)})"),
                RATIO,
                decimals=3,
            ),
            width=6,
            height=5,
        )
        board.add(
            f"slo.{objective.key}.sli",
            single_stat(
                f"Achieved over {window}",
                f"Share of good messages over the SLO window ({window}), averaged from "
                "the 5-minute SLI; red below the objective.",
                Query(f"1 - ({period})", LEGEND),
                RATIO,
                steps((1 - objective.budget, GREEN), base=RED),
                decimals=3,
            ),
            width=6,
            height=5,
        )
        board.add(
            f"slo.{objective.key}.budget",
            single_stat(
                "Error budget remaining",
                f"Share of the {window} error budget ({objective.budget:.3%} of messages) "
                "not spent yet; below zero the objective is missed.",
                Query(f"1 - ({period}) / {budget}", LEGEND),
                RATIO,
                steps((0, YELLOW), (0.25, GREEN), base=RED),
                decimals=1,
            ),
            width=6,
            height=5,
        )
        fastest = signals.BURN_WINDOWS[0]
        board.add(
            f"slo.{objective.key}.burn_now",
            single_stat(
                f"Burn rate ({fastest.long})",
                "How many times faster than sustainable the budget burns over the last "
                f"{fastest.long}; 1 spends exactly the budget in {window}.",
                Query(f"{_recorded(objective, fastest.long, scope)} / {budget}", LEGEND),
                NONE,
                steps((1, YELLOW), (fastest.factor, RED)),
                decimals=2,
            ),
            width=6,
            height=5,
        )
        board.add(
            f"slo.{objective.key}.burn",
            time_series(
                "Burn rate by window",
                "Burn rate over each alert window. An alert fires when a long window and "
                "its short window both exceed the factor: "
                + "; ".join(
                    f"{b.long} and {b.short} above {b.factor:g}x ({b.severity})"
                    for b in signals.BURN_WINDOWS
                )
                + ".",
                [
                    Query(
                        f"{_recorded(objective, b.long, scope)} / {budget}",
                        f"{LEGEND} ({b.long})",
                    )
                    for b in signals.BURN_WINDOWS
                ],
                NONE,
                steps(
                    *sorted(
                        {
                            (b.factor, RED if b.severity == "critical" else YELLOW)
                            for b in signals.BURN_WINDOWS
                        }
                    )
                ),
                links=[link_to(config, Kind.OVERVIEW)],
            ),
            width=12,
        )
        board.add(
            f"slo.{objective.key}.budget_trend",
            time_series(
                "Error budget remaining",
                f"Share of the {window} error budget left, per consumer group.",
                [Query(f"1 - ({period}) / {budget}", LEGEND)],
                RATIO,
                steps((0, YELLOW), (0.25, GREEN), base=RED),
                minimum=None,
            ),
            width=12,
        )
    return finish(config, Kind.SLO, board)
