"""A service of three destinations in three formats, on every broker eventscope knows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ORDER_JSON = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {"order_id": {"type": "string"}},
    "required": ["order_id"],
}
PAYMENT_AVRO = {
    "type": "record",
    "name": "PaymentCaptured",
    "namespace": "acme.payments",
    "fields": [{"name": "payment_id", "type": "string"}, {"name": "amount", "type": "long"}],
}
SHIPMENT_PROTO = """syntax = "proto3";
package acme.shipping;
message ShipmentSent { string shipment_id = 1; repeated string items = 2; }
"""
CONFIG = """
name = "shop"
destinations = ["orders", "payments", "shipments"]
consumer_groups = ["billing"]

[asyncapi]
title = "shop-service"
version = "2.1.0"
schemas = "schemas"
schema_registry_url = "http://registry:8081"
max_attempts = 5
sends = ["orders", "shipments"]

[asyncapi.receives]
payments = ["billing", "audit"]

[asyncapi.servers.kafka]
host = "kafka:9092"
protocol = "kafka"
[asyncapi.servers.rabbitmq]
host = "rabbitmq:5672"
protocol = "amqp"
[asyncapi.servers.nats]
host = "nats:4222"
protocol = "nats"
[asyncapi.servers.redis]
host = "redis:6379"
protocol = "redis"
[asyncapi.servers.sqs]
host = "sqs.eu-west-1.amazonaws.com"
protocol = "sqs"
"""


@pytest.fixture
def service(tmp_path: Path) -> Path:
    """``eventscope.toml`` of the service, with its schemas directory next to it."""
    schemas = tmp_path / "schemas"
    for subject, file, text in (
        ("orders-value", "v1.json", json.dumps(ORDER_JSON)),
        ("payments-value", "v1.avsc", json.dumps(PAYMENT_AVRO)),
        ("shipments-value", "v1.proto", SHIPMENT_PROTO),
    ):
        (schemas / subject).mkdir(parents=True)
        (schemas / subject / file).write_text(text)
    (tmp_path / "eventscope.toml").write_text(CONFIG)
    return tmp_path / "eventscope.toml"


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.import_plugin("pytester")  # the drift guard runs whole sessions
