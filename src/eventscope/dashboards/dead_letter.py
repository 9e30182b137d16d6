"""The dead-letter dashboard: what gives up, why, and what is piling up."""

from __future__ import annotations

from eventscope import catalog
from eventscope.catalog import Outcome
from eventscope.dashboards import signals
from eventscope.dashboards.boards import GeneratedDashboard, above, finish, link_to, new_board
from eventscope.dashboards.config import Config
from eventscope.dashboards.links import Kind
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
from eventscope.dashboards.promql import DESTINATION, GROUP, REASON, SYSTEM
from eventscope.dashboards.variables import panel_scope

W = "$__rate_interval"
RANGE = "$__range"
FLOW_LEGEND = f"{show(DESTINATION)} / {show(GROUP)}"
BY_FLOW = (DESTINATION, GROUP)


def dead_letter(config: Config) -> GeneratedDashboard:
    scope = panel_scope(config, with_service=True)
    t = config.thresholds
    board = new_board(
        config,
        Kind.DEAD_LETTER,
        "Messages routed to dead-letter destinations: how many, from which group, for "
        "which reason, and how many are still waiting there.",
        (catalog.CONSUMED_MESSAGES,),
        with_service=True,
    )
    rate_steps = steps((above(t.dead_letter_rate), RED))
    depth_steps = steps((above(t.dead_letter_depth), RED))
    final = signals.outcomes_rate(scope, W, [o for o in Outcome if o is not Outcome.RETRY], ())

    board.row("At a glance")
    for key, panel in (
        (
            "dlq.rate_total",
            single_stat(
                "Dead-letter rate",
                "Messages per second routed to a dead-letter destination.",
                Query(signals.dead_letter_rate(scope, W, ())),
                MESSAGES_PER_SECOND,
                rate_steps,
            ),
        ),
        (
            "dlq.in_range",
            single_stat(
                "Dead-lettered in range",
                "Messages dead-lettered during the dashboard's time range.",
                Query(signals.dead_letters_in(scope, RANGE, ())),
                COUNT,
                decimals=0,
            ),
        ),
        (
            "dlq.share",
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
            "dlq.depth_total",
            single_stat(
                "Waiting in dead-letter destinations",
                catalog.DEAD_LETTER_DEPTH.help,
                Query(signals.dead_letter_depth(scope, ())),
                COUNT,
                depth_steps,
            ),
        ),
    ):
        board.add(key, panel, width=6, height=4)

    board.row("Dead-letter traffic")
    board.add(
        "dlq.rate",
        time_series(
            "Dead-lettered by destination and group",
            catalog.DEAD_LETTER_MESSAGES.help
            + f" Alert above {t.dead_letter_rate:g} messages per second.",
            [Query(signals.dead_letter_rate(scope, W, BY_FLOW), FLOW_LEGEND)],
            MESSAGES_PER_SECOND,
            rate_steps,
        ),
        width=12,
    )
    board.add(
        "dlq.reasons",
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
            rate_steps,
        ),
        width=12,
    )
    board.add(
        "dlq.depth",
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
            depth_steps,
        ),
        width=12,
    )
    board.add(
        "dlq.top_reasons",
        instant_table(
            "Top reasons in range",
            "Dead-lettered messages per reason during the dashboard's time range.",
            Query(signals.dead_letters_in(scope, RANGE, (*BY_FLOW, REASON)), instant=True),
            COUNT,
        ),
        width=12,
    )

    board.row("Before giving up")
    board.add(
        "dlq.retries",
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
        "dlq.error_ratio",
        time_series(
            "Error ratio by group",
            "Share of messages ending in error or dead-letter, per consumer group.",
            [Query(signals.error_ratio(scope, W, BY_FLOW), FLOW_LEGEND)],
            RATIO,
            steps((above(t.error_ratio), RED)),
            links=[link_to(config, Kind.OVERVIEW)],
        ),
        width=12,
    )
    return finish(config, Kind.DEAD_LETTER, board)
