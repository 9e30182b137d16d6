"""The catalog is the one source of metric names: what is recorded must match it."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client import CollectorRegistry

from eventscope import InMemoryBus, catalog, consumer, producer
from eventscope.catalog import Kind
from eventscope.instrumentation import configure, telemetry

EXPECTED_PROMETHEUS_NAMES = {
    "messaging_client_operation_duration_seconds",
    "messaging_client_sent_messages_total",
    "messaging_client_consumed_messages_total",
    "messaging_process_duration_seconds",
    "eventscope_process_outcomes_total",
    "eventscope_end_to_end_duration_seconds",
    "eventscope_consumer_in_flight",
    "eventscope_dead_letter_messages_total",
    "eventscope_consumer_invalid_headers_total",
    "eventscope_dead_letter_depth",
    "eventscope_consumer_lag_messages",
    "eventscope_consumer_lag_duration_seconds",
    "eventscope_consumer_pending",
    "eventscope_consumer_position",
    "eventscope_consumer_members",
    "eventscope_consumer_redelivered",
    "eventscope_lag_target_up",
    "eventscope_lag_collection_errors_total",
    "eventscope_lag_collection_duration_seconds",
    "eventscope_outbox_waiting",
    "eventscope_outbox_oldest_age_seconds",
    "eventscope_outbox_relay_duration_seconds",
    "eventscope_outbox_relay_failures_total",
}
# What a decorated run on the in-memory bus exports; pending and redelivery counts come
# from broker collectors, target health from the standalone lag exporter.
FROM_A_MEMORY_BUS_RUN = [
    m
    for m in catalog.METRICS
    if m.source == "instrumentation"
    or m
    in (
        catalog.CONSUMER_LAG,
        catalog.CONSUMER_LAG_DURATION,
        catalog.CONSUMER_POSITION,
        catalog.CONSUMER_MEMBERS,
        catalog.DEAD_LETTER_DEPTH,
    )
]


def test_prometheus_names_follow_the_translation_rules() -> None:
    assert {m.prometheus_name for m in catalog.METRICS} == EXPECTED_PROMETHEUS_NAMES


def test_names_are_semantic_conventions_or_prefixed() -> None:
    for metric in catalog.METRICS:
        assert metric.name.startswith(("messaging.", "eventscope.")), metric.name
        assert metric.name == metric.name.lower()
        if metric.kind is Kind.HISTOGRAM:
            assert metric.buckets and list(metric.buckets) == sorted(metric.buckets)


def test_labels_are_bounded() -> None:
    unbounded = {"messaging.message.id", "messaging.kafka.message.key", "eventscope.event_id"}
    for metric in catalog.METRICS:
        assert not unbounded & set(metric.labels), metric.name


def test_lookup_by_either_name() -> None:
    assert catalog.by_name("messaging.process.duration") is catalog.PROCESS_DURATION
    assert catalog.by_name("eventscope_consumer_lag_messages") is catalog.CONSUMER_LAG
    with pytest.raises(KeyError):
        catalog.by_name("nope")


def _exercise(bus: InMemoryBus) -> None:
    """Produce and consume with every outcome, so every metric has a series."""

    @producer("orders", system="memory")
    def send(value, headers=None):
        bus.publish("orders", value, headers=headers)

    @consumer(group="g", max_attempts=2, deduplicate=100)
    def handle(message, ctx):
        if message.value == "poison":
            raise ValueError
        if message.value == "dup":
            ctx.duplicate()

    bus.subscribe("orders", "g", handle)
    for value in ("ok", "poison", "dup"):
        send(value)
    bus.publish("orders", "forged", headers={"eventscope-published-at": "1"})
    bus.dispatch()


def test_every_catalog_metric_is_exported_to_prometheus_with_its_labels() -> None:
    registry = CollectorRegistry()
    configuration = configure(registry=registry, set_global=False, otlp=False)
    try:
        bus = InMemoryBus()
        configuration.watch(bus)
        _exercise(bus)
        exported = {}
        for family in registry.collect():
            for sample in family.samples:
                if sample.name.endswith("_created"):
                    continue
                labels = set(sample.labels) - {"le"}
                exported.setdefault(sample.name, set()).update(labels)
        for metric in FROM_A_MEMORY_BUS_RUN:
            name = metric.series("_count" if metric.kind is Kind.HISTOGRAM else "")
            assert name in exported, f"{name} was not exported"
            assert exported[name] == set(metric.prometheus_labels), name
    finally:
        telemetry.reset()


def test_every_catalog_metric_is_exported_to_opentelemetry_with_its_unit() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    configuration = configure(
        prometheus=False, meter_provider=provider, set_global=False, otlp=False
    )
    try:
        bus = InMemoryBus()
        configuration.watch(bus)
        _exercise(bus)
        data = reader.get_metrics_data()
        exported = {
            m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
        }
        for metric in FROM_A_MEMORY_BUS_RUN:
            assert metric.name in exported, metric.name
            assert exported[metric.name].unit == metric.unit
            for point in exported[metric.name].data.data_points:
                assert set(point.attributes) <= set(metric.otel_attributes), metric.name
    finally:
        telemetry.reset()


def test_readme_documents_exactly_the_catalog() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    documented = {
        line.split("`")[1]
        for line in readme.splitlines()
        if line.startswith(("| `eventscope_", "| `messaging_"))
    }
    assert documented == EXPECTED_PROMETHEUS_NAMES


def test_what_a_system_cannot_report_is_a_lag_metric_of_a_known_system() -> None:
    """Only the broker-read metrics vary by system; the decorators' are the same everywhere."""
    from eventscope.catalog import NOT_REPORTED, SYSTEMS, not_reported_by

    names = {s.name for s in SYSTEMS}
    for (system, metric), why in NOT_REPORTED.items():
        assert system in names and metric.source == "lag" and why
    assert set(not_reported_by(catalog.CONSUMER_REDELIVERED)) == {"kafka", "redis", "memory"}
    assert not_reported_by(catalog.CONSUMER_LAG) == {}
