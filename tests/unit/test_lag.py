"""Lag configuration, the standalone exporter and in-process watching (in-memory bus).

The broker collectors have their own integration tests against the real brokers;
here the in-memory bus is the collector, and two small stand-ins play a broker that
refuses connections and one that hangs.
"""

from __future__ import annotations

import threading
import time

import pytest
from prometheus_client import CollectorRegistry

from eventscope import InMemoryBus
from eventscope.errors import UsageError
from eventscope.instrumentation import watch_lag
from eventscope.lag import (
    CollectorError,
    LagExporter,
    Snapshot,
    load_config,
)
from eventscope.lag.command import render_table
from eventscope.lag.config import parse_config
from tests.conftest import Recorded


def _bus_with_lag() -> InMemoryBus:
    bus = InMemoryBus(partitions=2)
    bus.subscribe("orders", "billing", lambda m: None)
    for i in range(10):
        bus.publish("orders", i, key=i)
    bus.dispatch(limit=4)
    return bus


class _Refusing:
    system = "kafka"

    def collect(self) -> Snapshot:
        raise CollectorError("cannot connect to 127.0.0.1:1: connection refused")

    def close(self) -> None:
        pass


class _Hanging:
    system = "redis"

    def __init__(self) -> None:
        self.release = threading.Event()

    def collect(self) -> Snapshot:
        self.release.wait(10)
        return Snapshot()

    def close(self) -> None:
        self.release.set()


def _samples(registry: CollectorRegistry) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in registry.collect()
        for s in family.samples
    }


def test_exporter_reports_lag_and_healthy_targets() -> None:
    bus = _bus_with_lag()
    exporter = LagExporter({"memory": bus}, scrape_timeout=2)
    registry = CollectorRegistry()
    registry.register(exporter)
    lag = sum(
        v
        for (name, _), v in _samples(registry).items()
        if name == "eventscope_consumer_lag_messages"
    )
    assert lag == bus.lag("billing", "orders") == 6
    assert (
        registry.get_sample_value(
            "eventscope_lag_target_up",
            {"eventscope_lag_target": "memory", "messaging_system": "memory"},
        )
        == 1
    )
    exporter.close()


def test_a_broker_that_is_down_is_an_error_never_zero_lag(caplog) -> None:
    exporter = LagExporter({"down": _Refusing(), "memory": _bus_with_lag()}, scrape_timeout=2)
    registry = CollectorRegistry()
    registry.register(exporter)
    exporter.scrape()
    samples = _samples(registry)  # the second scrape
    labels = {"eventscope_lag_target": "down", "messaging_system": "kafka"}
    assert samples[("eventscope_lag_target_up", frozenset(labels.items()))] == 0
    errors = {**labels, "error_type": "unreachable"}
    assert samples[("eventscope_lag_collection_errors_total", frozenset(errors.items()))] == 2
    lag_systems = {
        dict(labels)["messaging_system"]
        for (name, labels), _ in samples.items()
        if name == "eventscope_consumer_lag_messages"
    }
    assert lag_systems == {"memory"}  # the failed target exports no lag series at all
    warnings = [r.getMessage() for r in caplog.records if "lag target down" in r.getMessage()]
    assert warnings == [
        "lag target down (kafka): cannot connect to 127.0.0.1:1: connection refused"
    ]
    exporter.close()


def test_a_hanging_broker_times_out_without_holding_the_scrape() -> None:
    hanging = _Hanging()
    exporter = LagExporter({"slow": hanging, "memory": _bus_with_lag()}, scrape_timeout=0.2)
    outcomes = exporter.scrape()
    assert outcomes["slow"].error_type == "timeout"
    assert outcomes["memory"].error_type is None
    second = exporter.scrape()  # the first collection is still running: not asked twice
    assert second["slow"].error_type == "timeout"
    exporter.close()


def test_watch_lag_exports_in_process(recorded: Recorded) -> None:
    bus = _bus_with_lag()
    watch = watch_lag(bus, interval=0.05)
    try:
        assert recorded.value("eventscope_consumer_lag_messages") == 6
        bus.dispatch()
        deadline = time.monotonic() + 5
        while recorded.value("eventscope_consumer_lag_messages") != 0:
            assert time.monotonic() < deadline, "the watch thread did not refresh"
            time.sleep(0.02)
        assert recorded.value("eventscope_consumer_position") == 10
    finally:
        watch.stop()


def test_table_lists_partitions_and_dead_letters() -> None:
    bus = _bus_with_lag()
    table = render_table(bus.collect())
    lines = table.splitlines()
    assert lines[0].split() == [
        "SYSTEM",
        "DESTINATION",
        "GROUP",
        "PARTITION",
        "LAG",
        "LAG(S)",
        "PENDING",
        "POSITION",
    ]
    assert "DEAD LETTERS" in table and "orders.dlq" in table


def test_config_file_round_trip(tmp_path) -> None:
    path = tmp_path / "lag.yaml"
    path.write_text(
        "scrape_timeout: 2\n"
        "targets:\n"
        "  - {name: k, broker: kafka, bootstrap: '127.0.0.1:9092', groups: [billing]}\n"
        "  - {name: r, broker: redis, url: 'redis://127.0.0.1:6379'}\n"
    )
    config = load_config(path)
    assert config.scrape_timeout == 2
    assert [(t.name, t.broker) for t in config.targets] == [("k", "kafka"), ("r", "redis")]
    assert config.targets[0].options == {"bootstrap": "127.0.0.1:9092", "groups": ["billing"]}


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ([], "lag.yaml: $: expected a mapping"),
        ({"targets": []}, "lag.yaml: targets: expected a non-empty list"),
        ({"targets": [{"name": "a", "broker": "kafak"}]}, "targets[0].broker: expected one of"),
        ({"targets": [{"broker": "kafka"}]}, "targets[0].name: expected a non-empty string"),
        (
            {"targets": [{"name": "a", "broker": "redis"}, {"name": "a", "broker": "nats"}]},
            "targets[1].name: 'a' is used by an earlier target",
        ),
        (
            {"targets": [{"name": "a", "broker": "nats", "groups": "billing"}]},
            "targets[0].groups: expected a list of names",
        ),
        (
            {"scrape_timeout": -1, "targets": [{"name": "a", "broker": "nats"}]},
            "scrape_timeout: expected a positive number",
        ),
        ({"target": []}, "target: unknown key"),
    ],
)
def test_config_mistakes_name_the_key(document: object, complaint: str) -> None:
    with pytest.raises(UsageError, match=None) as info:
        parse_config(document, "lag.yaml")
    assert complaint in str(info.value)


def test_invalid_yaml_names_the_line(tmp_path) -> None:
    path = tmp_path / "lag.yaml"
    path.write_text("targets:\n  - name: a\n    broker: [kafka\n")
    with pytest.raises(UsageError, match=r"lag.yaml: line \d+, column \d+: not valid YAML"):
        load_config(path)


def test_cli_errors_exit_2(tmp_path) -> None:
    from eventscope.cli import main

    bad = tmp_path / "lag.yaml"
    bad.write_text("targets: 3\n")
    assert main(["lag", "serve", "--config", str(bad)]) == 2
    assert main(["lag"]) == 2
    assert main(["lag", "--broker", "redis", "--option", "novalue"]) == 2
