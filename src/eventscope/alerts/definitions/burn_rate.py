"""Multi-window, multi-burn-rate SLO alerts (Google SRE workbook, "Alerting on SLOs").

For each objective, four rules share one alert name and differ by window: a rule fires
when both its long window and its short window burn the error budget faster than the
window's factor.  The long window keeps a blip from paging; the short window lets the
alert resolve soon after the burning stops.  This is the scheme Sloth and Pyrra
generate; the windows, factors and ``for`` durations are in
:data:`eventscope.monitoring.BURN_WINDOWS`.  Each objective is one definition (four
rules, one panel on the SLO dashboard, one runbook).
"""

from __future__ import annotations

from eventscope.alerts.definitions.common import FLOW_LINK, WHERE
from eventscope.alerts.model import Alert, Runbook, label, value
from eventscope.config import Config, duration_seconds
from eventscope.monitoring import BURN_WINDOWS, BurnWindow, RecordedNames, SloPanel
from eventscope.monitoring.promql import DESTINATION, GROUP, number

ERROR_BUDGET_BURN = "EventscopeErrorBudgetBurn"
LATENCY_BUDGET_BURN = "EventscopeLatencyBudgetBurn"


def _expr(recorded: str, window: BurnWindow, budget: float) -> str:
    """Both windows' bad ratio above ``factor`` times the budget (same labels, so ``and``)."""
    limit = number(window.factor * budget)
    return f"{recorded.format(window.long)} > {limit} and {recorded.format(window.short)} > {limit}"


def _burn_alerts(
    name: str,
    what: str,
    recorded: str,
    budget: float,
    config: Config,
    panel: SloPanel,
    runbook: Runbook,
) -> list[Alert]:
    window = config.slo.window
    alerts = []
    for w in BURN_WINDOWS:
        expr = _expr(recorded, w, budget)
        spent = w.factor * (duration_seconds(w.long) or 0)
        share = spent / (duration_seconds(window) or 1)
        alerts.append(
            Alert(
                name=name,
                expr=expr,
                for_=w.for_,
                severity=w.severity,
                summary=f"{label(GROUP)} on {label(DESTINATION)} burns its {what} budget "
                f"{w.factor:g}x too fast",
                description=f"Consumer group {WHERE} is spending its {window} {what} budget "
                f"at {w.factor:g}x the sustainable rate or more, over both the last "
                f"{w.long} and the last {w.short} (bad ratio {value('%.3g')} over "
                f"{w.long}, budget {number(budget)}). At this pace about {share:.0%} of "
                f"the budget goes in {w.long}.",
                panel=panel,
                signals=(recorded.format(w.long), recorded.format(w.short)),
                link_variables=FLOW_LINK,
                labels={"long_window": w.long, "short_window": w.short},
                runbook=runbook,
            )
        )
    return alerts


def error_budget_burn(config: Config) -> list[Alert]:
    slo = config.slo
    return _burn_alerts(
        ERROR_BUDGET_BURN,
        "error",
        RecordedNames(config.name).slo_errors("{}"),
        slo.error_ratio,
        config,
        SloPanel.ERRORS_BURN,
        Runbook(
            meaning=f"The objective is {100 - slo.error_ratio * 100:g} % of messages "
            f"handled without error or dead-letter over {slo.window}. Failures now "
            "spend that allowance fast enough to exhaust it early if nothing changes.",
            impact="Users see failed work (dead-lettered orders, missing side "
            "effects). A critical alert spends days of budget in hours; a warning "
            "spends it steadily over days.",
            investigate=(
                "Open the SLO dashboard: which window burns, and since when?",
                "The dead-letter dashboard gives the reasons; the overview's outcomes "
                "panel tells errors from dead-letters and retries.",
                "Check recent deploys, schema changes and the health of the "
                "handler's dependencies.",
            ),
            remedies=(
                "Stop the bleeding first (roll back, fail over, pause the bad "
                "producer), then replay dead-lettered messages.",
                "For a slow steady burn (warning), open a ticket: fix the recurring "
                "failure before the window's budget runs out.",
            ),
        ),
    )


def latency_budget_burn(config: Config) -> list[Alert]:
    slo = config.slo
    return _burn_alerts(
        LATENCY_BUDGET_BURN,
        "latency",
        RecordedNames(config.name).slo_latency("{}"),
        slo.latency_budget,
        config,
        SloPanel.LATENCY_BURN,
        Runbook(
            meaning=f"The objective is {slo.latency_percentile:g} % of messages "
            f"processed within {slo.latency_seconds:g} s of publishing, over "
            f"{slo.window}. Too many messages are slower than that, fast enough to "
            "exhaust the allowance early.",
            impact="Work arrives late for users; end-to-end latency includes broker "
            "time, lag and retries, so any of them can be the cause.",
            investigate=(
                "Consumer lag (seconds) usually explains end-to-end latency: open the "
                "consumer lag dashboard for this group.",
                "If lag is low, compare processing latency with end-to-end latency on "
                "the overview: the gap is broker time and retries.",
                "Many retries (dead-letter dashboard) add their backoff to every retried message.",
            ),
            remedies=(
                "Scale consumers or fix the slow dependency; lower retry backoff if "
                "retries dominate.",
                "For a warning, open a ticket: capacity is short of the objective.",
            ),
        ),
    )
