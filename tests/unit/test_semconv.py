"""Every name eventscope gives a span, metric or attribute, against the conventions.

The names, units and instrument kinds come from ``opentelemetry-semantic-conventions``
(the constants and ``create_*`` functions of its ``_incubating`` modules); which
attributes each metric may carry comes from the semantic-conventions repository's
``model/messaging/metrics.yaml`` and ``model/messaging/common.yaml`` at v1.44.0, copied
below since the Python package does not carry it.  docs/semconv.md gives the table.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv import schemas
from opentelemetry.semconv._incubating.attributes import messaging_attributes
from opentelemetry.semconv._incubating.metrics import messaging_metrics
from opentelemetry.semconv.attributes import error_attributes, server_attributes
from opentelemetry.trace import SpanKind

import eventscope.instrumentation as instrumentation_package
from eventscope import InMemoryBus, catalog, consumer, producer
from eventscope.catalog import Attr, Kind
from eventscope.instrumentation import configure, telemetry
from eventscope.instrumentation.brokers import amqp
from eventscope.instrumentation.brokers.kafka_delivery import client_source

# messaging.* is still incubating; server.* and error.* are stable (their incubating
# copies say "Deprecated in favor of stable").
ATTRIBUTE_MODULES = (messaging_attributes, server_attributes, error_attributes)

# model/messaging/common.yaml (attributes.messaging.common.minimal) and metrics.yaml
# (metric.messaging.attributes, metric.messaging.consumer.attributes), v1.44.0.
_MINIMAL = {"error.type", "server.address", "server.port", "messaging.operation.name"}
_METRIC = _MINIMAL | {
    "messaging.system",
    "messaging.destination.partition.id",
    "messaging.destination.name",
    "messaging.destination.template",
}
_CONSUMER = _METRIC | {
    "messaging.consumer.group.name",
    "messaging.destination.subscription.name",
}
ALLOWED_ON_METRIC = {
    "messaging.client.operation.duration": _CONSUMER | {"messaging.operation.type"},
    "messaging.process.duration": _CONSUMER,
    "messaging.client.sent.messages": _METRIC,
    "messaging.client.consumed.messages": _CONSUMER,
}
REQUIRED_ON_METRIC = {"messaging.system", "messaging.operation.name"}
SEMCONV_METRICS = [m for m in catalog.METRICS if not m.name.startswith("eventscope.")]
ATTRIBUTE_NAME = re.compile(r"(messaging|server|network|error)\.[a-z_.]+")


def _constants(module: Any) -> dict[str, str]:
    """The attribute names a semconv module defines, with their docstrings."""
    tree = ast.parse(Path(inspect.getfile(module)).read_text())
    found: dict[str, str] = {}
    body = tree.body
    for node, after in zip(body, [*body[1:], None], strict=True):
        if isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Constant):
            value = node.value.value
            doc = ""
            if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                doc = str(after.value.value)
            if isinstance(value, str):
                found[value] = doc.strip()
    return found


DEFINED = {name: doc for module in ATTRIBUTE_MODULES for name, doc in _constants(module).items()}


def _semconv(name: str) -> None:
    assert name in DEFINED, f"{name} is not a semconv attribute: use the eventscope. prefix"
    assert not DEFINED[name].startswith("Deprecated"), f"{name}: {DEFINED[name]}"


def test_the_catalog_pins_a_version_the_installed_conventions_know() -> None:
    assert catalog.SEMCONV_VERSION == "1.44.0"
    assert catalog.SEMCONV_SCHEMA_URL in {s.value for s in schemas.Schemas}


class _Meter:
    """Records what a semconv ``create_*`` function asks a meter for."""

    def __init__(self) -> None:
        self.made: tuple[Kind, str, str] | None = None

    def create_counter(self, name: str, unit: str = "", description: str = "") -> None:
        self.made = (Kind.COUNTER, name, unit)

    def create_histogram(self, name: str, unit: str = "", description: str = "", **_: Any):
        self.made = (Kind.HISTOGRAM, name, unit)

    def create_up_down_counter(self, name: str, unit: str = "", description: str = "") -> None:
        self.made = (Kind.UP_DOWN_COUNTER, name, unit)


@pytest.mark.parametrize("metric", SEMCONV_METRICS, ids=lambda m: m.name)
def test_a_semconv_metric_has_the_conventions_name_unit_and_kind(metric: catalog.Metric) -> None:
    constant = metric.name.upper().replace(".", "_")
    assert getattr(messaging_metrics, constant) == metric.name
    meter = _Meter()
    getattr(messaging_metrics, f"create_{constant.lower()}")(meter)
    assert meter.made == (metric.kind, metric.name, metric.unit)
    doc = inspect.getsource(messaging_metrics).split(f'{constant}: Final = "{metric.name}"')[1]
    assert not doc.lstrip().lstrip('"').lstrip().startswith("Deprecated")


@pytest.mark.parametrize("metric", SEMCONV_METRICS, ids=lambda m: m.name)
def test_a_semconv_metric_carries_only_attributes_the_conventions_give_it(
    metric: catalog.Metric,
) -> None:
    assert set(metric.otel_attributes) <= ALLOWED_ON_METRIC[metric.name]
    assert set(metric.labels) >= REQUIRED_ON_METRIC
    for name in metric.otel_attributes:
        _semconv(name)


def test_every_attribute_outside_the_eventscope_prefix_is_a_current_semconv_one() -> None:
    names = [v for k, v in vars(Attr).items() if not k.startswith("_") and isinstance(v, str)]
    assert names
    for name in names:
        if not name.startswith("eventscope."):
            _semconv(name)


def test_the_broker_integrations_name_no_attribute_the_conventions_do_not_define() -> None:
    """Every attribute-like string constant of the instrumentation modules."""
    checked = 0
    for info in pkgutil.walk_packages(
        instrumentation_package.__path__, instrumentation_package.__name__ + "."
    ):
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # a client library this environment lacks
            continue
        for value in vars(module).values():
            if isinstance(value, str) and ATTRIBUTE_NAME.fullmatch(value):
                _semconv(value)
                checked += 1
    assert checked >= 5  # routing key, delivery tag, Kafka offset, key, tombstone


def test_spans_and_metrics_of_a_run_follow_the_conventions() -> None:
    """Names ``{operation} {destination}``, kinds, and every attribute set."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    configuration = configure("semconv", tracer_provider=provider, set_global=False, otlp=False)
    try:
        bus = InMemoryBus()

        @consumer("orders", group="billing")
        def bill(message) -> None:
            pass

        @producer("orders", system="memory")
        def send(headers) -> None:
            bus.publish("orders", b"order", headers=headers)

        bus.subscribe("orders", "billing", bill)
        send()
        bus.dispatch()
        spans = exporter.get_finished_spans()
        assert {s.kind for s in spans} == {SpanKind.PRODUCER, SpanKind.CONSUMER}
        for span in spans:
            attributes = span.attributes or {}
            operation = attributes[Attr.OPERATION_NAME]
            assert span.name == f"{operation} {attributes[Attr.DESTINATION]}"
            assert attributes[Attr.OPERATION_TYPE] == operation  # send, process
            assert span.kind is (SpanKind.PRODUCER if operation == "send" else SpanKind.CONSUMER)
            for name in attributes:
                if not name.startswith("eventscope."):
                    _semconv(name)
    finally:
        configuration.shutdown()
        telemetry.reset()


@pytest.mark.parametrize(
    ("exchange", "routing_key", "queue", "send", "process"),
    [
        # The examples of model/messaging/rabbitmq.yaml (v1.44.0), and its rules.
        (
            "direct_logs",
            "warning",
            "my_queue",
            "direct_logs:warning",
            "direct_logs:warning:my_queue",
        ),
        ("direct_logs", "warning", "warning", "direct_logs:warning", "direct_logs:warning"),
        ("logs", "", "", "logs", "logs"),
        ("", "", "", "amq.default", "amq.default"),
        ("", "billing", "billing", "billing", "billing"),  # the default exchange
    ],
)
def test_rabbitmq_destinations_follow_the_rabbitmq_conventions(
    exchange: str, routing_key: str, queue: str, send: str, process: str
) -> None:
    assert amqp.send_destination(exchange, routing_key) == send
    assert amqp.process_destination(exchange, routing_key, queue) == process


@pytest.mark.parametrize(
    ("servers", "client_id", "source"),
    [
        (
            "broker-1:9092,broker-2:9092",
            "orders-api",
            (
                ("server.address", "broker-1"),
                ("server.port", 9092),
                ("messaging.client.id", "orders-api"),
            ),
        ),
        (["SASL_SSL://[::1]:9093"], None, (("server.address", "::1"), ("server.port", 9093))),
        ("kafka", None, (("server.address", "kafka"),)),
        (None, None, ()),
    ],
)
def test_a_kafka_clients_source_is_its_first_bootstrap_server(
    servers: Any, client_id: str | None, source: tuple
) -> None:
    assert client_source(servers, client_id) == source
