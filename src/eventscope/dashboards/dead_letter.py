"""The dead-letter dashboard: what gives up, why, and what is piling up.

One function per row; each places its panels under the ids declared in
:class:`~eventscope.monitoring.DeadLetterPanel` (the dead-letter alerts link to the
reasons and depth panels).
"""

from __future__ import annotations

from dataclasses import dataclass

from eventscope import catalog
from eventscope.catalog import Outcome
from eventscope.config import Config
from eventscope.dashboards.boards import GeneratedDashboard, above, finish, link_to, new_board
from eventscope.dashboards.layout import Board
from eventscope.dashboards.panels import (
    COUNT,
    MESSAGES_PER_SECOND,
    RATIO,
    RED,
    Query,
    instant_table,
    show,
    single_stat,
    steps,
    time_series,
)
from eventscope.dashboards.variables import panel_scope
from eventscope.monitoring import DeadLetterPanel, Kind, signals
from eventscope.monitoring.promql import DESTINATION, GROUP, REASON, SYSTEM, Scope

W = "$__rate_interval"
RANGE = "$__range"
FLOW_LEGEND = f"{show(DESTINATION)} / {show(GROUP)}"
BY_FLOW = (DESTINATION, GROUP)


@dataclass(frozen=True)
class _Context:
    """What every row reads: the configuration and the panel scope."""

    config: Config
    scope: Scope


def dead_letter(config: Config) -> GeneratedDashboard:
    board = new_board(
        config,
        Kind.DEAD_LETTER,
        "Messages routed to dead-letter destinations: how many, from which group, for "
        "which reason, and how many are still waiting there.",
        (catalog.CONSUMED_MESSAGES,),
        with_service=True,
    )
    context = _Context(config, panel_scope(config, with_service=True))
    for row in (_at_a_glance, _traffic, _before_giving_up):
        row(board, context)
    return finish(config, board)


def _at_a_glance(board: Board, c: _Context) -> None:
    t, scope = c.config.thresholds, c.scope
    final = signals.outcomes_rate(scope, W, [o for o in Outcome if o is not Outcome.RETRY], ())
    board.row(DeadLetterPanel.GLANCE_ROW, "At a glance")
    for panel, built in (
        (
            DeadLetterPanel.RATE_TOTAL,
            single_stat(
                "Dead-letter rate",
                "Messages per second routed to a dead-letter destination.",
                Query(signals.dead_letter_rate(scope, W, ())),
                MESSAGES_PER_SECOND,
                steps((above(t.dead_letter_rate), RED)),
            ),
        ),
        (
            DeadLetterPanel.IN_RANGE,
            single_stat(
                "Dead-lettered in range",
                "Messages dead-lettered during the dashboard's time range.",
                Query(signals.dead_letters_in(scope, RANGE, ())),
                COUNT,
                decimals=0,
            ),
        ),
        (
            DeadLetterPanel.SHARE,
            single_stat(
                "Dead-letter share",
                "Share of finally handled messages that ended in the dead-letter destination.",
                Query(
                    signals.ratio(signals.outcomes_rate(scope, W, [Outcome.DEAD_LETTER], ()), final)
                ),
                RATIO,
            ),
        ),
        (
            DeadLetterPanel.DEPTH_TOTAL,
            single_stat(
                "Waiting in dead-letter destinations",
                catalog.DEAD_LETTER_DEPTH.help,
                Query(signals.dead_letter_depth(scope, ())),
                COUNT,
                steps((above(t.dead_letter_depth), RED)),
            ),
        ),
    ):
        board.add(panel, built, width=6, height=4)


def _traffic(board: Board, c: _Context) -> None:
    t, scope = c.config.thresholds, c.scope
    board.row(DeadLetterPanel.TRAFFIC_ROW, "Dead-letter traffic")
    board.add(
        DeadLetterPanel.RATE,
        time_series(
            "Dead-lettered by destination and group",
            catalog.DEAD_LETTER_MESSAGES.help
            + f" Alert above {t.dead_letter_rate:g} messages per second.",
            [Query(signals.dead_letter_rate(scope, W, BY_FLOW), FLOW_LEGEND)],
            MESSAGES_PER_SECOND,
            steps((above(t.dead_letter_rate), RED)),
        ),
        width=12,
    )
    board.add(
        DeadLetterPanel.REASONS,
        time_series(
            "Dead-lettered by reason",
            "One line per group and reason; the dead-letter alert fires per reason above "
            f"{t.dead_letter_rate:g} messages per second. Reasons are cut to 64 characters; "
            "past 20 distinct reasons per consumer, new ones are reported as 'other'.",
            [
                Query(
                    signals.dead_letter_rate(scope, W, (*BY_FLOW, REASON)),
                    FLOW_LEGEND + f": {show(REASON)}",
                )
            ],
            MESSAGES_PER_SECOND,
            steps((above(t.dead_letter_rate), RED)),
        ),
        width=12,
    )
    board.add(
        DeadLetterPanel.DEPTH,
        time_series(
            "Dead-letter depth",
            catalog.DEAD_LETTER_DEPTH.help + f" Alert above {t.dead_letter_depth:g}.",
            [
                Query(
                    signals.dead_letter_depth(scope, (SYSTEM, DESTINATION)),
                    f"{show(DESTINATION)} ({show(SYSTEM)})",
                )
            ],
            COUNT,
            steps((above(t.dead_letter_depth), RED)),
        ),
        width=12,
    )
    board.add(
        DeadLetterPanel.TOP_REASONS,
        instant_table(
            "Top reasons in range",
            "Dead-lettered messages per reason during the dashboard's time range.",
            Query(signals.dead_letters_in(scope, RANGE, (*BY_FLOW, REASON)), instant=True),
            COUNT,
        ),
        width=12,
    )


def _before_giving_up(board: Board, c: _Context) -> None:
    scope = c.scope
    board.row(DeadLetterPanel.BEFORE_ROW, "Before giving up")
    board.add(
        DeadLetterPanel.RETRIES,
        time_series(
            "Retries",
            "Deliveries that failed and were retried; a rise here usually precedes "
            "dead-letter traffic.",
            [Query(signals.outcomes_rate(scope, W, [Outcome.RETRY], BY_FLOW), FLOW_LEGEND)],
            MESSAGES_PER_SECOND,
        ),
        width=12,
    )
    board.add(
        DeadLetterPanel.ERROR_RATIO,
        time_series(
            "Error ratio by group",
            "Share of messages ending in error or dead-letter, per consumer group.",
            [Query(signals.error_ratio(scope, W, BY_FLOW), FLOW_LEGEND)],
            RATIO,
            steps((above(c.config.thresholds.error_ratio), RED)),
            links=[link_to(c.config, Kind.OVERVIEW)],
        ),
        width=12,
    )
