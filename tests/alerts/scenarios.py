"""promtool unit tests for every generated alert rule: series that fire it, series that don't.

Input series are written from the catalog (names, label names) and sized from the
configuration's thresholds and objectives, so the same scenarios test the default and
the example configuration.  Values are chosen so that each expression is exact at the
evaluation time (constant increments, windows aligned with samples), which lets the
expected annotations include the rendered ``$value``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eventscope import catalog
from eventscope.alerts import ERROR_BUDGET_BURN, LATENCY_BUDGET_BURN, Alert, all_alerts
from eventscope.alerts.prometheus import alert_labels, annotations
from eventscope.catalog import Metric, Outcome
from eventscope.config import Config
from eventscope.generate.documents import SLO_RULES, THRESHOLD_RULES
from eventscope.monitoring import BURN_WINDOWS
from eventscope.monitoring.promql import (
    DESTINATION,
    ERROR_TYPE,
    GROUP,
    JOB,
    LAG_TARGET,
    LE,
    OUTBOX,
    OUTCOME,
    PARTITION,
    REASON,
    SYSTEM,
)

PER_MINUTE = 1000
"""Messages per minute in ratio scenarios, so a ratio r is r * 1000 bad ones."""


def sample(metric: Metric, labels: Mapping[str, str], suffix: str = "") -> str:
    allowed = {*metric.prometheus_labels, JOB, "instance", *([LE] if suffix == "_bucket" else [])}
    unknown = set(labels) - allowed
    assert not unknown, f"{metric.prometheus_name} has no label {unknown}"
    body = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{metric.series(suffix)}{{{body}}}"


def steady(per_minute: float, minutes: int, start: float = 0) -> str:
    return f"{start:g}+{per_minute:g}x{minutes}"


def constant(value: float, minutes: int) -> str:
    return f"{value:g}+0x{minutes}"


@dataclass
class Expected:
    alert: Alert
    labels: dict[str, str]
    value: float | None = None


@dataclass
class Case:
    """One promtool test group: input series and the alerts expected at ``eval_minutes``."""

    covers: tuple[str, ...]
    name: str
    alertname: str
    eval_minutes: int
    series: list[tuple[str, str]] = field(default_factory=list)
    expected: list[Expected] = field(default_factory=list)


@dataclass(frozen=True)
class Where:
    """The label values of the system the scenarios pretend to watch (in config scope)."""

    job: str
    system: str
    destination: str
    dead_letter_destination: str
    group: str
    lag_target: str

    @classmethod
    def of(cls, config: Config) -> Where:
        return cls(
            job=(config.services or ("orders-service",))[0],
            system="kafka",
            destination=(config.destinations or ("orders",))[0],
            dead_letter_destination=(config.dead_letter_destinations or ("orders.dlq",))[0],
            group=(config.consumer_groups or ("billing",))[0],
            lag_target=(config.lag_targets or ("kafka-main",))[0],
        )

    @property
    def flow(self) -> dict[str, str]:
        return {SYSTEM: self.system, DESTINATION: self.destination, GROUP: self.group}

    @property
    def consumer(self) -> dict[str, str]:
        return {JOB: self.job, **self.flow}

    @property
    def producer(self) -> dict[str, str]:
        return {JOB: self.job, SYSTEM: self.system, DESTINATION: self.destination}

    def partition(self, partition: str = "0") -> dict[str, str]:
        return {JOB: "eventscope-lag", **self.flow, PARTITION: partition}


_TEMPLATE = re.compile(r"\{\{ \$labels\.(\w+) \}\}|\{\{ \$value \| printf \"([^\"]+)\" \}\}")


def render(text: str, labels: Mapping[str, str], value: float | None) -> str:
    """Render the two template forms the generator uses (labels and printf of $value)."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(1):
            return labels[match.group(1)]
        assert value is not None, f"template needs $value: {text}"
        return match.group(2) % value

    rendered = _TEMPLATE.sub(substitute, text)
    assert "{{" not in rendered, f"unrendered template in {rendered!r}"
    return rendered


def _ratio_series(
    counter: Metric,
    labels: dict[str, str],
    key: str,
    good: str,
    bad: str,
    ratio: float,
    minutes: int,
) -> list[tuple[str, str]]:
    good_labels = {**labels, key: good} if good else labels  # an empty label is no label
    return [
        (sample(counter, good_labels), steady(PER_MINUTE * (1 - ratio), minutes)),
        (sample(counter, {**labels, key: bad}), steady(PER_MINUTE * ratio, minutes)),
    ]


def _outcomes(w: Where, ratio: float, minutes: int, labels: dict[str, str] | None = None):
    """Outcome counters with ``ratio`` dead-lettered, plus retries that must not count."""
    labels = labels or w.consumer
    series = _ratio_series(
        catalog.PROCESS_OUTCOMES, labels, OUTCOME, "ok", Outcome.DEAD_LETTER.value, ratio, minutes
    )
    series.append(
        (sample(catalog.PROCESS_OUTCOMES, {**labels, OUTCOME: "retry"}), steady(500, minutes))
    )
    series.append(
        (sample(catalog.PROCESS_OUTCOMES, {**labels, OUTCOME: "error"}), constant(0, minutes))
    )
    return series


def _process_histogram(w: Where, low: float, high: float, minutes: int) -> list[tuple[str, str]]:
    """Half the observations at or below ``low``, the rest in the bucket up to ``high``."""
    labels = {**w.consumer, catalog.prometheus_label(catalog.Attr.OPERATION_NAME): "process"}
    bounds = catalog.PROCESS_DURATION.buckets or ()
    series = []
    for bound in bounds:
        per_minute = 0 if bound < low else (50 if bound < high else 100)
        series.append(
            (
                sample(catalog.PROCESS_DURATION, {**labels, LE: repr(bound)}, "_bucket"),
                steady(per_minute, minutes),
            )
        )
    series.append(
        (sample(catalog.PROCESS_DURATION, {**labels, LE: "+Inf"}, "_bucket"), steady(100, minutes))
    )
    series.append((sample(catalog.PROCESS_DURATION, labels, "_count"), steady(100, minutes)))
    return series


def _p99(low: float, high: float) -> float:
    """histogram_quantile(0.99) of :func:`_process_histogram`'s buckets."""
    return low + (high - low) * (0.99 * 100 - 50) / 50


def _e2e(w: Where, ratio: float, minutes: int, le: str) -> list[tuple[str, str]]:
    """End-to-end observations, ``ratio`` of them slower than the objective bucket ``le``."""
    return [
        (
            sample(catalog.END_TO_END_DURATION, {**w.consumer, LE: le}, "_bucket"),
            steady(PER_MINUTE * (1 - ratio), minutes),
        ),
        (sample(catalog.END_TO_END_DURATION, w.consumer, "_count"), steady(PER_MINUTE, minutes)),
    ]


def _le_spellings(bound: float) -> tuple[str, str]:
    """prometheus-client writes 5.0, OpenTelemetry exporters write 5: rules must match both."""
    text = repr(float(bound))
    return text, text.removesuffix(".0")


def _threshold_cases(config: Config, by_key: dict[str, Alert], w: Where) -> list[Case]:
    t = config.thresholds
    a = by_key
    cases: list[Case] = []

    def pair(
        key: str, fire_minutes: int, fire: list, healthy: list, labels: dict, value: float | None
    ) -> None:
        alert = a[key]
        cases.append(
            Case(
                (key,),
                f"{key} fires",
                alert.name,
                fire_minutes,
                fire,
                [Expected(alert, labels, value)],
            )
        )
        cases.append(Case((key,), f"{key} stays silent", alert.name, fire_minutes, healthy))

    lag_high = t.lag_messages + 500
    pair(
        "EventscopeConsumerLagHigh",
        15,
        [(sample(catalog.CONSUMER_LAG, w.partition()), constant(lag_high, 20))],
        [(sample(catalog.CONSUMER_LAG, w.partition()), constant(t.lag_messages / 2, 20))],
        w.flow,
        lag_high,
    )
    age = t.lag_seconds + 30
    pair(
        "EventscopeConsumerLagSecondsHigh",
        10,
        [(sample(catalog.CONSUMER_LAG_DURATION, w.partition()), constant(age, 15))],
        [(sample(catalog.CONSUMER_LAG_DURATION, w.partition()), constant(t.lag_seconds / 2, 15))],
        w.flow,
        age,
    )
    pair(
        "EventscopeConsumerLagGrowing",
        45,
        # Behind from the start (a group whose lag touched zero in the window kept up).
        [(sample(catalog.CONSUMER_LAG, w.partition()), steady(10, 50, 10))],
        [(sample(catalog.CONSUMER_LAG, w.partition()), constant(100, 50))],
        w.flow,
        10 / 60,
    )
    stall_minutes = 30
    pair(
        "EventscopeConsumerStalled",
        25,
        [
            (sample(catalog.CONSUMER_LAG, w.partition()), constant(50, stall_minutes)),
            (sample(catalog.CONSUMER_POSITION, w.partition()), constant(1000, stall_minutes)),
        ],
        [
            (sample(catalog.CONSUMER_LAG, w.partition()), constant(50, stall_minutes)),
            (sample(catalog.CONSUMER_POSITION, w.partition()), steady(5, stall_minutes, 1000)),
        ],
        {**w.flow, PARTITION: "0"},
        50,
    )
    reason = {**w.consumer, REASON: "invalid order"}
    per_minute = int(t.dead_letter_rate * 60 * 2) + 1
    pair(
        "EventscopeDeadLetterTraffic",
        10,
        [(sample(catalog.DEAD_LETTER_MESSAGES, reason), steady(per_minute, 20))],
        [(sample(catalog.DEAD_LETTER_MESSAGES, reason), constant(5, 20))],
        reason,
        None,
    )
    dlq = {JOB: "eventscope-lag", SYSTEM: w.system, DESTINATION: w.dead_letter_destination}
    pair(
        "EventscopeDeadLetterDepth",
        20,
        [(sample(catalog.DEAD_LETTER_DEPTH, dlq), constant(t.dead_letter_depth + 5, 30))],
        [(sample(catalog.DEAD_LETTER_DEPTH, dlq), constant(t.dead_letter_depth, 30))],
        {SYSTEM: w.system, DESTINATION: w.dead_letter_destination},
        t.dead_letter_depth + 5,
    )
    failing = min(1.0, max(2 * t.error_ratio, t.error_ratio + 0.1))
    pair(
        "EventscopeHighErrorRatio",
        20,
        _outcomes(w, failing, 30),
        _outcomes(w, t.error_ratio / 2, 30),
        w.consumer,
        failing,
    )
    bounds = catalog.PROCESS_DURATION.buckets or ()
    low = min(b for b in bounds if b >= t.p99_processing_seconds)
    high = min(b for b in bounds if b > low)
    pair(
        "EventscopeSlowProcessing",
        20,
        _process_histogram(w, low, high, 30),
        _process_histogram(w, bounds[0], bounds[1], 30),
        {**w.consumer},
        _p99(low, high),
    )
    send_failing = min(1.0, max(2 * t.send_error_ratio, t.send_error_ratio + 0.1))

    def sent(ratio: float) -> list[tuple[str, str]]:
        labels = {**w.producer, catalog.prometheus_label(catalog.Attr.OPERATION_NAME): "send"}
        return _ratio_series(
            catalog.SENT_MESSAGES, labels, ERROR_TYPE, "", "TimeoutError", ratio, 20
        )

    pair(
        "EventscopeProducerSendErrors",
        12,
        sent(send_failing),
        sent(t.send_error_ratio / 2),
        w.producer,
        send_failing,
    )
    target = {JOB: "eventscope-lag", LAG_TARGET: w.lag_target, SYSTEM: w.system}
    pair(
        "EventscopeLagExporterDown",
        10,
        [(sample(catalog.LAG_TARGET_UP, target), constant(0, 15))],
        [(sample(catalog.LAG_TARGET_UP, target), constant(1, 15))],
        target,
        None,
    )
    _stopped_relay(t, w, pair)
    return cases


def _stopped_relay(t: Any, w: Where, pair: Any) -> None:
    """The service keeps writing outbox rows and no relay publishes them: the backlog
    grows by a tenth of its threshold a minute and the oldest row ages with the clock.
    A running relay keeps both flat and low."""
    where = {JOB: w.job, OUTBOX: "eventscope_outbox", DESTINATION: w.destination}
    labels = {OUTBOX: "eventscope_outbox", DESTINATION: w.destination}
    minutes = 40
    per_minute = t.outbox_waiting / 10
    waiting, age = catalog.OUTBOX_WAITING, catalog.OUTBOX_OLDEST_AGE
    stopped = [
        (sample(waiting, where), steady(per_minute, minutes + 5)),
        (sample(age, where), steady(60, minutes + 5)),
    ]
    running = [
        (sample(waiting, where), constant(per_minute / 5, minutes + 5)),
        (sample(age, where), constant(2, minutes + 5)),
    ]
    pair("EventscopeOutboxStuck", minutes, stopped, running, labels, 60.0 * minutes)
    pair("EventscopeOutboxGrowing", minutes, stopped, running, labels, per_minute * minutes)


def _burn_cases(config: Config, alerts: list[Alert], w: Where) -> list[Case]:
    """Each window pair fires on its own: a burn fast enough for it, slow enough for the
    faster pairs, evaluated before the slower pairs' ``for`` has passed."""
    cases: list[Case] = []
    budgets = {
        ERROR_BUDGET_BURN: config.slo.error_ratio,
        LATENCY_BUDGET_BURN: config.slo.latency_budget,
    }
    spellings = _le_spellings(config.slo.latency_seconds)
    # (factor of the budget, minutes to evaluate at) per window: past its own ``for``,
    # short of the next slower window's.
    plans = {"1h": (20, 10), "6h": (8, 20), "1d": (4, 70), "3d": (2, 190)}
    for name, budget in budgets.items():
        rules = {a.labels["long_window"]: a for a in alerts if a.name == name}
        for index, window in enumerate(BURN_WINDOWS):
            factor, minutes = plans[window.long]
            ratio = factor * budget
            if name == ERROR_BUDGET_BURN:
                series = _outcomes(w, ratio, minutes + 5)
            else:
                series = _e2e(w, ratio, minutes + 5, spellings[index % 2])
            alert = rules[window.long]
            cases.append(
                Case(
                    (alert.key,),
                    f"{alert.key} fires",
                    name,
                    minutes,
                    series,
                    [Expected(alert, w.flow, ratio)],
                )
            )
        healthy = (
            _outcomes(w, budget / 2, 200)
            if name == ERROR_BUDGET_BURN
            else _e2e(w, budget / 2, 200, spellings[0])
        )
        cases.append(Case((), f"{name} stays silent", name, 190, healthy))
    # A burst that stopped: the 1h/5m page resolves at once, the 6h/30m one still fires.
    # Healthy traffic follows the burst for 8 minutes, then every counter stays flat, so
    # the 6h ratio is the same at minutes 49 and 50: the recording and alerting groups
    # are evaluated concurrently, and the alert may read either minute's recording (a
    # ratio still moving there made the expected annotation flaky).
    burst = 30 * config.slo.error_ratio
    dead = {**w.consumer, OUTCOME: Outcome.DEAD_LETTER.value}
    ok = {**w.consumer, OUTCOME: Outcome.OK.value}
    bad_total = 40 * PER_MINUTE * burst
    healthy_minutes = 8
    ok_total = 40 * PER_MINUTE * (1 - burst) + healthy_minutes * PER_MINUTE
    series = [
        (
            sample(catalog.PROCESS_OUTCOMES, dead),
            f"{steady(PER_MINUTE * burst, 40)} {bad_total:g}+0x20",
        ),
        (
            sample(catalog.PROCESS_OUTCOMES, ok),
            f"{steady(PER_MINUTE * (1 - burst), 40)} "
            f"{40 * PER_MINUTE * (1 - burst) + PER_MINUTE:g}+{PER_MINUTE:g}x{healthy_minutes - 1} "
            f"{constant(ok_total, 20 - healthy_minutes)}",
        ),
    ]
    six_hours = next(
        a for a in alerts if a.name == ERROR_BUDGET_BURN and a.labels["long_window"] == "6h"
    )
    cases.append(
        Case(
            (),
            "error burst that stopped: only the 6h/30m page still fires",
            ERROR_BUDGET_BURN,
            50,
            series,
            [Expected(six_hours, w.flow, bad_total / (bad_total + ok_total))],
        )
    )
    return cases


def cases(config: Config) -> list[Case]:
    alerts = all_alerts(config)
    by_key = {a.key: a for a in alerts}
    w = Where.of(config)
    return [*_threshold_cases(config, by_key, w), *_burn_cases(config, alerts, w)]


def _test_group(case: Case, config: Config) -> dict[str, Any]:
    expected = []
    for e in case.expected:
        labels = {**e.labels, **alert_labels(e.alert, config)}
        notes = annotations(e.alert, config)
        expected.append(
            {
                "exp_labels": labels,
                "exp_annotations": {k: render(v, labels, e.value) for k, v in notes.items()},
            }
        )
    return {
        "name": case.name,
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in case.series],
        "alert_rule_test": [
            {
                "eval_time": f"{case.eval_minutes}m",
                "alertname": case.alertname,
                "exp_alerts": expected,
            }
        ],
    }


def promtool_tests(config: Config) -> dict[str, dict[str, Any]]:
    """``promtool test rules`` documents by file name, one per generated rule file."""
    slo_alerts = {ERROR_BUDGET_BURN, LATENCY_BUDGET_BURN}
    documents = {}
    for rule_file, wanted in ((THRESHOLD_RULES, False), (SLO_RULES, True)):
        name = rule_file.split("/")[-1]
        documents[f"test-{name}"] = {
            "rule_files": [name],
            "evaluation_interval": "1m",
            "tests": [
                _test_group(case, config)
                for case in cases(config)
                if (case.alertname in slo_alerts) == wanted
            ],
        }
    return documents
