"""Recording the catalog's metrics: the recorder protocols and the OpenTelemetry recorder.

This module needs only ``opentelemetry-api``, so the decorators can import it at no
cost; the prometheus-client recorder is in
:mod:`eventscope.instrumentation.prometheus_meters`, imported by ``configure()``.

A decorator asks once for the meter of its (system, destination, group) and keeps
it; the meter has its label children (Prometheus) or attribute dicts (OpenTelemetry)
bound in advance, so recording a message costs a handful of C-level increments and
no label lookups.  Values that vary per message (error type, outcome, dead-letter
reason) are bounded sets, cached on first use.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from opentelemetry.metrics import CallbackOptions, Meter
from opentelemetry.metrics import Observation as OtelObservation

from eventscope import catalog
from eventscope.catalog import Attr, HeaderProblem, Metric, Outcome
from eventscope.instrumentation.buckets import Buckets
from eventscope.instrumentation.lag_health import read_sources
from eventscope.instrumentation.outcomes import ReasonLimiter
from eventscope.lag.observations import (
    HEALTH_GAUGES,
    LAG_GAUGES,
    Observation,
    error_observations,
    health_observations,
    observations,
)
from eventscope.lag.readings import LagSource

PROCESS = "process"
SEND = "send"


def _allowed(metric: Metric, source: Source) -> dict[str, Any]:
    """The pairs of ``source`` the conventions define on ``metric`` (server address and
    port, partition; not ``messaging.client.id``, a span attribute only)."""
    return {name: value for name, value in source if name in metric.otel_attributes}


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

    def invalid_header(self, header: str, problem: HeaderProblem) -> None:
        """A message's ``header`` (one eventscope reads) was not believed."""


class ProducerMeter(Protocol):
    def sent(self, duration: float, error_type: str | None) -> None: ...


Source = tuple[tuple[str, Any], ...]
"""Where messages come from or go to, as attribute pairs (``server.address``,
``server.port``, ``messaging.client.id``, a partition): the same for every message of
one connection (and partition), so a meter is bound per source as per destination."""


class Recorder(Protocol):
    def consumer(
        self, system: str, destination: str, group: str, source: Source = ()
    ) -> ConsumerMeter: ...

    def producer(self, system: str, destination: str, source: Source = ()) -> ProducerMeter: ...

    def watch(self, source: LagSource) -> None: ...


# --- OpenTelemetry --------------------------------------------------------------


class _OtelConsumer:
    __slots__ = (
        "_attrs",
        "_by_error",
        "_dead",
        "_invalid",
        "_outcomes",
        "_reasons",
        "_recorder",
        "_source",
    )

    def __init__(
        self,
        recorder: OpenTelemetryRecorder,
        system: str,
        destination: str,
        group: str,
        source: Source,
    ):
        self._recorder = recorder
        self._attrs = {
            Attr.SYSTEM: system,
            Attr.DESTINATION: destination,
            Attr.CONSUMER_GROUP: group,
        }
        self._source = _allowed(catalog.PROCESS_DURATION, source)
        self._by_error: dict[str | None, dict[str, str]] = {}
        self._outcomes = {o: {**self._attrs, Attr.OUTCOME: o.value} for o in Outcome}
        self._dead: dict[str, dict[str, str]] = {}
        self._invalid: dict[tuple[str, HeaderProblem], dict[str, str]] = {}
        self._reasons = ReasonLimiter()

    def _process_attrs(self, error_type: str | None) -> dict[str, str]:
        attrs = self._by_error.get(error_type)
        if attrs is None:
            attrs = {**self._attrs, **self._source, Attr.OPERATION_NAME: PROCESS}
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

    def invalid_header(self, header: str, problem: HeaderProblem) -> None:
        attrs = self._invalid.get((header, problem))
        if attrs is None:
            attrs = {**self._attrs, Attr.HEADER: header, Attr.HEADER_PROBLEM: problem.value}
            self._invalid[(header, problem)] = attrs
        self._recorder.invalid_headers.add(1, attrs)


class _OtelProducer:
    __slots__ = ("_attrs", "_by_error", "_recorder")

    def __init__(
        self, recorder: OpenTelemetryRecorder, system: str, destination: str, source: Source
    ):
        self._recorder = recorder
        self._attrs = {
            Attr.SYSTEM: system,
            Attr.DESTINATION: destination,
            **_allowed(catalog.SENT_MESSAGES, source),
            Attr.OPERATION_NAME: SEND,
        }
        self._by_error: dict[str | None, tuple[dict[str, Any], dict[str, Any]]] = {}

    def sent(self, duration: float, error_type: str | None) -> None:
        pair = self._by_error.get(error_type)
        if pair is None:
            sent = dict(self._attrs)
            if error_type:
                sent[Attr.ERROR_TYPE] = error_type
            # messaging.operation.type is defined on the duration, not on the count.
            pair = self._by_error[error_type] = ({**sent, Attr.OPERATION_TYPE: SEND}, sent)
        self._recorder.operation.record(duration, pair[0])
        self._recorder.sent.add(1, pair[1])


class OpenTelemetryRecorder:
    """Records through an OpenTelemetry ``Meter`` (OTLP, or whatever the app set up)."""

    def __init__(self, meter: Meter, buckets: Buckets | None = None) -> None:
        def histogram(metric: Metric):
            bounds = buckets[metric] if buckets is not None else metric.buckets
            return meter.create_histogram(
                metric.name,
                unit=metric.unit,
                description=metric.help,
                explicit_bucket_boundaries_advisory=list(bounds or ()),
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
        self.invalid_headers = counter(catalog.INVALID_HEADERS)
        self.in_flight = meter.create_up_down_counter(
            catalog.IN_FLIGHT.name, unit=catalog.IN_FLIGHT.unit, description=catalog.IN_FLIGHT.help
        )
        self._sources: list[LagSource] = []
        for metric in (*LAG_GAUGES, *HEALTH_GAUGES):
            meter.create_observable_gauge(
                metric.name,
                callbacks=[self._observer(metric)],
                unit=metric.unit,
                description=metric.help,
            )
        errors = catalog.LAG_COLLECTION_ERRORS
        meter.create_observable_counter(
            errors.name,
            callbacks=[self._observer(errors)],
            unit=errors.unit,
            description=errors.help,
        )

    def consumer(
        self, system: str, destination: str, group: str, source: Source = ()
    ) -> ConsumerMeter:
        return _OtelConsumer(self, system, destination, group, source)

    def producer(self, system: str, destination: str, source: Source = ()) -> ProducerMeter:
        return _OtelProducer(self, system, destination, source)

    def watch(self, source: LagSource) -> None:
        if source not in self._sources:
            self._sources.append(source)

    def _observations(self) -> Iterable[Observation]:
        sources, health = read_sources(self._sources)
        return [*observations(sources), *health_observations(health), *error_observations(health)]

    def _observer(self, metric: Metric):
        def observe(options: CallbackOptions) -> Iterable[OtelObservation]:
            return [
                OtelObservation(o.value, dict(zip(metric.labels, o.labels, strict=True)))
                for o in self._observations()
                if o.metric is metric
            ]

        return observe


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

    def invalid_header(self, header: str, problem: HeaderProblem) -> None:
        for m in self._meters:
            m.invalid_header(header, problem)


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

    def consumer(
        self, system: str, destination: str, group: str, source: Source = ()
    ) -> ConsumerMeter:
        return _FanOutConsumer(
            [r.consumer(system, destination, group, source) for r in self.recorders]
        )

    def producer(self, system: str, destination: str, source: Source = ()) -> ProducerMeter:
        return _FanOutProducer([r.producer(system, destination, source) for r in self.recorders])

    def watch(self, source: LagSource) -> None:
        for r in self.recorders:
            r.watch(source)


def combine(recorders: list[Recorder]) -> Recorder:
    return recorders[0] if len(recorders) == 1 else FanOutRecorder(recorders)
