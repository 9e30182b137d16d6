"""Processing and sending alerts: failing handlers, slow handlers, failing sends.

Each function is one alert: its expression (a recorded ratio or quantile, see
:mod:`eventscope.monitoring.recording`), its panel on the overview dashboard
(:class:`~eventscope.monitoring.OverviewPanel`) and its runbook.
"""

from __future__ import annotations

from eventscope import catalog
from eventscope.alerts.definitions.common import CONSUMER_LINK, PRODUCER_LINK, WHERE
from eventscope.alerts.model import WARNING, Alert, Runbook, label, value
from eventscope.config import Config
from eventscope.monitoring import OverviewPanel, RecordedNames
from eventscope.monitoring.promql import DESTINATION, ERROR_TYPE, GROUP, JOB, SYSTEM, number


def high_error_ratio(config: Config) -> Alert:
    t = config.thresholds
    ratio = RecordedNames(config.name).error_ratio
    return Alert(
        name="EventscopeHighErrorRatio",
        expr=f"{ratio} > {number(t.error_ratio)}",
        for_="10m",
        severity=WARNING,
        summary=f"{value('%.3g')} of messages fail in {label(GROUP)} on {label(DESTINATION)}",
        description=f"In {label(JOB)}, consumer group {WHERE} ended more than "
        f"{t.error_ratio:.2%} of its messages in error or dead-letter over 10 minutes "
        f"(ratio now {value('%.3g')}).",
        panel=OverviewPanel.ERROR_RATIO,
        signals=(ratio,),
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
    )


def slow_processing(config: Config) -> Alert:
    t = config.thresholds
    p99 = RecordedNames(config.name).process_p99
    return Alert(
        name="EventscopeSlowProcessing",
        expr=f"{p99} > {number(t.p99_processing_seconds)}",
        for_="10m",
        severity=WARNING,
        summary=f"p99 processing time of {label(GROUP)} on {label(DESTINATION)} is "
        f"{value('%.3g')} s",
        description=f"In {label(JOB)}, the 99th percentile handler duration of consumer "
        f"group {WHERE} has been above {t.p99_processing_seconds:g} s for 10 minutes "
        f"(now {value('%.3g')} s).",
        panel=OverviewPanel.PROCESSING_LATENCY,
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
                "Fix or scale the slow dependency; add timeouts so one call cannot hold a handler.",
                "Move expensive work out of the handler (batch it, defer it).",
            ),
        ),
    )


def producer_send_errors(config: Config) -> Alert:
    t = config.thresholds
    sent = catalog.SENT_MESSAGES.prometheus_name
    ratio = RecordedNames(config.name).send_error_ratio
    return Alert(
        name="EventscopeProducerSendErrors",
        expr=f"{ratio} > {number(t.send_error_ratio)}",
        for_="5m",
        severity=WARNING,
        summary=f"{value('%.3g')} of sends to {label(DESTINATION)} fail in {label(JOB)}",
        description=f"Producers in {label(JOB)} failed more than "
        f"{t.send_error_ratio:.2%} of their sends to {label(DESTINATION)} "
        f"({label(SYSTEM)}) for 5 minutes (ratio now {value('%.3g')}).",
        panel=OverviewPanel.SEND_ERRORS,
        signals=(ratio,),
        link_variables=PRODUCER_LINK,
        runbook=Runbook(
            meaning=f"The broker refuses or times out producer sends; {ERROR_TYPE} on "
            f"{sent} says how.",
            impact="Messages that are never sent are lost unless the application "
            "retries or stores them (outbox).",
            investigate=(
                f"Break the failures down by {ERROR_TYPE}: "
                f"sum by ({ERROR_TYPE}) (rate({sent}[5m])) in Explore.",
                "Check the broker's health, quotas and authentication.",
            ),
            remedies=(
                "Restore the broker or the network path; re-send from the outbox if "
                "the application keeps one.",
            ),
        ),
    )
