"""Recording the catalog's metrics, to prometheus-client and/or OpenTelemetry.

A decorator asks once for the meter of its (system, destination, group) and keeps
it; the meter has its label children (Prometheus) or attribute dicts (OpenTelemetry)
bound in advance, so recording a message costs a handful of C-level increments and
no label lookups.  Values that vary per message (error type, outcome, dead-letter
reason) are bounded sets, cached on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, Protocol

from opentelemetry.metrics import CallbackOptions, Meter, Observation
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from eventscope import catalog
from eventscope.catalog import Attr, Metric, Outcome
from eventscope.instrumentation.lag.families import lag_families
from eventscope.instrumentation.lag.readings import (
    LagReading,
    LagSource,
    consumer_readings,
)
from eventscope.instrumentation.outcomes import ReasonLimiter

PROCESS = "process"
SEND = "send"


class ConsumerMeter(Protocol):
    def started(self, count: int) -> None:
        """``count`` messages entered the handler (in-flight)."""

    def completed(
        self,
        duration: float | None,
        error_type: str | None,
        outcome: Outcome,
        end_to_end: float | None,
        reason: str | None,
    ) -> None:
        """One message left the handler; ``duration`` is its process operation's, or
        ``None`` for a message of a batch (see :meth:`processed`)."""

    def processed(self, duration: float, error_type: str | None) -> None:
        """One batch process operation ended."""


class ProducerMeter(Protocol):
    def sent(self, duration: float, error_type: str | None) -> None: ...


class Recorder(Protocol):
    def consumer(self, system: str, destination: str, group: str) -> ConsumerMeter: ...

    def producer(self, system: str, destination: str) -> ProducerMeter: ...

    def watch(self, source: LagSource) -> None: ...


# --- Prometheus -----------------------------------------------------------------


def _prom_family(metric: Metric, registry: CollectorRegistry) -> Any:
    labels = metric.prometheus_labels
    if metric.kind is catalog.Kind.HISTOGRAM:
        name = metric.prometheus_name
        return Histogram(name, metric.help, labels, registry=registry, buckets=metric.buckets)
    if metric.kind is catalog.Kind.COUNTER:
        name = metric.prometheus_name.removesuffix("_total")
        return Counter(name, metric.help, labels, registry=registry)
    return Gauge(metric.prometheus_name, metric.help, labels, registry=registry)


class _PromConsumer:
    __slots__ = (
        "_by_error",
        "_dead",
        "_e2e",
        "_families",
        "_in_flight",
        "_labels",
        "_outcomes",
        "_reasons",
    )

    def __init__(self, families: PrometheusRecorder, system: str, destination: str, group: str):
        self._families = families
        self._labels = (system, destination, group)
        self._in_flight = families.in_flight.labels(system, destination, group)
        self._e2e = families.end_to_end.labels(system, destination, group)
        self._outcomes = {
            o: families.outcomes.labels(system, destination, group, o.value) for o in Outcome
        }
        self._by_error: dict[str | None, tuple[Any, Any]] = {}
        self._dead: dict[str, Any] = {}
        self._reasons = ReasonLimiter()

    def _children(self, error_type: str | None) -> tuple[Any, Any]:
        pair = self._by_error.get(error_type)
        if pair is None:
            labels = (*self._labels, PROCESS, error_type or "")
            pair = (
                self._families.process.labels(*labels),
                self._families.consumed.labels(*labels),
            )
            self._by_error[error_type] = pair
        return pair

    def started(self, count: int) -> None:
        self._in_flight.inc(count)

    def completed(
        self,
        duration: float | None,
        error_type: str | None,
        outcome: Outcome,
        end_to_end: float | None,
        reason: str | None,
    ) -> None:
        self._in_flight.dec()
        process, consumed = self._by_error.get(error_type) or self._children(error_type)
        if duration is not None:
            process.observe(duration)
        consumed.inc()
        self._outcomes[outcome].inc()
        if end_to_end is not None:
            self._e2e.observe(end_to_end)
        if outcome is Outcome.DEAD_LETTER:
            label = self._reasons(reason or "unspecified")
            child = self._dead.get(label)
            if child is None:
                child = self._families.dead_letters.labels(*self._labels, label)
                self._dead[label] = child
            child.inc()

    def processed(self, duration: float, error_type: str | None) -> None:
        (self._by_error.get(error_type) or self._children(error_type))[0].observe(duration)


class _PromProducer:
    __slots__ = ("_by_error", "_families", "_labels")

    def __init__(self, families: PrometheusRecorder, system: str, destination: str):
        self._families = families
        self._labels = (system, destination, SEND)
        self._by_error: dict[str | None, tuple[Any, Any]] = {}

    def sent(self, duration: float, error_type: str | None) -> None:
        pair = self._by_error.get(error_type)
        if pair is None:
            labels = (*self._labels, error_type or "")
            pair = (
                self._families.operation.labels(*labels),
                self._families.sent.labels(*labels),
            )
            self._by_error[error_type] = pair
        pair[0].observe(duration)
        pair[1].inc()


class _LagCollector(Collector):
    """Reads lag and dead-letter depth from the watched sources at scrape time."""

    def __init__(self) -> None:
        self.sources: list[LagSource] = []

    def describe(self) -> list:
        return []

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return lag_families(self.sources)


class PrometheusRecorder:
    """Records into a prometheus-client registry; one per registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.operation = _prom_family(catalog.CLIENT_OPERATION_DURATION, registry)
        self.sent = _prom_family(catalog.SENT_MESSAGES, registry)
        self.consumed = _prom_family(catalog.CONSUMED_MESSAGES, registry)
        self.process = _prom_family(catalog.PROCESS_DURATION, registry)
        self.outcomes = _prom_family(catalog.PROCESS_OUTCOMES, registry)
        self.end_to_end = _prom_family(catalog.END_TO_END_DURATION, registry)
        self.in_flight = _prom_family(catalog.IN_FLIGHT, registry)
        self.dead_letters = _prom_family(catalog.DEAD_LETTER_MESSAGES, registry)
        self._lag = _LagCollector()
        registry.register(self._lag)

    def consumer(self, system: str, destination: str, group: str) -> ConsumerMeter:
        return _PromConsumer(self, system, destination, group)

    def producer(self, system: str, destination: str) -> ProducerMeter:
        return _PromProducer(self, system, destination)

    def watch(self, source: LagSource) -> None:
        if source not in self._lag.sources:
            self._lag.sources.append(source)


_recorders_by_registry: dict[int, PrometheusRecorder] = {}
_recorders_lock = threading.Lock()


def prometheus_recorder(registry: CollectorRegistry) -> PrometheusRecorder:
    """The recorder of ``registry``, created once (a registry refuses duplicate names)."""
    with _recorders_lock:
        recorder = _recorders_by_registry.get(id(registry))
        if recorder is None or recorder.registry is not registry:
            recorder = PrometheusRecorder(registry)
            _recorders_by_registry[id(registry)] = recorder
        return recorder


# --- OpenTelemetry --------------------------------------------------------------


class _OtelConsumer:
    __slots__ = ("_attrs", "_by_error", "_dead", "_outcomes", "_reasons", "_recorder")

    def __init__(self, recorder: OpenTelemetryRecorder, system: str, destination: str, group: str):
        self._recorder = recorder
        self._attrs = {
            Attr.SYSTEM: system,
            Attr.DESTINATION: destination,
            Attr.CONSUMER_GROUP: group,
        }
        self._by_error: dict[str | None, dict[str, str]] = {}
        self._outcomes = {o: {**self._attrs, Attr.OUTCOME: o.value} for o in Outcome}
        self._dead: dict[str, dict[str, str]] = {}
        self._reasons = ReasonLimiter()

    def _process_attrs(self, error_type: str | None) -> dict[str, str]:
        attrs = self._by_error.get(error_type)
        if attrs is None:
            attrs = {**self._attrs, Attr.OPERATION_NAME: PROCESS}
            if error_type:
                attrs[Attr.ERROR_TYPE] = error_type
            self._by_error[error_type] = attrs
        return attrs

    def started(self, count: int) -> None:
        self._recorder.in_flight.add(count, self._attrs)

    def completed(
        self,
        duration: float | None,
        error_type: str | None,
        outcome: Outcome,
        end_to_end: float | None,
        reason: str | None,
    ) -> None:
        r = self._recorder
        attrs = self._process_attrs(error_type)
        r.in_flight.add(-1, self._attrs)
        if duration is not None:
            r.process.record(duration, attrs)
        r.consumed.add(1, attrs)
        r.outcomes.add(1, self._outcomes[outcome])
        if end_to_end is not None:
            r.end_to_end.record(end_to_end, self._attrs)
        if outcome is Outcome.DEAD_LETTER:
            label = self._reasons(reason or "unspecified")
            attrs = self._dead.get(label)
            if attrs is None:
                attrs = {**self._attrs, Attr.DEAD_LETTER_REASON: label}
                self._dead[label] = attrs
            r.dead_letters.add(1, attrs)

    def processed(self, duration: float, error_type: str | None) -> None:
        self._recorder.process.record(duration, self._process_attrs(error_type))


class _OtelProducer:
    __slots__ = ("_attrs", "_by_error", "_recorder")

    def __init__(self, recorder: OpenTelemetryRecorder, system: str, destination: str):
        self._recorder = recorder
        self._attrs = {
            Attr.SYSTEM: system,
            Attr.DESTINATION: destination,
            Attr.OPERATION_NAME: SEND,
        }
        self._by_error: dict[str | None, dict[str, str]] = {}

    def sent(self, duration: float, error_type: str | None) -> None:
        attrs = self._by_error.get(error_type)
        if attrs is None:
            attrs = dict(self._attrs)
            if error_type:
                attrs[Attr.ERROR_TYPE] = error_type
            self._by_error[error_type] = attrs
        self._recorder.operation.record(duration, attrs)
        self._recorder.sent.add(1, attrs)


class OpenTelemetryRecorder:
    """Records through an OpenTelemetry ``Meter`` (OTLP, or whatever the app set up)."""

    def __init__(self, meter: Meter) -> None:
        def histogram(metric: Metric):
            return meter.create_histogram(
                metric.name,
                unit=metric.unit,
                description=metric.help,
                explicit_bucket_boundaries_advisory=list(metric.buckets or ()),
            )

        def counter(metric: Metric):
            return meter.create_counter(metric.name, unit=metric.unit, description=metric.help)

        self.operation = histogram(catalog.CLIENT_OPERATION_DURATION)
        self.sent = counter(catalog.SENT_MESSAGES)
        self.consumed = counter(catalog.CONSUMED_MESSAGES)
        self.process = histogram(catalog.PROCESS_DURATION)
        self.outcomes = counter(catalog.PROCESS_OUTCOMES)
        self.end_to_end = histogram(catalog.END_TO_END_DURATION)
        self.dead_letters = counter(catalog.DEAD_LETTER_MESSAGES)
        self.in_flight = meter.create_up_down_counter(
            catalog.IN_FLIGHT.name, unit=catalog.IN_FLIGHT.unit, description=catalog.IN_FLIGHT.help
        )
        self._sources: list[LagSource] = []
        for metric, read in (
            (catalog.CONSUMER_LAG, self._field("messages")),
            (catalog.CONSUMER_LAG_DURATION, self._field("seconds")),
            (catalog.CONSUMER_PENDING, self._field("pending")),
            (catalog.CONSUMER_POSITION, self._field("position")),
            (catalog.CONSUMER_MEMBERS, self._consumer_field("members")),
            (catalog.CONSUMER_REDELIVERED, self._consumer_field("redelivered")),
            (catalog.DEAD_LETTER_DEPTH, self._depths),
        ):
            meter.create_observable_gauge(
                metric.name, callbacks=[read], unit=metric.unit, description=metric.help
            )

    def consumer(self, system: str, destination: str, group: str) -> ConsumerMeter:
        return _OtelConsumer(self, system, destination, group)

    def producer(self, system: str, destination: str) -> ProducerMeter:
        return _OtelProducer(self, system, destination)

    def watch(self, source: LagSource) -> None:
        if source not in self._sources:
            self._sources.append(source)

    def _field(self, name: str):
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            readings = [r for s in list(self._sources) for r in s.lag_readings()]
            return [
                Observation(getattr(r, name), _lag_attrs(r))
                for r in readings
                if getattr(r, name) is not None
            ]

        return observe

    def _consumer_field(self, name: str):
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            return [
                Observation(
                    getattr(c, name),
                    {
                        Attr.SYSTEM: c.system,
                        Attr.DESTINATION: c.destination,
                        Attr.CONSUMER_GROUP: c.group,
                    },
                )
                for s in list(self._sources)
                for c in consumer_readings(s)
                if getattr(c, name) is not None
            ]

        return observe

    def _depths(self, options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(d.messages, {Attr.SYSTEM: d.system, Attr.DESTINATION: d.destination})
            for s in list(self._sources)
            for d in s.dead_letter_depths()
        ]


def _lag_attrs(r: LagReading) -> dict[str, str]:
    return {
        Attr.SYSTEM: r.system,
        Attr.DESTINATION: r.destination,
        Attr.CONSUMER_GROUP: r.group,
        Attr.PARTITION: r.partition,
    }


# --- Both -----------------------------------------------------------------------


class _FanOutConsumer:
    __slots__ = ("_meters",)

    def __init__(self, meters: list[ConsumerMeter]):
        self._meters = meters

    def started(self, count: int) -> None:
        for m in self._meters:
            m.started(count)

    def completed(
        self,
        duration: float | None,
        error_type: str | None,
        outcome: Outcome,
        end_to_end: float | None,
        reason: str | None,
    ) -> None:
        for m in self._meters:
            m.completed(duration, error_type, outcome, end_to_end, reason)

    def processed(self, duration: float, error_type: str | None) -> None:
        for m in self._meters:
            m.processed(duration, error_type)


class _FanOutProducer:
    __slots__ = ("_meters",)

    def __init__(self, meters: list[ProducerMeter]):
        self._meters = meters

    def sent(self, duration: float, error_type: str | None) -> None:
        for m in self._meters:
            m.sent(duration, error_type)


class FanOutRecorder:
    """Records every measurement to several recorders (Prometheus and OTLP at once)."""

    def __init__(self, recorders: list[Recorder]) -> None:
        self.recorders = recorders

    def consumer(self, system: str, destination: str, group: str) -> ConsumerMeter:
        return _FanOutConsumer([r.consumer(system, destination, group) for r in self.recorders])

    def producer(self, system: str, destination: str) -> ProducerMeter:
        return _FanOutProducer([r.producer(system, destination) for r in self.recorders])

    def watch(self, source: LagSource) -> None:
        for r in self.recorders:
            r.watch(source)


def combine(recorders: list[Recorder]) -> Recorder:
    return recorders[0] if len(recorders) == 1 else FanOutRecorder(recorders)
