"""Lag alerts: too many messages behind, too old, growing, or not moving at all.

Each function is one alert: its expression, its panel on the consumer lag dashboard
(:class:`~eventscope.monitoring.LagPanel`) and its runbook.
"""

from __future__ import annotations

from eventscope import catalog
from eventscope.alerts.definitions.common import FLOW_LINK, WHERE
from eventscope.alerts.model import CRITICAL, WARNING, Alert, Runbook, label, value
from eventscope.config import Config
from eventscope.monitoring import LagPanel, config_scope, signals
from eventscope.monitoring.promql import DESTINATION, GROUP, PARTITION, number

GROWTH_WINDOW = "15m"

LAG_LOOK = (
    "Open the consumer lag dashboard (link in the alert) on this group: is one "
    "partition behind or all of them?",
    "Compare the commit rate with the producers' send rate on the overview dashboard: "
    "a traffic burst catches up by itself, a slower consumer does not.",
    "Check the consumers attached to the group and the in-flight count: fewer members "
    "than usual, or handlers that never return, both show up there.",
)
"""Where to look first for any lag alert."""


def consumer_lag_high(config: Config) -> Alert:
    t = config.thresholds
    lag = signals.lag_messages(config_scope(config))
    return Alert(
        name="EventscopeConsumerLagHigh",
        expr=f"{lag} > {number(t.lag_messages)}",
        for_="10m",
        severity=WARNING,
        summary=f"Consumer group {label(GROUP)} is {value('%.0f')} messages behind "
        f"on {label(DESTINATION)}",
        description=f"Consumer group {WHERE} has had more than {t.lag_messages:g} "
        f"messages published but not committed for 10 minutes (now {value('%.0f')}).",
        panel=LagPanel.MESSAGES,
        signals=(lag,),
        link_variables=FLOW_LINK,
        runbook=Runbook(
            meaning="Messages arrive faster than this consumer group commits them, and "
            f"the backlog has stayed above {t.lag_messages:g} messages for 10 minutes.",
            impact="Work waits: anything downstream of this group (emails, charges, "
            "shipments) happens late. Lag in seconds tells how late.",
            investigate=LAG_LOOK,
            remedies=(
                "Add consumers (up to the number of partitions) if handlers are busy and healthy.",
                "If handlers slowed down, look at the processing latency panel and at "
                "the handler's own dependencies (database, HTTP calls).",
                "If a deploy or a crash removed members, restore them; lag drains once "
                "the group is back.",
            ),
        ),
    )


def consumer_lag_seconds_high(config: Config) -> Alert:
    t = config.thresholds
    lag_age = signals.lag_seconds(config_scope(config))
    return Alert(
        name="EventscopeConsumerLagSecondsHigh",
        expr=f"{lag_age} > {number(t.lag_seconds)}",
        for_="5m",
        severity=CRITICAL,
        summary=f"Oldest unconsumed message for {label(GROUP)} on "
        f"{label(DESTINATION)} is {value('%.0f')} s old",
        description=f"Consumer group {WHERE} has left a message uncommitted for more "
        f"than {t.lag_seconds:g} s, for 5 minutes (oldest now {value('%.0f')} s).",
        panel=LagPanel.SECONDS,
        signals=(lag_age,),
        link_variables=FLOW_LINK,
        runbook=Runbook(
            meaning="The oldest message this group has not committed is older than "
            f"{t.lag_seconds:g} s: the delay users see, whatever the message count.",
            impact="Every message on this destination is processed at least that late; "
            "time-sensitive work (payments, notifications) misses its window.",
            investigate=(
                *LAG_LOOK,
                "A few messages but a high age points at one stuck partition: see "
                "'Lag (seconds) by partition' and the stalled consumers table.",
            ),
            remedies=(
                "Unstick or restart the consumer that owns the oldest partition.",
                "Scale the group out if every partition is behind.",
                "If one message blocks a partition (a poison message retried forever), "
                "make the handler dead-letter it (max_attempts).",
            ),
        ),
    )


def consumer_lag_growing(config: Config) -> Alert:
    scope = config_scope(config)
    growth = signals.lag_growth(scope, GROWTH_WINDOW)
    # A group whose lag touched zero in the window kept up (a healthy group's lag
    # wobbles between 0 and a few messages, and its slope with it).
    floor = signals.lag_floor(scope, GROWTH_WINDOW, signals.FLOW)
    return Alert(
        name="EventscopeConsumerLagGrowing",
        expr=f"{growth} > 0 and {floor} > 0",
        for_="30m",
        severity=WARNING,
        summary=f"Lag of {label(GROUP)} on {label(DESTINATION)} keeps growing",
        description=f"The lag of consumer group {WHERE} has grown for 30 minutes "
        f"without pause (now by {value('%.3g')} messages per second).",
        panel=LagPanel.GROWTH,
        signals=(growth, floor),
        link_variables=FLOW_LINK,
        runbook=Runbook(
            meaning="Over every 15-minute window of the last half hour, the group "
            "fell further behind and never caught up: it consumes more slowly than "
            "producers publish.",
            impact="Nothing yet, perhaps: this is the early warning before the lag "
            "thresholds. Left alone, lag grows until they fire.",
            investigate=LAG_LOOK,
            remedies=(
                "Scale the group out before the backlog becomes an incident.",
                "If a producer misbehaves (a replay, a loop), stop it at the source.",
            ),
        ),
    )


def consumer_stalled(config: Config) -> Alert:
    scope = config_scope(config)
    after = config.thresholds.stalled_after
    return Alert(
        name="EventscopeConsumerStalled",
        expr=signals.stalled(scope, after),
        for_="5m",
        severity=CRITICAL,
        summary=f"{label(GROUP)} is stalled on {label(DESTINATION)} partition {label(PARTITION)}",
        description=f"Consumer group {WHERE} has had lag on partition "
        f"{label(PARTITION)} for {after} (at least {value('%.0f')} "
        "messages) and its committed position has not moved.",
        panel=LagPanel.STALLED,
        signals=(signals.lag_floor(scope, after), signals.position_changes(scope, after)),
        link_variables=FLOW_LINK,
        runbook=Runbook(
            meaning="Messages are waiting, yet the group's committed position "
            f"({catalog.CONSUMER_POSITION.prometheus_name}) stayed flat for "
            f"{after}: the consumer is not slow, it is not consuming at all.",
            impact="Nothing on this partition is processed until the consumer "
            "recovers; lag in seconds grows by one second per second.",
            investigate=(
                "Check that the group has members (consumers attached panel) and that "
                "the partition is assigned to one of them.",
                "Look for a handler stuck on one message: in-flight stays at 1, no "
                "outcomes are recorded for the group.",
                "Check the consumer's logs for rebalance loops or commit failures.",
            ),
            remedies=(
                "Restart the consumer that owns the partition.",
                "If one message always hangs the handler, give it a timeout and dead-letter it.",
            ),
        ),
    )
