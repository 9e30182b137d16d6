"""Recording rules: the names of recorded series and the expressions behind them.

The threshold alerts compare recorded ratios and quantiles instead of raw PromQL, and the
SLO dashboard reads the recorded SLIs (burn rates over days of raw samples would be
too slow to draw).  Both renderers therefore need the same series names, declared here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eventscope import catalog
from eventscope.monitoring.burn_windows import SLO_WINDOWS
from eventscope.monitoring.promql import DESTINATION, GROUP, JOB, SYSTEM, Scope, quote
from eventscope.monitoring.signals import (
    CONSUMER,
    FLOW,
    PRODUCER,
    error_ratio,
    latency_over_ratio,
    quantile,
    send_error_ratio,
)


@dataclass(frozen=True)
class Recording:
    """One recording rule: the series ``record`` holds the value of ``expr``."""

    record: str
    expr: str
    labels: tuple[str, ...]


RULE_WINDOW = "5m"


@dataclass(frozen=True)
class RecordedNames:
    """The recorded series of one configuration, named after it.

    Every configuration records its own series (``eventscope_orders:...``,
    ``eventscope_payments:...``), so any number of teams can load their rule files into
    one Prometheus: no two rules write the same series (no duplicate samples) and no
    alert reads another configuration's ratios (no alert fires for a group it does not
    own).  Configuration names allow ``-``, which series names do not: it becomes ``_``
    (names never contain ``_``, so two configurations never share a prefix).
    """

    config: str

    @property
    def prefix(self) -> str:
        return "eventscope_" + self.config.replace("-", "_")

    @property
    def error_ratio(self) -> str:
        return f"{self.prefix}:consumer_errors:ratio_rate{RULE_WINDOW}"

    @property
    def send_error_ratio(self) -> str:
        return f"{self.prefix}:producer_send_errors:ratio_rate{RULE_WINDOW}"

    @property
    def process_p99(self) -> str:
        return f"{self.prefix}:process_duration_seconds:p99_rate{RULE_WINDOW}"

    def slo_errors(self, window: str) -> str:
        """Recorded share of failed messages over ``window`` (the error SLI's complement)."""
        return f"{self.prefix}:slo_errors:ratio_rate{window}"

    def slo_latency(self, window: str) -> str:
        """Recorded share of messages slower than the end-to-end objective over ``window``."""
        return f"{self.prefix}:slo_latency:ratio_rate{window}"


def recorded(name: str, scope: Scope, labels: Iterable[str]) -> str:
    """A recorded series, kept to ``scope`` on the labels it carries."""
    wanted = {
        JOB: scope.job,
        SYSTEM: scope.system,
        DESTINATION: scope.destination,
        GROUP: scope.group,
    }
    matchers = [
        f"{label}=~{quote(value)}" for label in labels if (value := wanted.get(label)) is not None
    ]
    return name + ("{" + ", ".join(matchers) + "}" if matchers else "")


def alerting_recordings(names: RecordedNames, scope: Scope) -> list[Recording]:
    """The ratios and quantile the threshold alerts compare, over :data:`RULE_WINDOW`."""
    w = RULE_WINDOW
    p99 = quantile(catalog.PROCESS_DURATION, 0.99, scope, w)
    return [
        Recording(names.error_ratio, error_ratio(scope, w), CONSUMER),
        Recording(names.send_error_ratio, send_error_ratio(scope, w), PRODUCER),
        Recording(names.process_p99, p99, CONSUMER),
    ]


def slo_recordings(
    names: RecordedNames, scope: Scope, latency_seconds: float, period: str
) -> list[Recording]:
    """Both SLIs over every burn-rate window, and over the SLO period.

    The period ratio averages the 5-minute ratio (as Sloth does) instead of a rate over
    four weeks of raw samples.
    """
    rules = []
    for window in SLO_WINDOWS:
        rules.append(Recording(names.slo_errors(window), error_ratio(scope, window, FLOW), FLOW))
    for window in SLO_WINDOWS:
        expr = latency_over_ratio(catalog.END_TO_END_DURATION, latency_seconds, scope, window)
        rules.append(Recording(names.slo_latency(window), expr, FLOW))
    shortest = SLO_WINDOWS[0]
    for name in (names.slo_errors, names.slo_latency):
        rules.append(
            Recording(
                name(period), f"avg_over_time({name(shortest)}[{scope.window(period)}])", FLOW
            )
        )
    return rules
