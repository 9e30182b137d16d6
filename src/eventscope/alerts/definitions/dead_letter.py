"""Dead-letter alerts: messages given up on, and messages left waiting.

Each function is one alert: its expression, its panel on the dead-letter dashboard
(:class:`~eventscope.monitoring.DeadLetterPanel`) and its runbook.
"""

from __future__ import annotations

from eventscope.alerts.definitions.common import CONSUMER_LINK, SYSTEM_LINK, WHERE
from eventscope.alerts.model import WARNING, Alert, Runbook, label, value
from eventscope.config import Config
from eventscope.monitoring import DeadLetterPanel, config_scope, signals
from eventscope.monitoring.promql import DESTINATION, GROUP, JOB, REASON, SYSTEM, number


def dead_letter_traffic(config: Config) -> Alert:
    t = config.thresholds
    dead_rate = signals.dead_letter_rate(config_scope(config), "5m", (*signals.CONSUMER, REASON))
    return Alert(
        name="EventscopeDeadLetterTraffic",
        expr=f"{dead_rate} > {number(t.dead_letter_rate)}",
        for_="1m",
        severity=WARNING,
        summary=f"{label(GROUP)} is dead-lettering messages from {label(DESTINATION)}",
        description=f"Consumer group {WHERE} in {label(JOB)} sends messages to the "
        f"dead-letter destination (reason: {label(REASON)}), above "
        f"{t.dead_letter_rate:g} per second.",
        panel=DeadLetterPanel.REASONS,
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
    )


def dead_letter_depth(config: Config) -> Alert:
    t = config.thresholds
    depth = signals.dead_letter_depth(config_scope(config))
    return Alert(
        name="EventscopeDeadLetterDepth",
        expr=f"{depth} > {number(t.dead_letter_depth)}",
        for_="15m",
        severity=WARNING,
        summary=f"{value('%.0f')} messages waiting in {label(DESTINATION)}",
        description=f"Dead-letter destination {label(DESTINATION)} ({label(SYSTEM)}) "
        f"has held more than {t.dead_letter_depth:g} messages for 15 minutes "
        f"(now {value('%.0f')}).",
        panel=DeadLetterPanel.DEPTH,
        signals=(depth,),
        link_variables=SYSTEM_LINK,
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
    )
