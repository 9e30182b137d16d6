"""The PromQL vocabulary that dashboards and alert rules share, written from the catalog.

Each function returns one expression for one question (how fast, how often failing,
how far behind).  Panels call them with template variables, rules with the configured
scope; both get the same metric names, labels and arithmetic, so a panel and the alert
that links to it always show the same number.

Ratios are written ``(bad or 0 * total) / total``: a failure series that never
happened yet must read as 0, not as an empty panel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eventscope import catalog
from eventscope.catalog import Metric, Outcome
from eventscope.dashboards.config import duration_seconds
from eventscope.dashboards.promql import (
    DESTINATION,
    ERROR_TYPE,
    GROUP,
    JOB,
    LAG_TARGET,
    LE,
    OUTCOME,
    PARTITION,
    REASON,
    SYSTEM,
    Matcher,
    Scope,
    bucket_bound,
    by,
    number,
    quote,
    regex_any_of,
    series,
)

CONSUMER = (JOB, SYSTEM, DESTINATION, GROUP)
PRODUCER = (JOB, SYSTEM, DESTINATION)
FLOW = (SYSTEM, DESTINATION, GROUP)
"""Where messages wait for a group: lag and SLOs, whichever job reads or reports them."""
PARTITIONED = (*FLOW, PARTITION)
DEAD_LETTER_QUEUE = (SYSTEM, DESTINATION)
LAG_EXPORTER = (JOB, LAG_TARGET, SYSTEM)

FAILED = (Outcome.ERROR, Outcome.DEAD_LETTER)
"""Final outcomes that count against the error objective (a retry is not final)."""


def _sum(labels: Iterable[str], expr: str) -> str:
    return f"sum {by(labels)} ({expr})"


def _rate(metric: Metric, scope: Scope, window: str, suffix: str = "", *m: Matcher) -> str:
    return f"rate({series(metric, scope, suffix, *m, window=window)})"


def ratio(bad: str, total: str) -> str:
    """``bad / total`` that reads 0 (not nothing) while ``bad`` has no series yet."""
    return f"({bad} or 0 * {total}) / {total}"


# --- traffic ------------------------------------------------------------------------


def consumed_rate(scope: Scope, window: str, labels: Iterable[str] = CONSUMER) -> str:
    return _sum(labels, _rate(catalog.CONSUMED_MESSAGES, scope, window))


def sent_rate(scope: Scope, window: str, labels: Iterable[str] = PRODUCER) -> str:
    return _sum(labels, _rate(catalog.SENT_MESSAGES, scope, window))


def outcome_rate(scope: Scope, window: str, labels: Iterable[str] = (*CONSUMER, OUTCOME)) -> str:
    return _sum(labels, _rate(catalog.PROCESS_OUTCOMES, scope, window))


def outcomes_rate(
    scope: Scope, window: str, outcomes: Iterable[Outcome], labels: Iterable[str] = CONSUMER
) -> str:
    values = regex_any_of(o.value for o in outcomes)
    return _sum(
        labels,
        _rate(catalog.PROCESS_OUTCOMES, scope, window, "", Matcher(OUTCOME, "=~", values)),
    )


def error_ratio(scope: Scope, window: str, labels: Iterable[str] = CONSUMER) -> str:
    """Share of messages whose handling ended in error or the dead-letter destination."""
    labels = tuple(labels)
    final = Matcher(OUTCOME, "!=", Outcome.RETRY.value)
    total = _sum(labels, _rate(catalog.PROCESS_OUTCOMES, scope, window, "", final))
    return ratio(outcomes_rate(scope, window, FAILED, labels), total)


def send_error_ratio(scope: Scope, window: str, labels: Iterable[str] = PRODUCER) -> str:
    """Share of producer sends that failed (``error_type`` set)."""
    labels = tuple(labels)
    failed = Matcher(ERROR_TYPE, "!=", "")
    bad = _sum(labels, _rate(catalog.SENT_MESSAGES, scope, window, "", failed))
    return ratio(bad, sent_rate(scope, window, labels))


# --- latency ------------------------------------------------------------------------


def quantile(
    metric: Metric, q: float, scope: Scope, window: str, labels: Iterable[str] = CONSUMER
) -> str:
    buckets = _sum((*labels, LE), _rate(metric, scope, window, "_bucket"))
    return f"histogram_quantile({number(q)}, {buckets})"


def latency_over_ratio(
    metric: Metric, bound: float, scope: Scope, window: str, labels: Iterable[str] = FLOW
) -> str:
    """Share of observations slower than ``bound`` (a bucket boundary)."""
    labels = tuple(labels)
    within = Matcher(LE, "=~", bucket_bound(bound))
    good = _sum(labels, _rate(metric, scope, window, "_bucket", within))
    total = _sum(labels, _rate(metric, scope, window, "_count"))
    return f"1 - ({good} / {total})"


# --- consumers ----------------------------------------------------------------------


def in_flight(scope: Scope, labels: Iterable[str] = CONSUMER) -> str:
    return _sum(labels, series(catalog.IN_FLIGHT, scope))


def lag_messages(scope: Scope, labels: Iterable[str] = FLOW) -> str:
    return _sum(labels, series(catalog.CONSUMER_LAG, scope))


def lag_seconds(scope: Scope, labels: Iterable[str] = FLOW) -> str:
    return f"max {by(labels)} ({series(catalog.CONSUMER_LAG_DURATION, scope)})"


def lag_growth(scope: Scope, window: str, labels: Iterable[str] = FLOW) -> str:
    """Messages per second the lag grows by (negative: the group catches up)."""
    return _sum(labels, f"deriv({series(catalog.CONSUMER_LAG, scope, window=window)})")


def commit_rate(scope: Scope, window: str, labels: Iterable[str] = PARTITIONED) -> str:
    """Messages per second the group's committed position advances."""
    return _sum(labels, f"deriv({series(catalog.CONSUMER_POSITION, scope, window=window)})")


def lag_floor(scope: Scope, window: str) -> str:
    """The smallest lag of each partition over ``window``: above 0 means never caught up."""
    lag = series(catalog.CONSUMER_LAG, scope, window=window)
    return f"min {by(PARTITIONED)} (min_over_time({lag}))"


def position_changes(scope: Scope, window: str) -> str:
    """How often each partition's committed position moved during ``window``."""
    position = series(catalog.CONSUMER_POSITION, scope, window=window)
    return f"max {by(PARTITIONED)} (changes({position}))"


def stalled(scope: Scope, window: str) -> str:
    """Partitions with lag all through ``window`` and a committed position that never moved."""
    return (
        f"({lag_floor(scope, window)} > 0) and on ({', '.join(PARTITIONED)}) "
        f"({position_changes(scope, window)} == 0)"
    )


def pending(scope: Scope, labels: Iterable[str] = FLOW) -> str:
    return _sum(labels, series(catalog.CONSUMER_PENDING, scope))


def members(scope: Scope, labels: Iterable[str] = FLOW) -> str:
    return _sum(labels, series(catalog.CONSUMER_MEMBERS, scope))


def redelivered(scope: Scope, labels: Iterable[str] = FLOW) -> str:
    return _sum(labels, series(catalog.CONSUMER_REDELIVERED, scope))


# --- dead letters -------------------------------------------------------------------


def dead_letter_rate(scope: Scope, window: str, labels: Iterable[str] = CONSUMER) -> str:
    return _sum(labels, _rate(catalog.DEAD_LETTER_MESSAGES, scope, window))


def dead_letters_in(scope: Scope, window: str, labels: Iterable[str] = (REASON,)) -> str:
    """Messages dead-lettered during ``window`` (``$__range`` on a dashboard)."""
    increase = f"increase({series(catalog.DEAD_LETTER_MESSAGES, scope, window=window)})"
    return f"sort_desc({_sum(labels, increase)})"


def dead_letter_depth(scope: Scope, labels: Iterable[str] = DEAD_LETTER_QUEUE) -> str:
    return f"max {by(labels)} ({series(catalog.DEAD_LETTER_DEPTH, scope)})"


# --- the lag exporter ---------------------------------------------------------------


def lag_target_up(scope: Scope) -> str:
    return f"min {by(LAG_EXPORTER)} ({series(catalog.LAG_TARGET_UP, scope)})"


def lag_collection_errors(scope: Scope, window: str) -> str:
    return _sum((*LAG_EXPORTER, ERROR_TYPE), _rate(catalog.LAG_COLLECTION_ERRORS, scope, window))


def lag_collection_duration(scope: Scope) -> str:
    return f"max {by(LAG_EXPORTER)} ({series(catalog.LAG_COLLECTION_DURATION, scope)})"


# --- recorded series ------------------------------------------------------------------


@dataclass(frozen=True)
class Recording:
    """One recording rule: the series ``record`` holds the value of ``expr``."""

    record: str
    expr: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class BurnWindow:
    """One multi-window burn-rate alert (Google SRE workbook, chapter 5)."""

    long: str
    short: str
    factor: float
    severity: str
    for_: str


BURN_WINDOWS = (
    BurnWindow("1h", "5m", 14.4, "critical", "2m"),
    BurnWindow("6h", "30m", 6, "critical", "15m"),
    BurnWindow("1d", "2h", 3, "warning", "1h"),
    BurnWindow("3d", "6h", 1, "warning", "3h"),
)
"""Page (critical) when 2 % of a 30-day budget burns in an hour or 5 % in six hours;
ticket (warning) for 10 % in a day or 10 % in three days.  The ``for`` durations are
the ones Pyrra uses for the same windows."""

RULE_WINDOW = "5m"
SLO_WINDOWS = tuple(
    sorted({w for b in BURN_WINDOWS for w in (b.long, b.short)}, key=duration_seconds)
)
"""Every window a burn-rate alert reads, shortest first."""

ERROR_RATIO = f"eventscope:consumer_errors:ratio_rate{RULE_WINDOW}"
SEND_ERROR_RATIO = f"eventscope:producer_send_errors:ratio_rate{RULE_WINDOW}"
PROCESS_P99 = f"eventscope:process_duration_seconds:p99_rate{RULE_WINDOW}"


def slo_errors(window: str) -> str:
    """Recorded share of failed messages over ``window`` (the error SLI's complement)."""
    return f"eventscope:slo_errors:ratio_rate{window}"


def slo_latency(window: str) -> str:
    """Recorded share of messages slower than the end-to-end objective over ``window``."""
    return f"eventscope:slo_latency:ratio_rate{window}"


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


def alerting_recordings(scope: Scope) -> list[Recording]:
    """The ratios and quantile the threshold alerts compare, over :data:`RULE_WINDOW`."""
    w = RULE_WINDOW
    return [
        Recording(ERROR_RATIO, error_ratio(scope, w), CONSUMER),
        Recording(SEND_ERROR_RATIO, send_error_ratio(scope, w), PRODUCER),
        Recording(PROCESS_P99, quantile(catalog.PROCESS_DURATION, 0.99, scope, w), CONSUMER),
    ]


def slo_recordings(scope: Scope, latency_seconds: float, period: str) -> list[Recording]:
    """Both SLIs over every burn-rate window, and over the SLO period.

    The period ratio averages the 5-minute ratio (as Sloth does) instead of a rate over
    four weeks of raw samples.
    """
    rules = []
    for window in SLO_WINDOWS:
        rules.append(Recording(slo_errors(window), error_ratio(scope, window, FLOW), FLOW))
    for window in SLO_WINDOWS:
        expr = latency_over_ratio(catalog.END_TO_END_DURATION, latency_seconds, scope, window)
        rules.append(Recording(slo_latency(window), expr, FLOW))
    shortest = SLO_WINDOWS[0]
    for name in (slo_errors, slo_latency):
        rules.append(Recording(name(period), f"avg_over_time({name(shortest)}[{period}])", FLOW))
    return rules
