"""``eventscope asyncapi``: what the document says, how drift is reported, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from eventscope.asyncapi import differences, service_document, to_yaml
from eventscope.cli import main
from eventscope.config import load_config
from tests.asyncapi.conftest import PAYMENT_AVRO, SHIPMENT_PROTO

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "contracts"


def test_the_committed_example_document_is_what_the_code_declares(capsys) -> None:
    """CI fails when examples/contracts/asyncapi.yaml drifts from its config and schemas."""
    code = main(
        [
            "asyncapi",
            "--config",
            str(EXAMPLE / "eventscope.toml"),
            "--check",
            str(EXAMPLE / "asyncapi.yaml"),
        ]
    )
    assert code == 0, capsys.readouterr().err + (
        "\nregenerate: cd examples/contracts && eventscope asyncapi --out asyncapi.yaml"
    )


def test_operations_carry_the_consumer_groups_and_the_brokers_bindings(service: Path) -> None:
    document = service_document(load_config(service))
    operations = document["operations"]

    assert list(operations) == [
        "send.orders",
        "send.shipments",
        "receive.payments.billing",
        "receive.payments.audit",
        "dead-letter.payments.billing.payments.dlq",
        "dead-letter.payments.audit.payments.dlq",
        "dead-letter.payments.billing.payments-dlq",
        "dead-letter.payments.audit.payments-dlq",
    ]
    audit = operations["receive.payments.audit"]
    assert audit["action"] == "receive"
    assert audit["x-eventscope-consumer-group"] == "audit"
    assert audit["bindings"]["kafka"]["groupId"] == {"type": "string", "enum": ["audit"]}
    assert audit["bindings"]["nats"]["queue"] == "audit"
    assert audit["bindings"]["sqs"]["queues"] == [{"name": "payments", "fifoQueue": False}]
    assert "redis" not in audit["bindings"]  # Redis bindings define no field
    assert operations["send.orders"]["messages"] == [
        {"$ref": "#/channels/orders/messages/orders-value"}
    ]


def test_dead_letter_channels_are_named_by_each_brokers_rule(service: Path) -> None:
    channels = service_document(load_config(service))["channels"]

    assert list(channels) == ["orders", "shipments", "payments", "payments.dlq", "payments-dlq"]
    assert [s["$ref"] for s in channels["payments-dlq"]["servers"]] == ["#/servers/sqs"]
    assert [s["$ref"] for s in channels["payments.dlq"]["servers"]] == [
        "#/servers/kafka",
        "#/servers/nats",
        "#/servers/rabbitmq",
        "#/servers/redis",
    ]
    assert channels["payments"]["bindings"]["sqs"]["queue"]["redrivePolicy"] == {
        "deadLetterQueue": {"name": "payments-dlq"},
        "maxReceiveCount": 5,
    }
    assert channels["payments"]["bindings"]["amqp"]["exchange"]["type"] == "fanout"
    assert channels["payments.dlq"]["messages"] == {
        "payments-value.dead-letter": {"$ref": "#/components/messages/payments-value.dead-letter"}
    }


def test_payloads_keep_their_format_and_messages_their_headers(service: Path) -> None:
    document = service_document(load_config(service))
    schemas = document["components"]["schemas"]
    messages = document["components"]["messages"]

    assert schemas["payments-value"] == {
        "schemaFormat": "application/vnd.apache.avro+json;version=1.9.0",
        "schema": PAYMENT_AVRO,
    }
    assert schemas["shipments-value"] == {
        "schemaFormat": "application/vnd.google.protobuf;version=3",
        "schema": SHIPMENT_PROTO,
    }
    assert schemas["orders-value"]["required"] == ["order_id"]  # JSON Schema: inline
    payment = messages["payments-value"]
    assert payment["payload"] == {"$ref": "#/components/schemas/payments-value"}
    assert payment["bindings"]["kafka"]["schemaIdLocation"] == "payload"
    assert payment["x-eventscope-schema-version"] == 1
    assert payment["headers"] == {"$ref": "#/components/schemas/eventscopeHeaders"}
    assert schemas["eventscopeHeaders"]["required"] == [
        "traceparent",
        "eventscope-event-id",
        "eventscope-published-at",
    ]
    dead = messages["payments-value.dead-letter"]
    assert dead["headers"] == {"$ref": "#/components/schemas/eventscopeDeadLetterHeaders"}
    assert document["servers"]["kafka"]["bindings"]["kafka"]["schemaRegistryUrl"] == (
        "http://registry:8081"
    )


def test_the_same_input_gives_the_same_bytes(service: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert main(["asyncapi", "--config", str(service), "--out", str(first)]) == 0
    assert main(["asyncapi", "--config", str(service), "--out", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert yaml.safe_load(first.read_text()) == service_document(load_config(service))


def test_drift_is_said_in_the_documents_terms(service: Path, tmp_path: Path, capsys) -> None:
    committed = tmp_path / "asyncapi.yaml"
    assert main(["asyncapi", "--config", str(service), "--out", str(committed)]) == 0
    text = service.read_text()
    service.write_text(
        text.replace('payments = ["billing", "audit"]', 'payments = ["billing"]').replace(
            'sends = ["orders", "shipments"]', 'sends = ["orders", "shipments", "refunds"]'
        )
    )
    (tmp_path / "schemas" / "refunds").mkdir()
    (tmp_path / "schemas" / "refunds" / "v1.json").write_text('{"type": "object"}')
    (tmp_path / "schemas" / "payments-value" / "v2.avsc").write_text(
        json.dumps({**PAYMENT_AVRO, "fields": PAYMENT_AVRO["fields"][:1]})
    )
    capsys.readouterr()

    code = main(["asyncapi", "--config", str(service), "--check", str(committed)])

    assert code == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{committed}: out of date with the code:",
        "  channel 'refunds' added",
        "  consumer group 'audit' receiving 'payments' is gone (operation "
        "'receive.payments.audit')",
        "  consumer group 'audit' dead-lettering to 'payments.dlq' is gone (operation "
        "'dead-letter.payments.audit.payments.dlq')",
        "  consumer group 'audit' dead-lettering to 'payments-dlq' is gone (operation "
        "'dead-letter.payments.audit.payments-dlq')",
        "  sending to 'refunds' is new (operation 'send.refunds')",
        "  message 'refunds' added (refunds v1)",
        "  message 'payments-value': payload schema version changed: payments-value v1 → "
        "payments-value v2",
        "  message 'payments-value.dead-letter': payload schema version changed: "
        "payments-value v1 → payments-value v2",
        f"regenerate it: eventscope asyncapi --out {committed}",
    ]


def test_a_change_of_no_named_kind_shows_the_yaml(service: Path) -> None:
    before = service_document(load_config(service))
    service.write_text(service.read_text().replace('host = "nats:4222"', 'host = "nats:4223"'))
    after = service_document(load_config(service))

    assert differences(before, after) == [
        "the document differs (--- committed, +++ generated now):",
        "  @@ -16,3 +16,3 @@",
        "     nats:",
        "  -    host: nats:4222",
        "  +    host: nats:4223",
        "       protocol: nats",
    ]
    assert differences(after, after) == []


def test_without_servers_the_in_memory_naming_applies(tmp_path: Path, service: Path) -> None:
    service.write_text(service.read_text().split("[asyncapi.servers.kafka]")[0])
    document = service_document(load_config(service))

    assert "servers" not in document
    assert list(document["channels"]) == ["orders", "shipments", "payments", "payments.dlq"]
    assert to_yaml(document).startswith("# Generated by `eventscope asyncapi`")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('schemas = "schemas"', 'schemas = "nowhere"'),
            "nowhere: not a directory",
        ),
        (
            ('max_attempts = 5', 'subject_name_strategy = "by-name"'),
            "eventscope.toml: asyncapi.subject_name_strategy: unknown subject name strategy "
            "'by-name' (known: topic, record, topic-record, TopicNameStrategy, "
            "RecordNameStrategy, TopicRecordNameStrategy)",
        ),
        (
            ('sends = ["orders", "shipments"]', 'sends = ["orders", "returns"]'),
            "eventscope.toml: no schema subject for destination 'returns': looked for "
            "'returns-value' or 'returns' (TopicNameStrategy) (subjects: orders-value, "
            "payments-value, shipments-value)",
        ),
        (
            ('protocol = "nats"', 'protocol = "mqtt"'),
            "eventscope.toml: asyncapi.servers.nats.protocol: must be one of kafka, amqp, nats, "
            "redis, sqs, not 'mqtt'",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(service: Path, capsys, edit, message) -> None:
    service.write_text(service.read_text().replace(*edit))

    code = main(["asyncapi", "--config", str(service)])

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("eventscope asyncapi: ") and message in err, err
    assert "Traceback" not in err


def test_a_check_against_a_file_that_is_not_a_document_is_a_usage_error(
    service: Path, tmp_path: Path, capsys
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("asyncapi: 3.0.0\nchannels: [\n")

    assert main(["asyncapi", "--config", str(service), "--check", str(broken)]) == 2
    assert f"{broken}: not valid YAML (line 3)" in capsys.readouterr().err
    assert main(["asyncapi", "--config", str(service), "--check", str(tmp_path / "no")]) == 2
    assert "no: cannot read: No such file or directory" in capsys.readouterr().err


def test_payloads_can_come_from_a_schema_registry(service: Path, capsys) -> None:
    from eventscope.registry import EmbeddedRegistry, RegistryClient
    from eventscope.schemas import Mode

    with EmbeddedRegistry() as registry:
        client = RegistryClient(registry.url)
        client.register("orders-value", {"type": "object"}, "JSON")
        client.register("payments-value", PAYMENT_AVRO, "AVRO")
        client.set_compatibility(Mode.NONE, "payments-value")
        client.register("payments-value", {**PAYMENT_AVRO, "fields": []}, "AVRO")
        client.register("shipments-value", SHIPMENT_PROTO, "PROTOBUF")

        code = main(["asyncapi", "--config", str(service), "--registry", registry.url])

    assert code == 0, capsys.readouterr().err
    document = yaml.safe_load(capsys.readouterr().out)
    payment = document["components"]["messages"]["payments-value"]
    assert payment["x-eventscope-schema-version"] == 2  # the registry's latest
    assert document["components"]["schemas"]["payments-value"]["schema"]["fields"] == []
    assert main(["asyncapi", "--config", str(service), "--registry", "ftp://x"]) == 2
    assert "not a registry URL: 'ftp://x'" in capsys.readouterr().err
