"""The threshold alerts: lag, stalls, dead letters, errors, latency, sends, the exporter.

Thresholds come from the configuration; expressions come from the shared signals (or
the recording rules built from them), restricted to the configured scope.
"""

from __future__ import annotations

from eventscope import catalog
from eventscope.alerts.model import CRITICAL, WARNING, Alert, Runbook, label, value
from eventscope.dashboards import signals
from eventscope.dashboards.config import Config
from eventscope.dashboards.links import Kind
from eventscope.dashboards.promql import (
    DESTINATION,
    ERROR_TYPE,
    GROUP,
    JOB,
    LAG_TARGET,
    PARTITION,
    REASON,
    SYSTEM,
    config_scope,
    number,
)

GROWTH_WINDOW = "15m"
WHERE = f"{label(GROUP)} on {label(DESTINATION)} ({label(SYSTEM)})"
FLOW_LINK = {"system": SYSTEM, "destination": DESTINATION, "consumer_group": GROUP}
CONSUMER_LINK = {"job": JOB, **FLOW_LINK}
PRODUCER_LINK = {"job": JOB, "system": SYSTEM, "destination": DESTINATION}

LAG_LOOK = (
    "Open the consumer lag dashboard (link in the alert) on this group: is one "
    "partition behind or all of them?",
    "Compare the commit rate with the producers' send rate on the overview dashboard: "
    "a traffic burst catches up by itself, a slower consumer does not.",
    "Check the consumers attached to the group and the in-flight count: fewer members "
    "than usual, or handlers that never return, both show up there.",
)


def threshold_alerts(config: Config) -> list[Alert]:
    t = config.thresholds
    scope = config_scope(config)
    lag = signals.lag_messages(scope)
    lag_age = signals.lag_seconds(scope)
    growth = signals.lag_growth(scope, GROWTH_WINDOW)
    dead_rate = signals.dead_letter_rate(scope, "5m", (*signals.CONSUMER, REASON))
    depth = signals.dead_letter_depth(scope)
    error_ratio = signals.ERROR_RATIO
    p99 = signals.PROCESS_P99
    send_errors = signals.SEND_ERROR_RATIO
    target_up = signals.lag_target_up(scope)
    return [
        Alert(
            name="EventscopeConsumerLagHigh",
            expr=f"{lag} > {number(t.lag_messages)}",
            for_="10m",
            severity=WARNING,
            summary=f"Consumer group {label(GROUP)} is {value('%.0f')} messages behind "
            f"on {label(DESTINATION)}",
            description=f"Consumer group {WHERE} has had more than {t.lag_messages:g} "
            f"messages published but not committed for 10 minutes (now {value('%.0f')}).",
            dashboard=Kind.LAG,
            panel="lag.messages",
            signals=(lag,),
            link_variables=FLOW_LINK,
            runbook=Runbook(
                meaning="Messages arrive faster than this consumer group commits them, and "
                f"the backlog has stayed above {t.lag_messages:g} messages for 10 minutes.",
                impact="Work waits: anything downstream of this group (emails, charges, "
                "shipments) happens late. Lag in seconds tells how late.",
                investigate=LAG_LOOK,
                remedies=(
                    "Add consumers (up to the number of partitions) if handlers are busy "
                    "and healthy.",
                    "If handlers slowed down, look at the processing latency panel and at "
                    "the handler's own dependencies (database, HTTP calls).",
                    "If a deploy or a crash removed members, restore them; lag drains once "
                    "the group is back.",
                ),
            ),
        ),
        Alert(
            name="EventscopeConsumerLagSecondsHigh",
            expr=f"{lag_age} > {number(t.lag_seconds)}",
            for_="5m",
            severity=CRITICAL,
            summary=f"Oldest unconsumed message for {label(GROUP)} on "
            f"{label(DESTINATION)} is {value('%.0f')} s old",
            description=f"Consumer group {WHERE} has left a message uncommitted for more "
            f"than {t.lag_seconds:g} s, for 5 minutes (oldest now {value('%.0f')} s).",
            dashboard=Kind.LAG,
            panel="lag.seconds",
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
        ),
        Alert(
            name="EventscopeConsumerLagGrowing",
            expr=f"{growth} > 0",
            for_="30m",
            severity=WARNING,
            summary=f"Lag of {label(GROUP)} on {label(DESTINATION)} keeps growing",
            description=f"The lag of consumer group {WHERE} has grown for 30 minutes "
            f"without pause (now by {value('%.3g')} messages per second).",
            dashboard=Kind.LAG,
            panel="lag.growth",
            signals=(growth,),
            link_variables=FLOW_LINK,
            runbook=Runbook(
                meaning="Over every 15-minute window of the last half hour, the group "
                "fell further behind: it consumes more slowly than producers publish.",
                impact="Nothing yet, perhaps: this is the early warning before the lag "
                "thresholds. Left alone, lag grows until they fire.",
                investigate=LAG_LOOK,
                remedies=(
                    "Scale the group out before the backlog becomes an incident.",
                    "If a producer misbehaves (a replay, a loop), stop it at the source.",
                ),
            ),
        ),
        Alert(
            name="EventscopeConsumerStalled",
            expr=signals.stalled(scope, t.stalled_after),
            for_="5m",
            severity=CRITICAL,
            summary=f"{label(GROUP)} is stalled on {label(DESTINATION)} partition "
            f"{label(PARTITION)}",
            description=f"Consumer group {WHERE} has had lag on partition "
            f"{label(PARTITION)} for {t.stalled_after} (at least {value('%.0f')} "
            "messages) and its committed position has not moved.",
            dashboard=Kind.LAG,
            panel="lag.stalled",
            signals=(
                signals.lag_floor(scope, t.stalled_after),
                signals.position_changes(scope, t.stalled_after),
            ),
            link_variables=FLOW_LINK,
            runbook=Runbook(
                meaning="Messages are waiting, yet the group's committed position "
                f"({catalog.CONSUMER_POSITION.prometheus_name}) stayed flat for "
                f"{t.stalled_after}: the "
                "consumer is not slow, it is not consuming at all.",
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
                    "If one message always hangs the handler, give it a timeout and "
                    "dead-letter it.",
                ),
            ),
        ),
        Alert(
            name="EventscopeDeadLetterTraffic",
            expr=f"{dead_rate} > {number(t.dead_letter_rate)}",
            for_="1m",
            severity=WARNING,
            summary=f"{label(GROUP)} is dead-lettering messages from {label(DESTINATION)}",
            description=f"Consumer group {WHERE} in {label(JOB)} sends messages to the "
            f"dead-letter destination (reason: {label(REASON)}), above "
            f"{t.dead_letter_rate:g} per second.",
            dashboard=Kind.DEAD_LETTER,
            panel="dlq.reasons",
            signals=(dead_rate,),
            link_variables=CONSUMER_LINK,
            runbook=Runbook(
                meaning="The handler gave up on messages: they failed every attempt or "
                "were rejected outright, and now sit in the dead-letter destination.",
                impact="Those messages are not processed until someone replays them; "
                "the business effect (an order not billed) is silent otherwise.",
                investigate=(
                    "The reason label says why; the dead-letter dashboard shows reasons over "
                    "time and the top reasons in range.",
                    "Dead-lettered messages keep their headers, including traceparent: find "
                    "the trace of one of them to see the failing attempt.",
                    "A burst after a deploy points at the new code or a schema change; a "
                    "trickle points at bad input from one producer.",
                ),
                remedies=(
                    "Fix the cause (code, schema, dependency), then replay the dead-letter "
                    "destination.",
                    "If the messages are truly invalid, fix or stop their producer.",
                ),
            ),
        ),
        Alert(
            name="EventscopeDeadLetterDepth",
            expr=f"{depth} > {number(t.dead_letter_depth)}",
            for_="15m",
            severity=WARNING,
            summary=f"{value('%.0f')} messages waiting in {label(DESTINATION)}",
            description=f"Dead-letter destination {label(DESTINATION)} ({label(SYSTEM)}) "
            f"has held more than {t.dead_letter_depth:g} messages for 15 minutes "
            f"(now {value('%.0f')}).",
            dashboard=Kind.DEAD_LETTER,
            panel="dlq.depth",
            signals=(depth,),
            link_variables={"system": SYSTEM},
            runbook=Runbook(
                meaning="Messages are piling up in a dead-letter destination and nobody "
                "has replayed or discarded them.",
                impact="Each message is unfinished work; brokers may also expire them "
                "(retention), losing them for good.",
                investigate=(
                    "Find out which groups dead-letter into it and why: the dead-letter "
                    "dashboard's reasons.",
                    "Sample a few messages (their headers carry the reason, the original "
                    "destination and the trace context).",
                ),
                remedies=(
                    "Once the cause is fixed, replay the messages to their original "
                    "destination; discard what is invalid, on purpose and on record.",
                ),
            ),
        ),
        Alert(
            name="EventscopeHighErrorRatio",
            expr=f"{error_ratio} > {number(t.error_ratio)}",
            for_="10m",
            severity=WARNING,
            summary=f"{value('%.3g')} of messages fail in {label(GROUP)} on {label(DESTINATION)}",
            description=f"In {label(JOB)}, consumer group {WHERE} ended more than "
            f"{t.error_ratio:.2%} of its messages in error or dead-letter over 10 minutes "
            f"(ratio now {value('%.3g')}).",
            dashboard=Kind.OVERVIEW,
            panel="overview.error_ratio",
            signals=(error_ratio,),
            link_variables=CONSUMER_LINK,
            runbook=Runbook(
                meaning="A large share of messages end badly: the handler raised without "
                "a retry policy (error) or ran out of attempts (dead_letter).",
                impact="Those messages are not processed; with dead-lettering they wait "
                "for a replay, without it they may be lost.",
                investigate=(
                    "The outcomes panel shows whether retries rise too (a failing "
                    "dependency) or messages fail at once (bad input).",
                    "The error traces: filter spans of this group by error.type.",
                    "Correlate with deploys and with the producers' send errors.",
                ),
                remedies=(
                    "Roll back a bad deploy; restore the failing dependency.",
                    "Replay dead-lettered messages once fixed.",
                ),
            ),
        ),
        Alert(
            name="EventscopeSlowProcessing",
            expr=f"{p99} > {number(t.p99_processing_seconds)}",
            for_="10m",
            severity=WARNING,
            summary=f"p99 processing time of {label(GROUP)} on {label(DESTINATION)} is "
            f"{value('%.3g')} s",
            description=f"In {label(JOB)}, the 99th percentile handler duration of consumer "
            f"group {WHERE} has been above {t.p99_processing_seconds:g} s for 10 minutes "
            f"(now {value('%.3g')} s).",
            dashboard=Kind.OVERVIEW,
            panel="overview.processing_latency",
            signals=(p99,),
            link_variables=CONSUMER_LINK,
            runbook=Runbook(
                meaning="The slowest 1 % of handler calls take longer than "
                f"{t.p99_processing_seconds:g} s.",
                impact="Throughput per consumer drops, lag builds up, and end-to-end "
                "latency (the SLO) follows.",
                investigate=(
                    "Open a slow trace of this group: which child span (database, HTTP) "
                    "takes the time?",
                    "Compare p50 with p99: all slow means a slow dependency, only p99 slow "
                    "means some messages (large payloads, cold caches) are expensive.",
                ),
                remedies=(
                    "Fix or scale the slow dependency; add timeouts so one call cannot "
                    "hold a handler.",
                    "Move expensive work out of the handler (batch it, defer it).",
                ),
            ),
        ),
        Alert(
            name="EventscopeProducerSendErrors",
            expr=f"{send_errors} > {number(t.send_error_ratio)}",
            for_="5m",
            severity=WARNING,
            summary=f"{value('%.3g')} of sends to {label(DESTINATION)} fail in {label(JOB)}",
            description=f"Producers in {label(JOB)} failed more than "
            f"{t.send_error_ratio:.2%} of their sends to {label(DESTINATION)} "
            f"({label(SYSTEM)}) for 5 minutes (ratio now {value('%.3g')}).",
            dashboard=Kind.OVERVIEW,
            panel="overview.send_errors",
            signals=(send_errors,),
            link_variables=PRODUCER_LINK,
            runbook=Runbook(
                meaning="The broker refuses or times out producer sends; "
                f"{ERROR_TYPE} on {catalog.SENT_MESSAGES.prometheus_name} says how.",
                impact="Messages that are never sent are lost unless the application "
                "retries or stores them (outbox).",
                investigate=(
                    f"Break the failures down by {ERROR_TYPE}: "
                    f"sum by ({ERROR_TYPE}) (rate({catalog.SENT_MESSAGES.prometheus_name}"
                    f"[5m])) in Explore.",
                    "Check the broker's health, quotas and authentication.",
                ),
                remedies=(
                    "Restore the broker or the network path; re-send from the outbox if "
                    "the application keeps one.",
                ),
            ),
        ),
        Alert(
            name="EventscopeLagExporterDown",
            expr=f"{target_up} == 0",
            for_="5m",
            severity=WARNING,
            summary=f"Lag collection from {label(LAG_TARGET)} fails",
            description=f"The lag exporter in {label(JOB)} could not read consumer lag from "
            f"{label(LAG_TARGET)} ({label(SYSTEM)}) for 5 minutes: lag alerts for it are "
            "blind.",
            dashboard=Kind.LAG,
            panel="exporter.up",
            signals=(target_up,),
            link_variables={"system": SYSTEM},
            runbook=Runbook(
                meaning="The standalone lag exporter's last collections from this broker "
                f"failed ({catalog.LAG_TARGET_UP.prometheus_name} is 0).",
                impact="Lag, stall and dead-letter depth alerts cannot fire for this "
                "broker: a failed broker never reports zero lag, it reports nothing.",
                investigate=(
                    "The exporter's collection errors panel shows the error type.",
                    "Check the exporter's credentials and network path to the broker, "
                    "and the broker's admin API.",
                ),
                remedies=("Restore connectivity or credentials; collection resumes by itself.",),
            ),
        ),
    ]
