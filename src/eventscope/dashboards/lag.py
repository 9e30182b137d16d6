"""The consumer lag dashboard: how far behind is each group, and is it moving at all?

Lag comes from a lag collector (in-process or the standalone exporter), which may
run under a different scrape job than the services, so this dashboard has no service
variable.  One function per row; each places its panels under the ids declared in
:class:`~eventscope.monitoring.LagPanel` (most lag alerts link here).
"""

from __future__ import annotations

from dataclasses import dataclass

from eventscope import catalog
from eventscope.config import Config
from eventscope.dashboards.boards import GeneratedDashboard, above, finish, link_to, new_board
from eventscope.dashboards.layout import Board
from eventscope.dashboards.panels import (
    COUNT,
    GREEN,
    MESSAGES_PER_SECOND,
    RED,
    SECONDS,
    YELLOW,
    Query,
    instant_table,
    show,
    single_stat,
    steps,
    time_series,
)
from eventscope.dashboards.variables import panel_scope
from eventscope.monitoring import Kind, LagPanel, signals
from eventscope.monitoring.promql import (
    DESTINATION,
    ERROR_TYPE,
    GROUP,
    LAG_TARGET,
    PARTITION,
    SYSTEM,
    Scope,
)

W = "$__rate_interval"
GROUP_LEGEND = f"{show(DESTINATION)} / {show(GROUP)}"
PARTITION_LEGEND = GROUP_LEGEND + f" #{show(PARTITION)}"
TARGET_LEGEND = f"{show(LAG_TARGET)} ({show(SYSTEM)})"
BY_GROUP = (DESTINATION, GROUP)
BY_PARTITION = (DESTINATION, GROUP, PARTITION)


@dataclass(frozen=True)
class _Context:
    """What every row reads: the configuration, the panel scope, the stall query."""

    config: Config
    scope: Scope

    @property
    def stalled(self) -> str:
        return signals.stalled(self.scope, self.config.thresholds.stalled_after)


def _described(metric: catalog.Metric) -> str:
    """The metric's help, and the systems that cannot produce it (their panel stays empty)."""
    missing = catalog.not_reported_by(metric)
    gaps = "; ".join(f"{system}: {why}" for system, why in sorted(missing.items()))
    return f"{metric.help} Not reported by {gaps}." if gaps else metric.help


def consumer_lag(config: Config) -> GeneratedDashboard:
    board = new_board(
        config,
        Kind.LAG,
        "Consumer lag in messages and in seconds, per group and partition (or queue), "
        "stalled consumers and the health of the lag collection.",
        (catalog.CONSUMER_LAG,),
        with_service=False,
    )
    context = _Context(config, panel_scope(config, with_service=False))
    for row in (_at_a_glance, _lag, _progress, _groups, _exporter):
        row(board, context)
    return finish(config, board)


def _at_a_glance(board: Board, c: _Context) -> None:
    t, scope = c.config.thresholds, c.scope
    board.row(LagPanel.GLANCE_ROW, "At a glance")
    for panel, built in (
        (
            LagPanel.TOTAL,
            single_stat(
                "Lag",
                "Messages published but not yet committed, all selected groups together.",
                Query(signals.lag_messages(scope, ())),
                COUNT,
            ),
        ),
        (
            LagPanel.OLDEST,
            single_stat(
                "Oldest unconsumed",
                "Age of the oldest message any selected group has not committed yet.",
                Query(signals.lag_seconds(scope, ())),
                SECONDS,
                steps((above(t.lag_seconds), RED)),
            ),
        ),
        (
            LagPanel.STALLED_COUNT,
            single_stat(
                "Stalled partitions",
                f"Partitions with lag whose committed position has not moved for "
                f"{t.stalled_after}.",
                Query(f"count({c.stalled}) or vector(0)"),
                COUNT,
                steps((1, RED)),
            ),
        ),
        (
            LagPanel.MEMBERS_TOTAL,
            single_stat(
                "Consumers attached",
                catalog.CONSUMER_MEMBERS.help,
                Query(signals.members(scope, ())),
                COUNT,
            ),
        ),
    ):
        board.add(panel, built, width=6, height=4)


def _lag(board: Board, c: _Context) -> None:
    t, scope = c.config.thresholds, c.scope
    board.row(LagPanel.LAG_ROW, "Lag")
    board.add(
        LagPanel.MESSAGES,
        time_series(
            "Lag (messages) by group",
            catalog.CONSUMER_LAG.help + f" Alert above {t.lag_messages:g} messages.",
            [Query(signals.lag_messages(scope, BY_GROUP), GROUP_LEGEND)],
            COUNT,
            steps((above(t.lag_messages), RED)),
            links=[link_to(c.config, Kind.OVERVIEW)],
        ),
        width=12,
    )
    board.add(
        LagPanel.SECONDS,
        time_series(
            "Lag (seconds) by group",
            catalog.CONSUMER_LAG_DURATION.help + f" Alert above {t.lag_seconds:g} s.",
            [Query(signals.lag_seconds(scope, BY_GROUP), GROUP_LEGEND)],
            SECONDS,
            steps((above(t.lag_seconds), RED)),
        ),
        width=12,
    )
    board.add(
        LagPanel.MESSAGES_BY_PARTITION,
        time_series(
            "Lag (messages) by partition",
            "One line per partition, queue or stream: a single hot partition shows here "
            "before it moves the group's total.",
            [Query(signals.lag_messages(scope, BY_PARTITION), PARTITION_LEGEND)],
            COUNT,
        ),
        width=12,
    )
    board.add(
        LagPanel.SECONDS_BY_PARTITION,
        time_series(
            "Lag (seconds) by partition",
            "Age of the oldest uncommitted message per partition, queue or stream.",
            [Query(signals.lag_seconds(scope, BY_PARTITION), PARTITION_LEGEND)],
            SECONDS,
        ),
        width=12,
    )


def _progress(board: Board, c: _Context) -> None:
    scope = c.scope
    board.row(LagPanel.PROGRESS_ROW, "Progress")
    board.add(
        LagPanel.GROWTH,
        time_series(
            "Lag growth",
            "How fast each group's lag changes, in messages per second (least-squares "
            "slope); above zero for long means consumers fall further behind.",
            [Query(signals.lag_growth(scope, W, BY_GROUP), GROUP_LEGEND)],
            MESSAGES_PER_SECOND,
            steps((above(0), YELLOW)),
            minimum=None,
        ),
        width=12,
    )
    board.add(
        LagPanel.COMMIT_RATE,
        time_series(
            "Commit rate by partition",
            "How fast each partition's committed position advances. "
            + catalog.CONSUMER_POSITION.help,
            [Query(signals.commit_rate(scope, W, BY_PARTITION), PARTITION_LEGEND)],
            MESSAGES_PER_SECOND,
        ),
        width=12,
    )
    board.add(
        LagPanel.STALLED,
        instant_table(
            "Stalled consumers",
            f"Partitions that had lag throughout the last {c.config.thresholds.stalled_after} "
            "while the group's committed position never moved: the consumer is stuck, not "
            "slow. The value is the smallest lag in that time.",
            # An empty table reads as "No data"; a single 0 row says nothing is stalled.
            Query(f"({c.stalled}) or vector(0)", instant=True),
            COUNT,
        ),
        width=12,
    )
    board.add(
        LagPanel.PENDING,
        time_series(
            "Delivered, not acknowledged",
            _described(catalog.CONSUMER_PENDING),
            [Query(signals.pending(scope, BY_GROUP), GROUP_LEGEND)],
            COUNT,
        ),
        width=12,
    )


def _groups(board: Board, c: _Context) -> None:
    board.row(LagPanel.GROUPS_ROW, "Consumer groups")
    board.add(
        LagPanel.MEMBERS,
        time_series(
            "Consumers attached",
            catalog.CONSUMER_MEMBERS.help,
            [Query(signals.members(c.scope, BY_GROUP), GROUP_LEGEND)],
            COUNT,
        ),
        width=12,
    )
    board.add(
        LagPanel.REDELIVERED,
        time_series(
            "Redelivered",
            _described(catalog.CONSUMER_REDELIVERED),
            [Query(signals.redelivered(c.scope, BY_GROUP), GROUP_LEGEND)],
            COUNT,
        ),
        width=12,
    )


def _exporter(board: Board, c: _Context) -> None:
    scope = c.scope
    board.row(LagPanel.EXPORTER_ROW, "Lag exporter")
    board.add(
        LagPanel.EXPORTER_UP,
        time_series(
            "Collection up",
            catalog.LAG_TARGET_UP.help,
            [Query(signals.lag_target_up(scope), TARGET_LEGEND)],
            COUNT,
            steps((1, GREEN), base=RED),
        ),
        width=8,
    )
    board.add(
        LagPanel.EXPORTER_ERRORS,
        time_series(
            "Collection errors",
            catalog.LAG_COLLECTION_ERRORS.help,
            [
                Query(
                    signals.lag_collection_errors(scope, W),
                    TARGET_LEGEND + f" {show(ERROR_TYPE)}",
                )
            ],
            "suffix: /s",
        ),
        width=8,
    )
    board.add(
        LagPanel.EXPORTER_DURATION,
        time_series(
            "Collection duration",
            catalog.LAG_COLLECTION_DURATION.help,
            [Query(signals.lag_collection_duration(scope), TARGET_LEGEND)],
            SECONDS,
        ),
        width=8,
    )
