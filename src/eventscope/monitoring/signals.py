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

from eventscope import catalog
from eventscope.catalog import Metric, Outcome
from eventscope.monitoring.promql import (
    DESTINATION,
    ERROR_TYPE,
    GROUP,
    HEADER,
    HEADER_PROBLEM,
    JOB,
    LAG_TARGET,
    LE,
    OUTBOX,
    OUTCOME,
    PARTITION,
    REASON,
    SYSTEM,
    Matcher,
    Scope,
    bucket_bound,
    by,
    number,
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
OUTBOX_TABLE = (OUTBOX, DESTINATION)

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


def lag_floor(scope: Scope, window: str, labels: Iterable[str] = PARTITIONED) -> str:
    """The smallest lag of each partition (or group) over ``window``: above 0 means
    never caught up."""
    lag = series(catalog.CONSUMER_LAG, scope, window=window)
    return f"min {by(labels)} (min_over_time({lag}))"


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


def invalid_header_rate(
    scope: Scope, window: str, labels: Iterable[str] = (*FLOW, HEADER, HEADER_PROBLEM)
) -> str:
    """Headers consumers did not believe (a forged publish time, a malformed attempt)."""
    labels = tuple(labels)
    rate = _sum(labels, _rate(catalog.INVALID_HEADERS, scope, window))
    return _or_zero_per_consumer(rate, scope, window, labels)


# --- dead letters -------------------------------------------------------------------


def _or_zero_per_consumer(expr: str, scope: Scope, window: str, labels: Iterable[str]) -> str:
    """``expr``, or 0 for every consumer that handled messages and counted nothing.

    A dead-letter or invalid-header counter has no series until its first event (its
    reason or header is not known before), so a healthy consumer would show "No data";
    the consumers' own traffic supplies the zeros (without those labels).
    """
    known = [label for label in labels if label not in (REASON, HEADER, HEADER_PROBLEM)]
    zero = _sum(known, _rate(catalog.CONSUMED_MESSAGES, scope, window))
    return f"({expr} or 0 * {zero})"


def dead_letter_rate(scope: Scope, window: str, labels: Iterable[str] = CONSUMER) -> str:
    labels = tuple(labels)
    rate = _sum(labels, _rate(catalog.DEAD_LETTER_MESSAGES, scope, window))
    return _or_zero_per_consumer(rate, scope, window, labels)


def dead_letters_in(scope: Scope, window: str, labels: Iterable[str] = (REASON,)) -> str:
    """Messages dead-lettered during ``window`` (``$__range`` on a dashboard)."""
    labels = tuple(labels)
    increase = f"increase({series(catalog.DEAD_LETTER_MESSAGES, scope, window=window)})"
    return f"sort_desc({_or_zero_per_consumer(_sum(labels, increase), scope, window, labels)})"


def dead_letter_depth(scope: Scope, labels: Iterable[str] = DEAD_LETTER_QUEUE) -> str:
    return f"max {by(labels)} ({series(catalog.DEAD_LETTER_DEPTH, scope)})"


# --- the lag exporter ---------------------------------------------------------------


def lag_target_up(scope: Scope) -> str:
    return f"min {by(LAG_EXPORTER)} ({series(catalog.LAG_TARGET_UP, scope)})"


def lag_collection_errors(scope: Scope, window: str) -> str:
    """Failed collections per second; 0 (without an error type) for a target that never failed."""
    errors = _sum((*LAG_EXPORTER, ERROR_TYPE), _rate(catalog.LAG_COLLECTION_ERRORS, scope, window))
    return f"({errors} or 0 * {lag_target_up(scope)})"


def lag_collection_duration(scope: Scope) -> str:
    return f"max {by(LAG_EXPORTER)} ({series(catalog.LAG_COLLECTION_DURATION, scope)})"


# --- the transactional outbox -------------------------------------------------------
# Every process that watches a table reports the same rows (the service and its
# relays): max, not sum, so a table is counted once.


def outbox_waiting(scope: Scope, labels: Iterable[str] = OUTBOX_TABLE) -> str:
    return f"max {by(labels)} ({series(catalog.OUTBOX_WAITING, scope)})"


def outbox_oldest_age(scope: Scope, labels: Iterable[str] = OUTBOX_TABLE) -> str:
    return f"max {by(labels)} ({series(catalog.OUTBOX_OLDEST_AGE, scope)})"


def outbox_growth(scope: Scope, window: str, labels: Iterable[str] = OUTBOX_TABLE) -> str:
    """Rows per second the backlog grows by (negative: the relays catch up)."""
    waiting = series(catalog.OUTBOX_WAITING, scope, window=window)
    return f"max {by(labels)} (deriv({waiting}))"


def outbox_relay_rate(scope: Scope, window: str, labels: Iterable[str] = OUTBOX_TABLE) -> str:
    """Rows per second the relays publish."""
    return _sum(labels, _rate(catalog.OUTBOX_RELAY_DURATION, scope, window, "_count"))


def outbox_relay_failures(
    scope: Scope, window: str, labels: Iterable[str] = (*OUTBOX_TABLE, ERROR_TYPE)
) -> str:
    """Failed publishes per second, or 0 for every relay that published and failed none
    (the counter has no series before its first error type is known)."""
    labels = tuple(labels)
    failures = _sum(labels, _rate(catalog.OUTBOX_RELAY_FAILURES, scope, window))
    known = [label for label in labels if label != ERROR_TYPE]
    zero = _sum(known, _rate(catalog.OUTBOX_RELAY_DURATION, scope, window, "_count"))
    return f"({failures} or 0 * {zero})"
