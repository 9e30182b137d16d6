"""The overview dashboard: is traffic flowing, is it failing, is it slow?"""

from __future__ import annotations

from eventscope import catalog
from eventscope.dashboards import signals
from eventscope.dashboards.boards import GeneratedDashboard, above, finish, link_to, new_board
from eventscope.dashboards.config import Config
from eventscope.dashboards.links import Kind
from eventscope.dashboards.panels import (
    COUNT,
    MESSAGES_PER_SECOND,
    RATIO,
    RED,
    SECONDS,
    YELLOW,
    Query,
    show,
    single_stat,
    steps,
    time_series,
)
from eventscope.dashboards.promql import DESTINATION, GROUP, JOB, OUTCOME
from eventscope.dashboards.variables import panel_scope

W = "$__rate_interval"
FLOW_LEGEND = f"{show(DESTINATION)} / {show(GROUP)}"
SEND_LEGEND = f"{show(JOB)} → {show(DESTINATION)}"
BY_FLOW = (DESTINATION, GROUP)
BY_SEND = (JOB, DESTINATION)


def overview(config: Config) -> GeneratedDashboard:
    scope = panel_scope(config, with_service=True)
    t = config.thresholds
    board = new_board(
        config,
        Kind.OVERVIEW,
        "Throughput, failures and latency of every producer and consumer group, "
        "from the eventscope decorators.",
        (catalog.CONSUMED_MESSAGES, catalog.SENT_MESSAGES),
        with_service=True,
    )
    error_steps = steps((t.error_ratio / 2, YELLOW), (above(t.error_ratio), RED))
    p99_steps = steps((above(t.p99_processing_seconds), RED))
    e2e_steps = steps((above(config.slo.latency_seconds), RED))

    board.row("At a glance")
    for key, panel in (
        (
            "overview.consumed_total",
            single_stat(
                "Consumed",
                "Messages per second delivered to handlers, all selected groups together.",
                Query(signals.consumed_rate(scope, W, ())),
                MESSAGES_PER_SECOND,
            ),
        ),
        (
            "overview.sent_total",
            single_stat(
                "Sent",
                "Messages per second producers handed to the broker (failed sends included).",
                Query(signals.sent_rate(scope, W, ())),
                MESSAGES_PER_SECOND,
            ),
        ),
        (
            "overview.error_ratio_total",
            single_stat(
                "Error ratio",
                "Share of messages whose handling ended in an error or in the dead-letter "
                f"destination (retries are not final). Alert above {t.error_ratio:.2%}.",
                Query(signals.error_ratio(scope, W, ())),
                RATIO,
                error_steps,
                links=[link_to(config, Kind.DEAD_LETTER)],
            ),
        ),
        (
            "overview.p99_total",
            single_stat(
                "p99 processing",
                f"99th percentile of handler duration. Alert above {t.p99_processing_seconds:g} s.",
                Query(signals.quantile(catalog.PROCESS_DURATION, 0.99, scope, W, ())),
                SECONDS,
                p99_steps,
            ),
        ),
        (
            "overview.e2e_p99_total",
            single_stat(
                "p99 end-to-end",
                "99th percentile of publish → successfully processed, retries included. "
                f"The SLO asks {config.slo.latency_percentile:g} % within "
                f"{config.slo.latency_seconds:g} s.",
                Query(signals.quantile(catalog.END_TO_END_DURATION, 0.99, scope, W, ())),
                SECONDS,
                e2e_steps,
                links=[link_to(config, Kind.SLO)],
            ),
        ),
        (
            "overview.in_flight_total",
            single_stat(
                "In flight",
                "Messages inside handlers right now.",
                Query(signals.in_flight(scope, ())),
                COUNT,
            ),
        ),
    ):
        board.add(key, panel, width=4, height=4)

    board.row("Throughput and failures")
    board.add(
        "overview.consumed",
        time_series(
            "Consumed by destination and group",
            catalog.CONSUMED_MESSAGES.help,
            [Query(signals.consumed_rate(scope, W, BY_FLOW), FLOW_LEGEND)],
            MESSAGES_PER_SECOND,
        ),
        width=12,
    )
    board.add(
        "overview.sent",
        time_series(
            "Sent by service and destination",
            catalog.SENT_MESSAGES.help,
            [Query(signals.sent_rate(scope, W, BY_SEND), SEND_LEGEND)],
            MESSAGES_PER_SECOND,
        ),
        width=12,
    )
    board.add(
        "overview.outcomes",
        time_series(
            "Outcomes",
            catalog.PROCESS_OUTCOMES.help,
            [Query(signals.outcome_rate(scope, W, (OUTCOME,)), f"{show(OUTCOME)}")],
            MESSAGES_PER_SECOND,
            stacked=True,
        ),
        width=12,
    )
    board.add(
        "overview.error_ratio",
        time_series(
            "Error ratio by group",
            "Share of messages ending in error or dead-letter, per consumer group. "
            f"Its alert fires above {t.error_ratio:.2%}.",
            [Query(signals.error_ratio(scope, W, BY_FLOW), FLOW_LEGEND)],
            RATIO,
            error_steps,
            links=[link_to(config, Kind.DEAD_LETTER)],
        ),
        width=12,
    )

    board.row("Latency")
    board.add(
        "overview.processing_latency",
        time_series(
            "Processing latency (p50, p95, p99)",
            catalog.PROCESS_DURATION.help
            + f" Its alert fires when p99 stays above {t.p99_processing_seconds:g} s.",
            [
                Query(
                    signals.quantile(catalog.PROCESS_DURATION, q, scope, W, BY_FLOW),
                    f"p{round(q * 100)} {FLOW_LEGEND}",
                )
                for q in (0.5, 0.95, 0.99)
            ],
            SECONDS,
            p99_steps,
        ),
        width=12,
    )
    board.add(
        "overview.end_to_end_latency",
        time_series(
            "End-to-end latency (p50, p95, p99)",
            catalog.END_TO_END_DURATION.help,
            [
                Query(
                    signals.quantile(catalog.END_TO_END_DURATION, q, scope, W, BY_FLOW),
                    f"p{round(q * 100)} {FLOW_LEGEND}",
                )
                for q in (0.5, 0.95, 0.99)
            ],
            SECONDS,
            e2e_steps,
            links=[link_to(config, Kind.SLO)],
        ),
        width=12,
    )
    board.add(
        "overview.send_latency",
        time_series(
            "Send duration (p50, p99)",
            catalog.CLIENT_OPERATION_DURATION.help,
            [
                Query(
                    signals.quantile(catalog.CLIENT_OPERATION_DURATION, q, scope, W, BY_SEND),
                    f"p{round(q * 100)} {SEND_LEGEND}",
                )
                for q in (0.5, 0.99)
            ],
            SECONDS,
        ),
        width=12,
    )
    board.add(
        "overview.send_errors",
        time_series(
            "Send error ratio",
            "Share of producer sends that failed (error_type set). "
            f"Its alert fires above {t.send_error_ratio:.2%}.",
            [Query(signals.send_error_ratio(scope, W, BY_SEND), SEND_LEGEND)],
            RATIO,
            steps((above(t.send_error_ratio), RED)),
        ),
        width=12,
    )

    board.row("Consumers")
    board.add(
        "overview.in_flight",
        time_series(
            "In flight by group",
            catalog.IN_FLIGHT.help,
            [Query(signals.in_flight(scope, BY_FLOW), FLOW_LEGEND)],
            COUNT,
        ),
        width=12,
    )
    board.add(
        "overview.lag",
        time_series(
            "Consumer lag by group",
            catalog.CONSUMER_LAG.help + " Details on the consumer lag dashboard.",
            [Query(signals.lag_messages(scope, BY_FLOW), FLOW_LEGEND)],
            COUNT,
            steps((above(t.lag_messages), RED)),
            links=[link_to(config, Kind.LAG)],
        ),
        width=12,
    )
    return finish(config, Kind.OVERVIEW, board)
