"""confluent-kafka's own SchemaRegistryClient and serializers, unmodified, against the
registry: every REST path they use, and records through a real topic on Tansu.

The Protobuf serializer registers base64 ``FileDescriptorProto``s (and each imported
file as a reference under a subject of its own) and its deserializer reads schemas with
``format=serialized``: the two paths the old registry failed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from eventscope.registry import EmbeddedRegistry
from tests.integration.kafka.helpers import config, create_topics, read_all, unique

pytest.importorskip("fastavro")

FIELD = descriptor_pb2.FieldDescriptorProto


@pytest.fixture
def registry() -> Iterator[EmbeddedRegistry]:
    with EmbeddedRegistry() as running:
        yield running


@pytest.fixture
def client(registry: EmbeddedRegistry) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": registry.url})


def avro(name: str, *fields: dict[str, Any]) -> str:
    return json.dumps({"type": "record", "name": name, "fields": [*fields]})


def code(call: Any) -> int:
    with pytest.raises(SchemaRegistryError) as refused:
        call()
    return refused.value.error_code


# -- REST paths -----------------------------------------------------------------------


def test_deletes_listings_and_pagination(
    registry: EmbeddedRegistry, client: SchemaRegistryClient
) -> None:
    first = client.register_schema("orders-value", Schema(avro("A"), "AVRO"))
    client.register_schema(
        "orders-value",
        Schema(avro("A", {"name": "x", "type": ["null", "int"], "default": None}), "AVRO"),
    )
    client.register_schema("other-value", Schema('"string"', "AVRO"))

    assert client.get_subjects(subject_prefix="orders") == ["orders-value"]
    assert client.get_subjects(offset=1, limit=1) == ["other-value"]
    assert client.get_subjects_by_schema_id(first) == ["orders-value"]
    assert client.get_contexts() == ["."]

    assert client.delete_version("orders-value", 2) == 2
    assert client.get_versions("orders-value") == [1]
    assert client.get_versions("orders-value", deleted=True) == [1, 2]
    assert client.get_version("orders-value", 2, deleted=True).version == 2
    uncached = SchemaRegistryClient({"url": registry.url})  # the client caches versions
    assert code(lambda: uncached.get_version("orders-value", 2)) == 40402
    assert code(lambda: client.delete_version("orders-value", 2)) == 40406
    assert code(lambda: client.delete_version("orders-value", 1, permanent=True)) == 40407
    assert client.delete_version("orders-value", 2, permanent=True) == 2
    assert client.get_versions("orders-value", deleted=True) == [1]

    client.delete_subject("other-value")
    assert client.get_subjects() == ["orders-value"]
    assert client.get_subjects(deleted=True) == ["orders-value", "other-value"]


def test_normalize_gives_equivalent_schemas_one_id(client: SchemaRegistryClient) -> None:
    plain = client.register_schema("a-value", Schema('"string"', "AVRO"), normalize_schemas=True)
    spelled = Schema('{"type": "string"}', "AVRO")
    assert client.register_schema("b-value", spelled, normalize_schemas=True) == plain
    record = {
        "type": "record",
        "name": "R",
        "namespace": "acme",
        "fields": [{"type": "int", "name": "n"}],
    }
    reordered = dict(reversed(list(record.items())))
    one = client.register_schema(
        "c-value", Schema(json.dumps(record), "AVRO"), normalize_schemas=True
    )
    other = Schema(json.dumps(reordered), "AVRO")
    assert client.register_schema("d-value", other, normalize_schemas=True) == one
    assert client.register_schema("e-value", other) != one  # without normalize: as written


def test_modes_refuse_writes_and_import_keeps_ids(
    registry: EmbeddedRegistry, client: SchemaRegistryClient
) -> None:
    client.register_schema("orders-value", Schema(avro("A"), "AVRO"))
    assert client.update_mode("orders-value", "READONLY") == "READONLY"
    assert code(lambda: client.register_schema("orders-value", Schema(avro("B"), "AVRO"))) == 42205
    assert code(lambda: client.delete_subject("orders-value")) == 42205
    assert client.get_mode("orders-value") == "READONLY"
    assert client.delete_mode("orders-value") == "READONLY"
    assert code(lambda: client.update_global_mode("IMPORT")) == 42205  # not empty
    assert client.update_global_mode("IMPORT", force=True) == "IMPORT"

    imported = registry.store.register("copied-value", avro("C"), "AVRO", schema_id=1000, version=7)
    assert (imported.id, imported.version) == (1000, 7)
    client.update_global_mode("READWRITE")
    assert client.get_version("copied-value", 7).schema_id == 1000
    assert client.register_schema("new-value", Schema(avro("D"), "AVRO")) == 1001  # after it


def test_references_and_referencedby(
    registry: EmbeddedRegistry, client: SchemaRegistryClient
) -> None:
    from confluent_kafka.schema_registry import SchemaReference

    money = avro("Money", {"name": "cents", "type": "long"})
    client.register_schema("Money", Schema(money, "AVRO"))
    order = avro("Order", {"name": "total", "type": "Money"})
    order_id = client.register_schema(
        "orders-value", Schema(order, "AVRO", [SchemaReference("Money", "Money", 1)])
    )
    from eventscope.registry import RegistryClient

    raw = RegistryClient(registry.url)
    assert raw._request("GET", "/subjects/Money/versions/1/referencedby") == [order_id]
    assert code(lambda: client.delete_version("Money", 1)) == 42206


# -- serializers through Tansu ------------------------------------------------------


def round_trip(
    bootstrap: str,
    serialize: Any,
    deserialize: Any,
    values: list[Any],
    topic: str | None = None,
    before: int = 0,
) -> list[Any]:
    """``values`` serialized, produced to ``topic`` (a new one by default, else one
    holding ``before`` records already), read back and deserialized."""
    if topic is None:
        topic = unique("registry")
        create_topics(bootstrap, {topic: 1})
    producer = Producer(config(bootstrap))
    context = SerializationContext(topic, MessageField.VALUE)
    for value in values:
        producer.produce(topic, serialize(value, context))
    producer.flush(10)
    records = read_all(bootstrap, topic, before + len(values))[before:]
    return [deserialize(record.value(), context) for record in records]


@pytest.mark.kafka
@pytest.mark.parametrize("auto_register", [True, False])
def test_avro_and_json_serializers_round_trip(
    bootstrap: str, client: SchemaRegistryClient, auto_register: bool
) -> None:
    schema = avro("Order", {"name": "sku", "type": "string"})
    settings = {"auto.register.schemas": auto_register, "use.latest.version": not auto_register}
    subject_settings = {"subject.name.strategy": lambda ctx, name: "orders-value"}
    if not auto_register:
        client.register_schema("orders-value", Schema(schema, "AVRO"))
    serializer = AvroSerializer(client, schema, conf={**settings, **subject_settings})
    assert round_trip(bootstrap, serializer, AvroDeserializer(client), [{"sku": "a"}]) == [
        {"sku": "a"}
    ]

    document = json.dumps({"type": "object", "properties": {"sku": {"type": "string"}}})
    if not auto_register:
        client.register_schema("docs-value", Schema(document, "JSON"))
    json_settings = {**settings, "subject.name.strategy": lambda ctx, name: "docs-value"}
    serializer = JSONSerializer(document, client, conf=json_settings)
    deserializer = JSONDeserializer(None, schema_registry_client=client)
    assert round_trip(bootstrap, serializer, deserializer, [{"sku": "b"}]) == [{"sku": "b"}]


def proto_classes() -> tuple[Any, Any]:
    """A Payment message importing a Money message from a file of its own, and
    ``google/protobuf/timestamp.proto``: built as descriptors, as protoc would, under
    names of this test's own (the default descriptor pool is process-wide)."""
    tag = uuid.uuid4().hex[:8]
    package = f"acme{tag}"
    money = descriptor_pb2.FileDescriptorProto(
        name=f"acme{tag}/money.proto", package=package, syntax="proto3"
    )
    money.message_type.add(name="Money").field.add(
        name="cents", number=1, type=FIELD.TYPE_INT64, label=FIELD.LABEL_OPTIONAL
    )
    payment = descriptor_pb2.FileDescriptorProto(
        name=f"acme{tag}/payment.proto",
        package=package,
        syntax="proto3",
        dependency=[money.name, "google/protobuf/timestamp.proto"],
    )
    message = payment.message_type.add(name="Payment")
    message.field.add(name="id", number=1, type=FIELD.TYPE_STRING, label=FIELD.LABEL_OPTIONAL)
    message.field.add(
        name="total",
        number=2,
        type=FIELD.TYPE_MESSAGE,
        label=FIELD.LABEL_OPTIONAL,
        type_name=f".{package}.Money",
    )
    message.field.add(
        name="at",
        number=3,
        type=FIELD.TYPE_MESSAGE,
        label=FIELD.LABEL_OPTIONAL,
        type_name=".google.protobuf.Timestamp",
    )
    from google.protobuf import timestamp_pb2  # noqa: F401  (into the default pool)

    pool = descriptor_pool.Default()
    pool.Add(money)
    pool.Add(payment)
    payment_class = message_factory.GetMessageClass(
        pool.FindMessageTypeByName(f"{package}.Payment")
    )
    money_class = message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.Money"))
    return payment_class, money_class


@pytest.mark.kafka
def test_protobuf_serializer_registers_descriptors_and_round_trips(
    bootstrap: str, registry: EmbeddedRegistry, client: SchemaRegistryClient
) -> None:
    payment_class, money_class = proto_classes()
    value = payment_class(id="p-1", total=money_class(cents=250))
    value.at.seconds = 1_700_000_000
    topic = unique("payments")
    create_topics(bootstrap, {topic: 1})
    serializer = ProtobufSerializer(payment_class, client, {"use.deprecated.format": False})
    deserializer = ProtobufDeserializer(payment_class, {"use.deprecated.format": False}, client)
    assert round_trip(bootstrap, serializer, deserializer, [value], topic) == [value]
    assert len(client.get_subjects()) == 2  # the value subject and the Money file's
    money_subject = next(name for name in client.get_subjects() if name.endswith("money.proto"))
    shown = SchemaRegistryClient({"url": registry.url}).get_latest_version(money_subject)
    assert "message Money {" in shown.schema.schema_str  # registered as a descriptor

    # A reader that only knows the registry: the writer's schema by id, serialized.
    latest = ProtobufSerializer(
        payment_class,
        client,
        {
            "use.deprecated.format": False,
            "auto.register.schemas": False,
            "use.latest.version": True,
        },
    )
    second = payment_class(id="p-2", total=money_class(cents=99))
    assert round_trip(bootstrap, latest, deserializer, [second], topic, before=1) == [second]


@pytest.mark.kafka
def test_protobuf_registered_as_text_is_read_through_its_descriptor(
    bootstrap: str, client: SchemaRegistryClient
) -> None:
    tag = uuid.uuid4().hex[:8]
    text = f'syntax = "proto3";\npackage text{tag};\nmessage Note {{\n  string body = 1;\n}}\n'
    file = descriptor_pb2.FileDescriptorProto(
        name=f"text{tag}.proto", package=f"text{tag}", syntax="proto3"
    )
    file.message_type.add(name="Note").field.add(
        name="body", number=1, type=FIELD.TYPE_STRING, label=FIELD.LABEL_OPTIONAL
    )
    descriptor_pool.Default().Add(file)
    note_class = message_factory.GetMessageClass(
        descriptor_pool.Default().FindMessageTypeByName(f"text{tag}.Note")
    )

    subject = unique("notes") + "-value"
    client.register_schema(subject, Schema(text, "PROTOBUF"))
    settings = {
        "use.deprecated.format": False,
        "auto.register.schemas": False,
        "use.latest.version": True,
        "subject.name.strategy": lambda ctx, name: subject,
    }
    serializer = ProtobufSerializer(note_class, client, settings)
    deserializer = ProtobufDeserializer(note_class, {"use.deprecated.format": False}, client)
    assert round_trip(bootstrap, serializer, deserializer, [note_class(body="hi")]) == [
        note_class(body="hi")
    ]
    assert client.get_latest_version(subject, fmt="serialized").schema.schema_str != text
