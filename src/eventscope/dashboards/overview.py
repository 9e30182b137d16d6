"""The overview dashboard: is traffic flowing, is it failing, is it slow?

One function per row; each places its panels under the ids declared in
:class:`~eventscope.monitoring.OverviewPanel` (the error-ratio, processing-latency and
send-error panels are the ones alerts link to).
"""

from __future__ import annotations

from dataclasses import dataclass

from grafana_foundation_sdk.models.dashboard import Threshold

from eventscope import catalog
from eventscope.catalog import Metric
from eventscope.config import Config
from eventscope.dashboards.boards import GeneratedDashboard, above, finish, link_to, new_board
from eventscope.dashboards.layout import Board
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
from eventscope.dashboards.variables import panel_scope
from eventscope.monitoring import Kind, OverviewPanel, signals
from eventscope.monitoring.promql import (
    DESTINATION,
    ERROR_TYPE,
    GROUP,
    HEADER,
    HEADER_PROBLEM,
    JOB,
    OUTBOX,
    OUTCOME,
    Scope,
)

W = "$__rate_interval"
FLOW_LEGEND = f"{show(DESTINATION)} / {show(GROUP)}"
SEND_LEGEND = f"{show(JOB)} → {show(DESTINATION)}"
BY_FLOW = (DESTINATION, GROUP)
BY_SEND = (JOB, DESTINATION)
BY_OUTBOX = (OUTBOX, DESTINATION)
OUTBOX_LEGEND = f"{show(OUTBOX)} → {show(DESTINATION)}"
P50_95_99 = (0.5, 0.95, 0.99)


@dataclass(frozen=True)
class _Context:
    """What every row of the overview reads: the configuration and the panel scope."""

    config: Config
    scope: Scope

    @property
    def error_steps(self) -> list[Threshold]:
        t = self.config.thresholds
        return steps((t.error_ratio / 2, YELLOW), (above(t.error_ratio), RED))

    @property
    def p99_steps(self) -> list[Threshold]:
        return steps((above(self.config.thresholds.p99_processing_seconds), RED))

    @property
    def e2e_steps(self) -> list[Threshold]:
        return steps((above(self.config.slo.latency_seconds), RED))


def overview(config: Config) -> GeneratedDashboard:
    board = new_board(
        config,
        Kind.OVERVIEW,
        "Throughput, failures and latency of every producer and consumer group, "
        "from the eventscope decorators.",
        (catalog.CONSUMED_MESSAGES, catalog.SENT_MESSAGES),
        with_service=True,
    )
    context = _Context(config, panel_scope(config, with_service=True))
    for row in (_at_a_glance, _throughput, _latency, _consumers, _outbox):
        row(board, context)
    return finish(config, board)


def _at_a_glance(board: Board, c: _Context) -> None:
    t, scope = c.config.thresholds, c.scope
    board.row(OverviewPanel.GLANCE_ROW, "At a glance")
    for panel, built in (
        (
            OverviewPanel.CONSUMED_TOTAL,
            single_stat(
                "Consumed",
                "Messages per second delivered to handlers, all selected groups together.",
                Query(signals.consumed_rate(scope, W, ())),
                MESSAGES_PER_SECOND,
            ),
        ),
        (
            OverviewPanel.SENT_TOTAL,
            single_stat(
                "Sent",
                "Messages per second producers handed to the broker (failed sends included).",
                Query(signals.sent_rate(scope, W, ())),
                MESSAGES_PER_SECOND,
            ),
        ),
        (
            OverviewPanel.ERROR_RATIO_TOTAL,
            single_stat(
                "Error ratio",
                "Share of messages whose handling ended in an error or in the dead-letter "
                f"destination (retries are not final). Alert above {t.error_ratio:.2%}.",
                Query(signals.error_ratio(scope, W, ())),
                RATIO,
                c.error_steps,
                links=[link_to(c.config, Kind.DEAD_LETTER)],
            ),
        ),
        (
            OverviewPanel.P99_TOTAL,
            single_stat(
                "p99 processing",
                f"99th percentile of handler duration. Alert above {t.p99_processing_seconds:g} s.",
                Query(signals.quantile(catalog.PROCESS_DURATION, 0.99, scope, W, ())),
                SECONDS,
                c.p99_steps,
            ),
        ),
        (
            OverviewPanel.E2E_P99_TOTAL,
            single_stat(
                "p99 end-to-end",
                "99th percentile of publish → successfully processed, retries included. "
                f"The SLO asks {c.config.slo.latency_percentile:g} % within "
                f"{c.config.slo.latency_seconds:g} s.",
                Query(signals.quantile(catalog.END_TO_END_DURATION, 0.99, scope, W, ())),
                SECONDS,
                c.e2e_steps,
                links=[link_to(c.config, Kind.SLO)],
            ),
        ),
        (
            OverviewPanel.IN_FLIGHT_TOTAL,
            single_stat(
                "In flight",
                "Messages inside handlers right now.",
                Query(signals.in_flight(scope, ())),
                COUNT,
            ),
        ),
    ):
        board.add(panel, built, width=4, height=4)


def _throughput(board: Board, c: _Context) -> None:
    t, scope = c.config.thresholds, c.scope
    board.row(OverviewPanel.THROUGHPUT_ROW, "Throughput and failures")
    board.add(
        OverviewPanel.CONSUMED,
        time_series(
            "Consumed by destination and group",
            catalog.CONSUMED_MESSAGES.help,
            [Query(signals.consumed_rate(scope, W, BY_FLOW), FLOW_LEGEND)],
            MESSAGES_PER_SECOND,
        ),
        width=12,
    )
    board.add(
        OverviewPanel.SENT,
        time_series(
            "Sent by service and destination",
            catalog.SENT_MESSAGES.help,
            [Query(signals.sent_rate(scope, W, BY_SEND), SEND_LEGEND)],
            MESSAGES_PER_SECOND,
        ),
        width=12,
    )
    board.add(
        OverviewPanel.OUTCOMES,
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
        OverviewPanel.ERROR_RATIO,
        time_series(
            "Error ratio by group",
            "Share of messages ending in error or dead-letter, per consumer group. "
            f"Its alert fires above {t.error_ratio:.2%}.",
            [Query(signals.error_ratio(scope, W, BY_FLOW), FLOW_LEGEND)],
            RATIO,
            c.error_steps,
            links=[link_to(c.config, Kind.DEAD_LETTER)],
        ),
        width=12,
    )


def _percentiles(
    metric: Metric, quantiles: tuple[float, ...], scope: Scope, by: tuple[str, ...], legend: str
) -> list[Query]:
    """One query per quantile of ``metric``, legend ``pNN`` then the series' labels."""
    return [
        Query(signals.quantile(metric, q, scope, W, by), f"p{round(q * 100)} {legend}")
        for q in quantiles
    ]


def _latency(board: Board, c: _Context) -> None:
    t = c.config.thresholds
    board.row(OverviewPanel.LATENCY_ROW, "Latency")
    board.add(
        OverviewPanel.PROCESSING_LATENCY,
        time_series(
            "Processing latency (p50, p95, p99)",
            catalog.PROCESS_DURATION.help
            + f" Its alert fires when p99 stays above {t.p99_processing_seconds:g} s.",
            _percentiles(catalog.PROCESS_DURATION, P50_95_99, c.scope, BY_FLOW, FLOW_LEGEND),
            SECONDS,
            c.p99_steps,
        ),
        width=12,
    )
    board.add(
        OverviewPanel.END_TO_END_LATENCY,
        time_series(
            "End-to-end latency (p50, p95, p99)",
            catalog.END_TO_END_DURATION.help,
            _percentiles(catalog.END_TO_END_DURATION, P50_95_99, c.scope, BY_FLOW, FLOW_LEGEND),
            SECONDS,
            c.e2e_steps,
            links=[link_to(c.config, Kind.SLO)],
        ),
        width=12,
    )
    board.add(
        OverviewPanel.SEND_LATENCY,
        time_series(
            "Send duration (p50, p99)",
            catalog.CLIENT_OPERATION_DURATION.help,
            _percentiles(
                catalog.CLIENT_OPERATION_DURATION, (0.5, 0.99), c.scope, BY_SEND, SEND_LEGEND
            ),
            SECONDS,
        ),
        width=12,
    )
    board.add(
        OverviewPanel.SEND_ERRORS,
        time_series(
            "Send error ratio",
            "Share of producer sends that failed (error_type set). "
            f"Its alert fires above {t.send_error_ratio:.2%}.",
            [Query(signals.send_error_ratio(c.scope, W, BY_SEND), SEND_LEGEND)],
            RATIO,
            steps((above(t.send_error_ratio), RED)),
        ),
        width=12,
    )


def _consumers(board: Board, c: _Context) -> None:
    board.row(OverviewPanel.CONSUMERS_ROW, "Consumers")
    board.add(
        OverviewPanel.IN_FLIGHT,
        time_series(
            "In flight by group",
            catalog.IN_FLIGHT.help,
            [Query(signals.in_flight(c.scope, BY_FLOW), FLOW_LEGEND)],
            COUNT,
        ),
        width=12,
    )
    board.add(
        OverviewPanel.LAG,
        time_series(
            "Consumer lag by group",
            catalog.CONSUMER_LAG.help + " Details on the consumer lag dashboard.",
            [Query(signals.lag_messages(c.scope, BY_FLOW), FLOW_LEGEND)],
            COUNT,
            steps((above(c.config.thresholds.lag_messages), RED)),
            links=[link_to(c.config, Kind.LAG)],
        ),
        width=12,
    )
    board.add(
        OverviewPanel.INVALID_HEADERS,
        time_series(
            "Invalid headers by group",
            catalog.INVALID_HEADERS.help
            + " Anything above 0 is a sender writing broken or forged eventscope headers.",
            [
                Query(
                    signals.invalid_header_rate(c.scope, W, (*BY_FLOW, HEADER, HEADER_PROBLEM)),
                    f"{FLOW_LEGEND}: {show(HEADER)} {show(HEADER_PROBLEM)}",
                )
            ],
            MESSAGES_PER_SECOND,
        ),
        width=24,
    )


def _outbox(board: Board, c: _Context) -> None:
    """The transactional outbox: rows waiting for a relay, and what the relays do."""
    t = c.config.thresholds
    board.row(OverviewPanel.OUTBOX_ROW, "Outbox")
    board.add(
        OverviewPanel.OUTBOX_WAITING,
        time_series(
            "Outbox rows waiting",
            catalog.OUTBOX_WAITING.help
            + f" Its alert fires above {t.outbox_waiting:g} rows while the count grows.",
            [Query(signals.outbox_waiting(c.scope, BY_OUTBOX), OUTBOX_LEGEND)],
            COUNT,
            steps((above(t.outbox_waiting), RED)),
        ),
        width=12,
    )
    board.add(
        OverviewPanel.OUTBOX_AGE,
        time_series(
            "Oldest outbox row",
            catalog.OUTBOX_OLDEST_AGE.help
            + f" Its alert fires above {t.outbox_age_seconds:g} s: no relay publishes.",
            [Query(signals.outbox_oldest_age(c.scope, BY_OUTBOX), OUTBOX_LEGEND)],
            SECONDS,
            steps((above(t.outbox_age_seconds), RED)),
        ),
        width=12,
    )
    board.add(
        OverviewPanel.OUTBOX_RELAYED,
        time_series(
            "Relayed rows",
            "Rows per second the outbox relays published to the broker.",
            [Query(signals.outbox_relay_rate(c.scope, W, BY_OUTBOX), OUTBOX_LEGEND)],
            MESSAGES_PER_SECOND,
        ),
        width=12,
    )
    board.add(
        OverviewPanel.OUTBOX_FAILURES,
        time_series(
            "Relay failures",
            catalog.OUTBOX_RELAY_FAILURES.help,
            [
                Query(
                    signals.outbox_relay_failures(c.scope, W, (*BY_OUTBOX, ERROR_TYPE)),
                    f"{OUTBOX_LEGEND}: {show(ERROR_TYPE)}",
                )
            ],
            MESSAGES_PER_SECOND,
        ),
        width=12,
    )
