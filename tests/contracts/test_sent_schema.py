"""What the provider really sent, against its destination's schema: each format checked
the way its serializer would, subjects found by Confluent's subject name strategies,
schemas read from a schemas directory or from a registry over HTTP."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventscope.contracts.capture import CapturedMessage
from eventscope.contracts.schema_source import DirectorySource, RegistrySource
from eventscope.contracts.sent_check import check_sent
from eventscope.contracts.subject_names import SubjectNameStrategy, record_name
from eventscope.registry import EmbeddedRegistry, RegistryClient
from eventscope.schemas import load_schema_directory

ORDER_JSON = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "OrderPlaced",
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "quantity": {"type": "integer"}},
    "required": ["order_id", "quantity"],
    "additionalProperties": False,
}
ORDER_AVRO = {
    "type": "record",
    "name": "OrderPlaced",
    "namespace": "acme.orders",
    "fields": [
        {"name": "order_id", "type": "string"},
        {"name": "quantity", "type": "int"},
        {
            "name": "address",
            "type": {"type": "record", "name": "Address",
                     "fields": [{"name": "city", "type": "string"}]},
        },
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}  # fmt: skip
ORDER_PROTO = """syntax = "proto3";
package acme.orders;
message OrderPlaced {
  string order_id = 1;
  int32 quantity = 2;
  Address address = 3;
}
message Address { string city = 1; }
"""
GOOD = {"order_id": "o-1", "quantity": 2}
GOOD_AVRO = {"order_id": "o-1", "quantity": 2, "address": {"city": "Lyon"}}


def directory(root: Path, subjects: dict[str, tuple[str, str]]) -> DirectorySource:
    """A schemas directory with one version per subject: name → (file name, text)."""
    for name, (file, text) in subjects.items():
        (root / name).mkdir(parents=True)
        (root / name / file).write_text(text)
    return DirectorySource(load_schema_directory(root))


def sent(body, destination: str = "orders") -> CapturedMessage:
    return CapturedMessage(destination, body, {"traceparent": f"00-{'1' * 32}-{'2' * 16}-01"})


def problems(verdict) -> list[str]:
    assert verdict.unavailable is None, verdict.unavailable
    return [problem for _, found in verdict.results for problem in found]


def test_json_a_field_the_schema_forbids_is_named_with_its_path(tmp_path: Path) -> None:
    source = directory(tmp_path, {"orders-value": ("v1.json", json.dumps(ORDER_JSON))})

    assert check_sent(sent(GOOD), source).fits
    verdict = check_sent(sent({**GOOD, "coupon": "SAVE10"}), source)

    assert not verdict.fits
    assert [schema.label for schema, _ in verdict.results] == [
        f"orders-value v1 ({tmp_path / 'orders-value' / 'v1.json'})"
    ]
    assert problems(verdict) == [
        "$.coupon: not allowed by the schema (additionalProperties is false; it declares: "
        "order_id, quantity)"
    ]
    assert problems(check_sent(sent(json.dumps({**GOOD, "quantity": "2"}).encode()), source)) == [
        "$.quantity: '2' is not of type 'integer'"
    ]
    assert problems(check_sent(sent({"order_id": "o-1"}), source)) == [
        "$.quantity: required by the schema, missing"
    ]


def test_avro_is_checked_by_encoding_with_the_writer_schema(tmp_path: Path) -> None:
    source = directory(tmp_path, {"orders-value": ("v1.avsc", json.dumps(ORDER_AVRO))})

    assert check_sent(sent(GOOD_AVRO), source).fits  # the union field has a default
    assert problems(check_sent(sent({**GOOD_AVRO, "coupon": "x"}), source)) == [
        "$.coupon: not a field of OrderPlaced (it has: order_id, quantity, address, note)"
    ]
    nested = {**GOOD_AVRO, "address": {"city": "Lyon", "zip": "69001"}}
    assert problems(check_sent(sent(nested), source)) == [
        "$.address.zip: not a field of Address (it has: city)"
    ]
    assert problems(check_sent(sent({**GOOD_AVRO, "quantity": "2"}), source)) == [
        "acme.orders.OrderPlaced.quantity: '2' is not a valid int"
    ]


def test_avro_binary_bodies_are_decoded_after_the_confluent_header(tmp_path: Path) -> None:
    from fastavro import parse_schema, schemaless_writer

    source = directory(tmp_path, {"orders-value": ("v1.avsc", json.dumps(ORDER_AVRO))})
    encoded = io.BytesIO()
    schemaless_writer(encoded, parse_schema(ORDER_AVRO), GOOD_AVRO)
    wire = b"\x00" + struct.pack(">I", 7) + encoded.getvalue()

    assert check_sent(sent(wire), source).fits
    verdict = check_sent(sent(wire + b"\x02\x04"), source)
    assert problems(verdict) == ["$: 2 bytes left after decoding the record"]


def test_protobuf_is_checked_by_parsing_into_the_message_type(tmp_path: Path) -> None:
    source = directory(tmp_path, {"orders-value": ("v1.proto", ORDER_PROTO)})

    assert check_sent(sent({"order_id": "o-1", "quantity": 2}), source).fits
    assert problems(check_sent(sent({"order_id": "o-1", "coupon": "x"}), source)) == [
        "$.coupon: not a field of acme.orders.OrderPlaced"
    ]
    assert problems(check_sent(sent({"order_id": "o-1", "address": {"zip": "1"}}), source)) == [
        "$.address.zip: not a field of acme.orders.Address"
    ]
    assert problems(check_sent(sent({"quantity": "many"}), source)) == [
        "$.quantity: not a valid acme.orders.OrderPlaced field: invalid literal for int() "
        "with base 10: 'many'"
    ]
    assert check_sent(sent(b"\x0a\x03o-1\x10\x02"), source).fits
    [corrupt] = problems(check_sent(sent(b"\xff\xff\xff"), source))
    assert corrupt.startswith("$: the body does not parse as acme.orders.OrderPlaced:")


@pytest.mark.parametrize(
    ("text", "strategy"),
    [
        ("topic", SubjectNameStrategy.TOPIC),
        ("Record", SubjectNameStrategy.RECORD),
        ("topic-record", SubjectNameStrategy.TOPIC_RECORD),
        ("TopicRecordNameStrategy", SubjectNameStrategy.TOPIC_RECORD),
        (
            "io.confluent.kafka.serializers.subject.RecordNameStrategy",
            SubjectNameStrategy.RECORD,
        ),
    ],
)
def test_strategies_are_named_as_confluent_does(text: str, strategy: SubjectNameStrategy) -> None:
    assert SubjectNameStrategy.parse(text) is strategy


def test_an_unknown_strategy_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown subject name strategy 'TopicName' \(known: "):
        SubjectNameStrategy.parse("TopicName")


def test_record_names_are_confluents() -> None:
    assert record_name("avro", json.dumps(ORDER_AVRO)) == "acme.orders.OrderPlaced"
    assert record_name("protobuf", ORDER_PROTO) == "acme.orders.OrderPlaced"
    assert record_name("json", json.dumps(ORDER_JSON)) == "OrderPlaced"
    assert record_name("json", json.dumps({"type": "object"})) == "record"


def test_record_strategies_find_every_type_a_topic_carries(tmp_path: Path) -> None:
    refund = {**ORDER_JSON, "title": "RefundIssued", "required": ["refund_id"],
              "properties": {"refund_id": {"type": "string"}}}  # fmt: skip
    source = directory(
        tmp_path,
        {
            "orders-OrderPlaced": ("v1.json", json.dumps(ORDER_JSON)),
            "orders-RefundIssued": ("v1.json", json.dumps(refund)),
            "OrderPlaced": ("v1.json", json.dumps(ORDER_JSON)),
            "payments-Captured": ("v1.json", json.dumps({**ORDER_JSON, "title": "Captured"})),
        },
    )
    topic_record = SubjectNameStrategy.TOPIC_RECORD

    assert check_sent(sent({"refund_id": "r-1"}), source, topic_record).fits
    verdict = check_sent(sent({"refund_id": "r-1", "coupon": "x"}), source, topic_record)
    assert [schema.subject for schema, _ in verdict.results] == [
        "orders-OrderPlaced",
        "orders-RefundIssued",
    ]
    assert not verdict.fits
    assert check_sent(sent(GOOD, "anything"), source, SubjectNameStrategy.RECORD).fits
    missing = check_sent(sent(GOOD, "payments"), source, SubjectNameStrategy.TOPIC)
    assert missing.unavailable == (
        "no schema subject for destination 'payments': looked for 'payments-value' or "
        "'payments' (TopicNameStrategy) (subjects: OrderPlaced, orders-OrderPlaced, "
        "orders-RefundIssued, payments-Captured)"
    )


@pytest.fixture
def client() -> Iterator[RegistryClient]:
    with EmbeddedRegistry() as embedded:
        yield RegistryClient(embedded.url)


def test_the_registry_latest_version_is_checked_and_named(client: RegistryClient) -> None:
    client.register("orders-value", ORDER_AVRO, "AVRO")
    source = RegistrySource(client)

    verdict = check_sent(sent({**GOOD_AVRO, "coupon": "x"}), source)

    [(schema, found)] = verdict.results
    registered_id = client.latest("orders-value").id
    assert schema.label == f"orders-value v1 (schema id {registered_id} in {client.url})"
    assert found == (
        "$.coupon: not a field of OrderPlaced (it has: order_id, quantity, address, note)",
    )
    client.register("acme.orders.OrderPlaced", ORDER_AVRO, "AVRO")
    record = check_sent(sent(GOOD_AVRO, "elsewhere"), source, SubjectNameStrategy.RECORD)
    assert [schema.subject for schema, _ in record.results] == ["acme.orders.OrderPlaced"]
    assert record.fits
