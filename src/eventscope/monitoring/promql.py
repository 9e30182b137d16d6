"""Writing PromQL selectors from catalog metrics, so no metric name is ever typed.

A :class:`Scope` says which label values a query keeps: fixed lists from the
configuration (rule files), or Grafana template variables (dashboards).  It applies
only the labels a metric actually carries, and the ``job`` label only to metrics the
instrumented services export themselves: lag and depth come from a lag collector that
may run under another job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eventscope import catalog
from eventscope.catalog import Attr, Metric
from eventscope.config import Config, scaled_duration

JOB = "job"
LE = "le"
SYSTEM = catalog.prometheus_label(Attr.SYSTEM)
DESTINATION = catalog.prometheus_label(Attr.DESTINATION)
GROUP = catalog.prometheus_label(Attr.CONSUMER_GROUP)
PARTITION = catalog.prometheus_label(Attr.PARTITION)
OUTCOME = catalog.prometheus_label(Attr.OUTCOME)
ERROR_TYPE = catalog.prometheus_label(Attr.ERROR_TYPE)
REASON = catalog.prometheus_label(Attr.DEAD_LETTER_REASON)
LAG_TARGET = catalog.prometheus_label(Attr.LAG_TARGET)
HEADER = catalog.prometheus_label(Attr.HEADER)
HEADER_PROBLEM = catalog.prometheus_label(Attr.HEADER_PROBLEM)
OUTBOX = catalog.prometheus_label(Attr.OUTBOX)

_RE2_SPECIAL = set("\\.+*?()|[]{}^$")


def regex_literal(value: str) -> str:
    """``value`` as an RE2 pattern matching exactly that text."""
    return "".join("\\" + c if c in _RE2_SPECIAL else c for c in value)


def regex_any_of(values: Iterable[str]) -> str:
    return "|".join(regex_literal(v) for v in values)


def quote(value: str) -> str:
    """A PromQL double-quoted string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bucket_bound(bound: float) -> str:
    """A regex for a ``le`` label: clients spell 5.0 as ``5.0`` or ``5``."""
    text = repr(float(bound))
    if text.endswith(".0"):
        return f"{text[:-2]}|{regex_literal(text)}"
    return regex_literal(text)


def number(value: float) -> str:
    """A float as PromQL (and readers) expect it: 0.0144, not 0.014400000000000001."""
    return format(value, ".12g")


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str

    def render(self) -> str:
        return f"{self.label}{self.op}{quote(self.value)}"


@dataclass(frozen=True)
class Scope:
    """Label regexes a query keeps; an absent key keeps every value."""

    job: str | None = None
    system: str | None = None
    destination: str | None = None
    dead_letter_destination: str | None = None
    group: str | None = None
    lag_target: str | None = None
    time_scale: float = 1.0
    """Multiplies every fixed range window (``[5m]``; never a Grafana ``$__...`` one)."""

    def window(self, window: str) -> str:
        """The range written for ``window`` under this scope's :attr:`time_scale`."""
        return window if window.startswith("$") else scaled_duration(window, self.time_scale)

    def matchers(self, metric: Metric) -> list[Matcher]:
        labels = set(metric.prometheus_labels)
        wanted: list[tuple[str, str | None]] = []
        if metric.source == "instrumentation":
            wanted.append((JOB, self.job))
        wanted.append((SYSTEM, self.system))
        if metric is catalog.DEAD_LETTER_DEPTH:
            wanted.append((DESTINATION, self.dead_letter_destination))
        else:
            wanted.append((DESTINATION, self.destination))
        wanted.append((GROUP, self.group))
        wanted.append((LAG_TARGET, self.lag_target))
        return [
            Matcher(label, "=~", value)
            for label, value in wanted
            if value is not None and (label == JOB or label in labels)
        ]


def series(
    metric: Metric, scope: Scope, suffix: str = "", *extra: Matcher, window: str | None = None
) -> str:
    """``name{matchers}`` (or ``name{matchers}[window]``) for one catalog metric."""
    if extra and not {m.label for m in extra} <= {*metric.prometheus_labels, LE}:
        unknown = {m.label for m in extra} - {*metric.prometheus_labels, LE}
        raise ValueError(f"{metric.prometheus_name} has no label {sorted(unknown)}")
    matchers = [m.render() for m in (*scope.matchers(metric), *extra)]
    text = metric.series(suffix) + ("{" + ", ".join(matchers) + "}" if matchers else "")
    return f"{text}[{scope.window(window)}]" if window else text


def by(labels: Iterable[str]) -> str:
    return "by (" + ", ".join(labels) + ")"


def config_scope(config: Config) -> Scope:
    """The services, destinations and groups the configuration names (empty: all)."""

    def any_of(values: tuple[str, ...]) -> str | None:
        return regex_any_of(values) if values else None

    return Scope(
        job=any_of(config.services),
        destination=any_of(config.destinations),
        dead_letter_destination=any_of(config.dead_letter_destinations),
        group=any_of(config.consumer_groups),
        lag_target=any_of(config.lag_targets),
        time_scale=config.time_scale,
    )
