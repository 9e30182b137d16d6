"""In-service lag collection: ``configure(...).watch()`` and ``watch_lag()``.

What a service sees on its own ``/metrics``: the lag its collector read, and, when the
broker stops answering, ``eventscope_lag_target_up 0`` and a growing error counter (so
the generated exporter-down alert fires) instead of lag series that quietly vanish.
Refreshes are driven by hand (the thread's interval is an hour): no timing in tests.
"""

from __future__ import annotations

import logging
import urllib.request

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from eventscope import InMemoryBus
from eventscope.instrumentation import configure, telemetry, watch_lag
from eventscope.lag.collector import CollectorError, Snapshot
from eventscope.lag.readings import LagReading

HOUR = 3600.0


class Broker:
    """A lag collector whose broker answers until told to fail."""

    system = "rabbitmq"

    def __init__(self) -> None:
        self.failure: Exception | None = None
        self.closed = False

    def collect(self) -> Snapshot:
        if self.failure is not None:
            raise self.failure
        return Snapshot([LagReading("rabbitmq", "payments", "payments-q", "", 7)])

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def service():
    """A configured service serving /metrics over HTTP, as in production."""
    registry = CollectorRegistry()
    configuration = configure("payments", registry=registry, metrics_port=0, otlp=False)
    yield configuration
    configuration.shutdown()
    telemetry.reset()


def scrape(configuration) -> dict[tuple[str, frozenset], float]:
    url = f"http://127.0.0.1:{configuration.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float | None:
    for (sample, sample_labels), number in samples.items():
        if sample == name and set(labels.items()) <= sample_labels:
            return number
    return None


def test_a_watched_collector_exports_lag_and_target_health(service) -> None:
    watch = service.watch(Broker(), interval=HOUR, target="payments-rabbitmq")
    samples = scrape(service)
    group = {"messaging_consumer_group_name": "payments-q"}
    assert value(samples, "eventscope_consumer_lag_messages", **group) == 7
    target = {"eventscope_lag_target": "payments-rabbitmq", "messaging_system": "rabbitmq"}
    assert value(samples, "eventscope_lag_target_up", **target) == 1
    assert value(samples, "eventscope_lag_collection_duration_seconds", **target) is not None
    assert watch is not None and watch.target == "payments-rabbitmq"


def test_a_broker_that_stops_answering_is_target_down_with_errors_not_zero_lag(
    service, caplog: pytest.LogCaptureFixture
) -> None:
    broker = Broker()
    watch = service.watch(broker, interval=HOUR)
    broker.failure = CollectorError("vhost 'payments' does not exist")
    with caplog.at_level(logging.WARNING, logger="eventscope.lag"):
        watch.refresh()
        watch.refresh()
    samples = scrape(service)
    target = {"eventscope_lag_target": "rabbitmq"}
    assert value(samples, "eventscope_lag_target_up", **target) == 0
    errors = value(samples, "eventscope_lag_collection_errors_total", error_type="unreachable")
    assert errors == 2
    assert value(samples, "eventscope_consumer_lag_messages") is None
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == ["lag target rabbitmq (rabbitmq) down: vhost 'payments' does not exist"]

    broker.failure = None
    watch.refresh()
    samples = scrape(service)
    assert value(samples, "eventscope_lag_target_up", **target) == 1
    assert value(samples, "eventscope_lag_collection_errors_total", **target) == 2
    assert value(samples, "eventscope_consumer_lag_messages") == 7


def test_a_collector_bug_counts_as_an_error_and_the_watch_goes_on(service) -> None:
    broker = Broker()
    watch = service.watch(broker, interval=HOUR)
    broker.failure = KeyError("messages_ready")
    watch.refresh()
    samples = scrape(service)
    assert value(samples, "eventscope_lag_target_up") == 0
    assert value(samples, "eventscope_lag_collection_errors_total", error_type="KeyError") == 1


def test_something_that_is_not_a_collector_is_refused_at_the_call(service) -> None:
    with pytest.raises(TypeError, match=r"watch\(\) takes a lag collector .* not str"):
        service.watch("amqp://guest:guest@127.0.0.1:5672/")
    with pytest.raises(TypeError, match="watch_lag"):
        watch_lag(object())
    scrape(service)  # /metrics still answers 200


def test_a_source_that_raises_costs_only_its_own_series(service, caplog) -> None:
    class Broken:
        def lag_readings(self):
            raise RuntimeError("boom")

        def dead_letter_depths(self):
            return []

    bus = InMemoryBus()
    bus.publish("orders", {"n": 1})
    bus.subscribe("orders", "billing", lambda message: None)
    service.watch(Broken())
    service.watch(bus)
    with caplog.at_level(logging.WARNING, logger="eventscope.lag"):
        samples = scrape(service)
        scrape(service)
    assert value(samples, "eventscope_consumer_lag_messages", messaging_system="memory") == 1
    assert len([r for r in caplog.records if "Broken" in r.getMessage()]) == 1


def test_shutdown_stops_the_watch_and_closes_the_collector() -> None:
    broker = Broker()
    configuration = configure("payments", registry=CollectorRegistry(), otlp=False)
    watch = configuration.watch(broker, interval=HOUR)
    configuration.shutdown()
    telemetry.reset()
    assert broker.closed and not watch._thread.is_alive()


def test_watch_lag_exports_health_through_otlp_too() -> None:
    reader = InMemoryMetricReader()
    configuration = configure(
        "payments", prometheus=False, meter_provider=MeterProvider(metric_readers=[reader])
    )
    broker = Broker()
    watch = watch_lag(broker, interval=HOUR, target="payments-rabbitmq")
    broker.failure = CollectorError("connection refused")
    watch.refresh()
    try:
        data = reader.get_metrics_data()
        points = {
            metric.name: [(dict(p.attributes), p.value) for p in metric.data.data_points]
            for rm in data.resource_metrics
            for sm in rm.scope_metrics
            for metric in sm.metrics
        }
        target = {"eventscope.lag.target": "payments-rabbitmq", "messaging.system": "rabbitmq"}
        assert points["eventscope.lag.target.up"] == [(target, 0)]
        assert points["eventscope.lag.collection.errors"] == [
            ({**target, "error.type": "unreachable"}, 1)
        ]
    finally:
        watch.stop()
        configuration.shutdown()
        telemetry.reset()
