"""Every alert eventscope generates, one small definition each.

A definition is a function of the configuration that returns one :class:`Alert` (or,
for a burn-rate objective, its four window pairs): the expression, the declared panel
that shows its number, and the runbook, side by side.  The tuples below fix the order
of the rules in their files.
"""

from __future__ import annotations

from collections.abc import Callable

from eventscope.alerts.definitions.burn_rate import (
    ERROR_BUDGET_BURN,
    LATENCY_BUDGET_BURN,
    error_budget_burn,
    latency_budget_burn,
)
from eventscope.alerts.definitions.dead_letter import dead_letter_depth, dead_letter_traffic
from eventscope.alerts.definitions.exporter import lag_exporter_down
from eventscope.alerts.definitions.lag import (
    consumer_lag_growing,
    consumer_lag_high,
    consumer_lag_seconds_high,
    consumer_stalled,
)
from eventscope.alerts.definitions.outbox import outbox_growing, outbox_stuck
from eventscope.alerts.definitions.processing import (
    high_error_ratio,
    producer_send_errors,
    slow_processing,
)
from eventscope.alerts.model import Alert
from eventscope.config import Config

THRESHOLD_ALERTS: tuple[Callable[[Config], Alert], ...] = (
    consumer_lag_high,
    consumer_lag_seconds_high,
    consumer_lag_growing,
    consumer_stalled,
    dead_letter_traffic,
    dead_letter_depth,
    high_error_ratio,
    slow_processing,
    producer_send_errors,
    lag_exporter_down,
    outbox_stuck,
    outbox_growing,
)
"""The threshold alerts, in rule-file order."""

BURN_RATE_ALERTS: tuple[Callable[[Config], list[Alert]], ...] = (
    error_budget_burn,
    latency_budget_burn,
)
"""The SLO objectives' burn-rate alerts, in rule-file order."""


def threshold_alerts(config: Config) -> list[Alert]:
    """The threshold alerts: lag, stalls, dead letters, errors, latency, sends, exporter,
    outbox."""
    return [define(config) for define in THRESHOLD_ALERTS]


def burn_rate_alerts(config: Config) -> list[Alert]:
    """Four multi-window burn-rate rules per SLO objective."""
    return [alert for define in BURN_RATE_ALERTS for alert in define(config)]


__all__ = [
    "BURN_RATE_ALERTS",
    "ERROR_BUDGET_BURN",
    "LATENCY_BUDGET_BURN",
    "THRESHOLD_ALERTS",
    "burn_rate_alerts",
    "threshold_alerts",
]
