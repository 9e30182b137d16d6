"""``configure()``: tracing and metrics for a service, in one call.

It sets up what an OpenTelemetry user would otherwise wire by hand — a tracer
provider with the service's resource, Prometheus (a registry, an HTTP endpoint, or
an ASGI/WSGI app to mount) and OTLP export of traces and metrics — honouring the
standard ``OTEL_*`` environment variables.  Providers the application already set up
are reused, never replaced.

The OpenTelemetry SDK and prometheus-client are imported inside the functions that
use them: decorating and calling handlers needs only ``opentelemetry-api``, and an
application that never calls ``configure()`` never pays for the rest.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry import metrics, trace

from eventscope._version import __version__
from eventscope.errors import UsageError
from eventscope.instrumentation import telemetry
from eventscope.instrumentation.buckets import histogram_buckets
from eventscope.instrumentation.lag_watch import LagWatch, is_collector
from eventscope.instrumentation.meters import OpenTelemetryRecorder, Recorder, combine
from eventscope.lag.collector import LagCollector
from eventscope.lag.readings import LagSource

logger = logging.getLogger("eventscope")

_MISSING_OTLP = "OTLP export needs the 'otlp' extra: pip install 'eventscope[otlp]'"

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import SpanProcessor
    from prometheus_client import CollectorRegistry


@dataclass
class Configuration:
    """What ``configure()`` set up; keep it to shut exporters down cleanly."""

    tracer_provider: trace.TracerProvider
    recorder: Recorder
    registry: CollectorRegistry | None
    metrics_port: int | None = None
    meter_provider: MeterProvider | None = None
    _closers: list[Any] = field(default_factory=list)

    def watch(
        self,
        source: LagCollector | LagSource,
        *,
        interval: float = 15.0,
        target: str | None = None,
    ) -> LagWatch | None:
        """Export consumer lag and dead-letter depth, with the health of their collection.

        A lag collector (``eventscope.lag.rabbitmq.RabbitMQCollector``, ...) is asked
        every ``interval`` seconds in a thread; the returned :class:`LagWatch` stops it.
        Its target health and errors are exported as ``eventscope_lag_target_up`` and
        ``eventscope_lag_collection_errors_total`` under ``target`` (default: the
        collector's system).  A :class:`LagSource` (the in-memory bus, a demo transport)
        is read at each scrape and returns ``None``.  Anything else is refused here, at
        the call, rather than failing every later scrape.
        """
        if isinstance(source, LagSource):
            self.recorder.watch(source)
            return None
        if is_collector(source):
            watch = LagWatch(source, interval, target).start(self.recorder)
            self._closers.append(watch.stop)
            return watch
        raise TypeError(
            "watch() takes a lag collector (collect() and system, such as "
            "eventscope.lag.rabbitmq.RabbitMQCollector) or a LagSource (lag_readings() and "
            f"dead_letter_depths()), not {type(source).__name__}"
        )

    def shutdown(self) -> None:
        """Flush and stop exporters and the metrics endpoint."""
        for close in reversed(self._closers):
            try:
                close()
            except Exception:
                telemetry.swallowed("configuration.shutdown")
        self._closers.clear()


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() == "true"


def _otlp_wanted(signal: str) -> bool:
    """OTLP is on when an endpoint is configured or the exporter env var names it."""
    exporter = os.environ.get(f"OTEL_{signal}_EXPORTER", "")
    if exporter:
        return "otlp" in {e.strip() for e in exporter.split(",")}
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")
    )


def _http_protocol(signal: str) -> bool:
    protocol = os.environ.get(f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"
    )
    return protocol.startswith("http")


def _without_otlp(signal: str, asked: bool, exc: ImportError) -> None:
    """OTLP asked for in code fails the call; asked for by the environment alone, the
    service starts anyway (a missing exporter must not take production down) and says
    why nothing reaches the collector."""
    if asked:
        raise UsageError(_MISSING_OTLP) from exc
    logger.warning(
        "OTEL_* variables ask for OTLP %s export, but %s; %s are not exported over OTLP",
        signal.lower(),
        _MISSING_OTLP.replace("OTLP export needs", "it needs"),
        signal.lower(),
    )


def _otlp_span_exporter(asked: bool) -> Any:
    try:
        if _http_protocol("TRACES"):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        else:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        _without_otlp("TRACES", asked, exc)
        return None
    return OTLPSpanExporter()


def _otlp_metric_reader(asked: bool) -> Any:
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    try:
        if _http_protocol("METRICS"):
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        else:
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    except ImportError as exc:
        _without_otlp("METRICS", asked, exc)
        return None
    return PeriodicExportingMetricReader(OTLPMetricExporter())


def configure(
    service_name: str | None = None,
    *,
    prometheus: bool = True,
    registry: CollectorRegistry | None = None,
    metrics_port: int | None = None,
    metrics_address: str = "0.0.0.0",
    otlp: bool | None = None,
    tracing: bool = True,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
    span_processors: Sequence[SpanProcessor] = (),
    set_global: bool = True,
    buckets: Mapping[str, Sequence[float]] | None = None,
) -> Configuration:
    """Set up tracing and metrics for this process once.

    ``prometheus`` records into ``registry`` (prometheus-client's default one unless
    given) and, with ``metrics_port``, serves it over HTTP (port 0 picks a free one;
    see ``Configuration.metrics_port``).  ``otlp`` exports traces and metrics over
    OTLP; by default it is on when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or a per-signal
    endpoint) is set or ``OTEL_TRACES_EXPORTER``/``OTEL_METRICS_EXPORTER`` say
    ``otlp``.  ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` fill the
    resource; ``OTEL_SDK_DISABLED=true`` leaves tracing to the global providers.
    ``tracer_provider``/``meter_provider`` use the given providers instead of
    creating or finding one; an SDK tracer provider given (or already global, when
    ``set_global``) names the service for the metrics too, so one process has one name.
    ``buckets`` chooses histogram boundaries by metric name, e.g.
    ``{"eventscope_end_to_end_duration_seconds": [0.5, 1, 2, 5, 10, 30]}`` for a
    2 s objective (give the generator the same list: ``[slo] latency_buckets``).
    """
    try:
        bounds = histogram_buckets(buckets)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # The name given in code is the default; OTEL_SERVICE_NAME, when set, wins for every
    # signal alike (the SDK would otherwise let the code's name beat the environment).
    named = service_name and not os.environ.get("OTEL_SERVICE_NAME")
    resource = Resource.create({SERVICE_NAME: service_name} if named else {})
    closers: list[Any] = []
    sdk_disabled = _env_flag("OTEL_SDK_DISABLED")

    tp = tracer_provider or trace.get_tracer_provider()
    # Without set_global, a provider of our own: adopting the process's global one would
    # attach our span processors to it and take its service name.
    private = tracer_provider is None and not set_global
    if (
        tracer_provider is None
        and not sdk_disabled
        and (private or not isinstance(tp, TracerProvider))
    ):
        tp = TracerProvider(resource=resource)
        if set_global:
            trace.set_tracer_provider(tp)
    if isinstance(tp, TracerProvider):
        # One service name per process: the traces' provider (given, or the global one
        # already set) names the service for the metrics too.
        resource = tp.resource
        processors = list(span_processors)
        if (otlp if otlp is not None else _otlp_wanted("TRACES")) and not sdk_disabled:
            exporter = _otlp_span_exporter(asked=otlp is True)
            if exporter is not None:
                processors.append(BatchSpanProcessor(exporter))
        for processor in processors:
            tp.add_span_processor(processor)
        closers.append(tp.force_flush)

    recorders: list[Recorder] = []
    prom_registry = None
    port = None
    if prometheus:
        from prometheus_client import REGISTRY, start_http_server

        from eventscope.instrumentation.prometheus_meters import prometheus_recorder

        prom_registry = registry if registry is not None else REGISTRY
        try:
            recorders.append(prometheus_recorder(prom_registry, bounds))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        closers.append(_export_target_info(prom_registry, resource.attributes))
        if metrics_port is not None:
            try:
                server, _thread = start_http_server(metrics_port, metrics_address, prom_registry)
            except OSError as exc:
                raise UsageError(f"cannot serve metrics on port {metrics_port}: {exc}") from exc
            port = server.server_address[1]
            closers.append(server.shutdown)
            closers.append(server.server_close)

    mp = meter_provider
    own_mp = None
    otlp_metrics = otlp if otlp is not None else _otlp_wanted("METRICS")
    wants_reader = mp is None and otlp_metrics and not sdk_disabled
    reader = _otlp_metric_reader(otlp is True) if wants_reader else None
    if reader is not None:
        own_mp = mp = MeterProvider(resource=resource, metric_readers=[reader])
        if set_global:
            metrics.set_meter_provider(own_mp)
        closers.append(own_mp.shutdown)
    if mp is not None:
        meter = mp.get_meter(telemetry.INSTRUMENTATION_NAME, __version__)
        recorders.append(OpenTelemetryRecorder(meter, bounds))
    if not recorders:
        meter = metrics.get_meter(telemetry.INSTRUMENTATION_NAME)
        recorders.append(OpenTelemetryRecorder(meter, bounds))

    recorder = combine(recorders)
    tracer = tp.get_tracer(telemetry.INSTRUMENTATION_NAME, __version__)
    telemetry.install(tracer, recorder, tracing=tracing)
    return Configuration(tp, recorder, prom_registry, port, own_mp, closers)


class _TargetInfo:
    """``target_info``: the resource (``service_name``...) on the Prometheus endpoint, as
    OpenTelemetry's Prometheus compatibility rules write it, so metrics name the same
    service as the traces."""

    def __init__(self, attributes: Mapping[str, Any]) -> None:
        self.labels = {key.replace(".", "_"): str(value) for key, value in attributes.items()}

    def collect(self) -> Any:
        from prometheus_client.core import InfoMetricFamily

        yield InfoMetricFamily("target", "Target metadata", value=self.labels)


def _export_target_info(registry: CollectorRegistry, attributes: Mapping[str, Any]) -> Any:
    """Register ``target_info`` in ``registry``; returns what unregisters it."""
    info = _TargetInfo(attributes)
    try:
        registry.register(info)
    except ValueError:  # another configure() in this process already exports one
        return lambda: None
    return lambda: registry.unregister(info)


def metrics_asgi_app(registry: CollectorRegistry | None = None) -> Any:
    """An ASGI app serving the Prometheus metrics, to mount in an existing service."""
    from prometheus_client import REGISTRY, make_asgi_app

    return make_asgi_app(registry if registry is not None else REGISTRY)


def metrics_wsgi_app(registry: CollectorRegistry | None = None) -> Any:
    """A WSGI app serving the Prometheus metrics, to mount in an existing service."""
    from prometheus_client import REGISTRY, make_wsgi_app

    return make_wsgi_app(registry if registry is not None else REGISTRY)
