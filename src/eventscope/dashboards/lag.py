"""The consumer lag dashboard: how far behind is each group, and is it moving at all?

Lag comes from a lag collector (in-process or the standalone exporter), which may
run under a different scrape job than the services, so this dashboard has no service
variable.
"""

from __future__ import annotations

from eventscope import catalog
from eventscope.dashboards import signals
from eventscope.dashboards.boards import GeneratedDashboard, above, finish, link_to, new_board
from eventscope.dashboards.config import Config
from eventscope.dashboards.links import Kind
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
from eventscope.dashboards.promql import (
    DESTINATION,
    ERROR_TYPE,
    GROUP,
    LAG_TARGET,
    PARTITION,
    SYSTEM,
)
from eventscope.dashboards.variables import panel_scope

W = "$__rate_interval"
GROUP_LEGEND = f"{show(DESTINATION)} / {show(GROUP)}"
PARTITION_LEGEND = GROUP_LEGEND + f" #{show(PARTITION)}"
TARGET_LEGEND = f"{show(LAG_TARGET)} ({show(SYSTEM)})"
BY_GROUP = (DESTINATION, GROUP)
BY_PARTITION = (DESTINATION, GROUP, PARTITION)


def consumer_lag(config: Config) -> GeneratedDashboard:
    scope = panel_scope(config, with_service=False)
    t = config.thresholds
    board = new_board(
        config,
        Kind.LAG,
        "Consumer lag in messages and in seconds, per group and partition (or queue), "
        "stalled consumers and the health of the lag collection.",
        (catalog.CONSUMER_LAG,),
        with_service=False,
    )
    lag_steps = steps((above(t.lag_messages), RED))
    seconds_steps = steps((above(t.lag_seconds), RED))
    stalled = signals.stalled(scope, t.stalled_after)

    board.row("At a glance")
    for key, panel in (
        (
            "lag.total",
            single_stat(
                "Lag",
                "Messages published but not yet committed, all selected groups together.",
                Query(signals.lag_messages(scope, ())),
                COUNT,
            ),
        ),
        (
            "lag.oldest",
            single_stat(
                "Oldest unconsumed",
                "Age of the oldest message any selected group has not committed yet.",
                Query(signals.lag_seconds(scope, ())),
                SECONDS,
                seconds_steps,
            ),
        ),
        (
            "lag.stalled_count",
            single_stat(
                "Stalled partitions",
                f"Partitions with lag whose committed position has not moved for "
                f"{t.stalled_after}.",
                Query(f"count({stalled}) or vector(0)"),
                COUNT,
                steps((1, RED)),
            ),
        ),
        (
            "lag.members_total",
            single_stat(
                "Consumers attached",
                catalog.CONSUMER_MEMBERS.help,
                Query(signals.members(scope, ())),
                COUNT,
            ),
        ),
    ):
        board.add(key, panel, width=6, height=4)

    board.row("Lag")
    board.add(
        "lag.messages",
        time_series(
            "Lag (messages) by group",
            catalog.CONSUMER_LAG.help + f" Alert above {t.lag_messages:g} messages.",
            [Query(signals.lag_messages(scope, BY_GROUP), GROUP_LEGEND)],
            COUNT,
            lag_steps,
            links=[link_to(config, Kind.OVERVIEW)],
        ),
        width=12,
    )
    board.add(
        "lag.seconds",
        time_series(
            "Lag (seconds) by group",
            catalog.CONSUMER_LAG_DURATION.help + f" Alert above {t.lag_seconds:g} s.",
            [Query(signals.lag_seconds(scope, BY_GROUP), GROUP_LEGEND)],
            SECONDS,
            seconds_steps,
        ),
        width=12,
    )
    board.add(
        "lag.messages_by_partition",
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
        "lag.seconds_by_partition",
        time_series(
            "Lag (seconds) by partition",
            "Age of the oldest uncommitted message per partition, queue or stream.",
            [Query(signals.lag_seconds(scope, BY_PARTITION), PARTITION_LEGEND)],
            SECONDS,
        ),
        width=12,
    )

    board.row("Progress")
    board.add(
        "lag.growth",
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
        "lag.commit_rate",
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
        "lag.stalled",
        instant_table(
            "Stalled consumers",
            f"Partitions that had lag throughout the last {t.stalled_after} while the "
            "group's committed position never moved: the consumer is stuck, not slow. "
            "The value is the smallest lag in that time.",
            Query(stalled, instant=True),
            COUNT,
        ),
        width=12,
    )
    board.add(
        "lag.pending",
        time_series(
            "Delivered, not acknowledged",
            catalog.CONSUMER_PENDING.help,
            [Query(signals.pending(scope, BY_GROUP), GROUP_LEGEND)],
            COUNT,
        ),
        width=12,
    )

    board.row("Consumer groups")
    board.add(
        "lag.members",
        time_series(
            "Consumers attached",
            catalog.CONSUMER_MEMBERS.help,
            [Query(signals.members(scope, BY_GROUP), GROUP_LEGEND)],
            COUNT,
        ),
        width=12,
    )
    board.add(
        "lag.redelivered",
        time_series(
            "Redelivered",
            catalog.CONSUMER_REDELIVERED.help,
            [Query(signals.redelivered(scope, BY_GROUP), GROUP_LEGEND)],
            COUNT,
        ),
        width=12,
    )

    board.row("Lag exporter")
    board.add(
        "exporter.up",
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
        "exporter.errors",
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
        "exporter.duration",
        time_series(
            "Collection duration",
            catalog.LAG_COLLECTION_DURATION.help,
            [Query(signals.lag_collection_duration(scope), TARGET_LEGEND)],
            SECONDS,
        ),
        width=8,
    )
    return finish(config, Kind.LAG, board)
