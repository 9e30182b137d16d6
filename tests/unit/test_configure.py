"""``configure()``: Prometheus endpoint and apps, OTLP from the standard env vars."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from wsgiref.util import setup_testing_defaults

import pytest
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from eventscope import consumer, metrics_wsgi_app
from eventscope.errors import UsageError
from eventscope.instrumentation import configure, telemetry


@pytest.fixture(autouse=True)
def _reset():
    yield
    telemetry.reset()


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_TRACES_EXPORTER",
        "OTEL_METRICS_EXPORTER",
        "OTEL_SDK_DISABLED",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@consumer("orders", group="g", system="memory")
def handle(message):
    pass


def test_metrics_are_served_over_http(clean_env) -> None:
    registry = CollectorRegistry()
    configuration = configure(
        "svc", registry=registry, metrics_port=0, set_global=False, tracer_provider=TracerProvider()
    )
    try:
        handle({"headers": {}})
        url = f"http://127.0.0.1:{configuration.metrics_port}/metrics"
        body = urllib.request.urlopen(url, timeout=5).read().decode()
        assert 'eventscope_process_outcomes_total{eventscope_outcome="ok"' in body
    finally:
        configuration.shutdown()


def test_a_taken_port_is_a_usage_error(clean_env) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UsageError, match=f"port {port}"):
            configure(
                registry=CollectorRegistry(),
                metrics_port=port,
                set_global=False,
                tracer_provider=TracerProvider(),
            )


def test_wsgi_app_serves_the_registry(clean_env) -> None:
    registry = CollectorRegistry()
    configure(registry=registry, set_global=False, tracer_provider=TracerProvider())
    handle({"headers": {}})
    environ: dict = {}
    setup_testing_defaults(environ)
    status = []
    body = b"".join(metrics_wsgi_app(registry)(environ, lambda s, h: status.append(s)))
    assert status[0].startswith("200")
    assert b"messaging_process_duration_seconds_bucket" in body


def test_otlp_follows_the_standard_environment(clean_env) -> None:
    clean_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    provider = TracerProvider()
    configuration = configure(
        registry=CollectorRegistry(), tracer_provider=provider, set_global=False
    )
    try:
        processors = provider._active_span_processor._span_processors
        exporters = [type(p.span_exporter).__module__ for p in processors]
        assert any("otlp.proto.grpc" in m for m in exporters)
        assert configuration.meter_provider is not None
    finally:
        configuration.meter_provider.shutdown(timeout_millis=100)


def test_http_protocol_and_explicit_opt_out(clean_env) -> None:
    clean_env.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    clean_env.setenv("OTEL_TRACES_EXPORTER", "otlp")
    clean_env.setenv("OTEL_METRICS_EXPORTER", "none")
    provider = TracerProvider()
    configuration = configure(
        registry=CollectorRegistry(), tracer_provider=provider, set_global=False
    )
    processors = provider._active_span_processor._span_processors
    assert any("otlp.proto.http" in type(p.span_exporter).__module__ for p in processors)
    assert configuration.meter_provider is None


def test_no_otlp_without_configuration(clean_env) -> None:
    provider = TracerProvider()
    configuration = configure(
        registry=CollectorRegistry(), tracer_provider=provider, set_global=False
    )
    assert provider._active_span_processor._span_processors == ()
    assert configuration.meter_provider is None


def test_tracing_can_be_turned_off_keeping_metrics(clean_env) -> None:
    registry = CollectorRegistry()
    configure(registry=registry, tracing=False, set_global=False, tracer_provider=TracerProvider())
    assert not telemetry.current().tracing
    handle({"headers": {}})
    assert (
        registry.get_sample_value(
            "eventscope_process_outcomes_total",
            {
                "messaging_system": "memory",
                "messaging_destination_name": "orders",
                "messaging_consumer_group_name": "g",
                "eventscope_outcome": "ok",
            },
        )
        == 1
    )


def test_configure_twice_on_one_registry_is_fine(clean_env) -> None:
    registry = CollectorRegistry()
    configure(registry=registry, set_global=False, tracer_provider=TracerProvider())
    configure(registry=registry, set_global=False, tracer_provider=TracerProvider())
    handle({"headers": {}})


_SERVICE_NAMES = """
from prometheus_client import CollectorRegistry
from eventscope.instrumentation import configure

registry = CollectorRegistry()
configuration = configure("from-code", registry=registry)
infos = [s for m in registry.collect() for s in m.samples if s.name == "target_info"]
print(configuration.tracer_provider.resource.attributes["service.name"])
print(*[s.labels["service_name"] for s in infos])
"""


@pytest.mark.parametrize(("env", "expected"), [(None, "from-code"), ("from-env", "from-env")])
def test_one_service_name_for_traces_and_metrics(clean_env, env, expected) -> None:
    """The name given in code, or OTEL_SERVICE_NAME when set, on spans and target_info.

    In a process of its own: the global tracer provider another test set would be reused.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    if env is not None:
        environment["OTEL_SERVICE_NAME"] = env
    done = subprocess.run(
        [sys.executable, "-c", _SERVICE_NAMES],
        env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [expected, expected]


_ADOPTED_PROVIDER = """
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from eventscope.instrumentation import configure

trace.set_tracer_provider(TracerProvider(resource=Resource.create({"service.name": "set-first"})))
for set_global in (True, False):
    registry = CollectorRegistry()
    configuration = configure("from-code", registry=registry, set_global=set_global)
    infos = [s for m in registry.collect() for s in m.samples if s.name == "target_info"]
    print(
        configuration.tracer_provider is trace.get_tracer_provider(),
        configuration.tracer_provider.resource.attributes["service.name"],
        *[s.labels["service_name"] for s in infos],
    )
    configuration.shutdown()
"""


def test_a_global_provider_already_set_names_the_metrics_too(clean_env) -> None:
    """configure() adopts an SDK provider set before it, and its metrics then carry that
    provider's service name, not the one given in code: one name per process.  Without
    set_global it keeps a provider of its own and touches nothing global."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", _ADOPTED_PROVIDER],
        env=environment, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "True set-first set-first",
        "False from-code from-code",
    ]
