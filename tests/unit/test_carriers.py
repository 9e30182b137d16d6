"""Every header format: round trip, bytes vs str, missing, malformed, oversized, CRLF."""

from __future__ import annotations

import pytest

from eventscope.instrumentation import (
    KafkaHeadersCarrier,
    MappingCarrier,
    SqsAttributesCarrier,
    carrier_for,
)
from eventscope.instrumentation.carriers import SQS_MAX_ATTRIBUTES, clean_value
from eventscope.instrumentation.headers import MAX_VALUE_LENGTH

TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def carriers():
    """A fresh, empty carrier of each format, as its client would hand it over."""
    return {
        "dict": MappingCarrier({}),
        "amqp-table": MappingCarrier({"x-retries": 3, "nested": {"a": 1}}),
        "nats": MappingCarrier({"Nats-Msg-Id": "abc"}),
        "redis-fields": MappingCarrier({b"payload": b"{}"}),
        "kafka": KafkaHeadersCarrier([("other", b"x")]),
        "sqs": SqsAttributesCarrier({"Other": {"DataType": "String", "StringValue": "x"}}),
    }


@pytest.mark.parametrize("name", list(carriers()))
def test_round_trip(name: str) -> None:
    carrier = carriers()[name]
    carrier.set("traceparent", TP)
    assert carrier.get("traceparent") == TP
    assert "traceparent" in set(carrier.keys())


@pytest.mark.parametrize("name", list(carriers()))
def test_missing_is_none(name: str) -> None:
    assert carriers()[name].get("traceparent") is None


@pytest.mark.parametrize("name", list(carriers()))
def test_set_replaces_instead_of_adding(name: str) -> None:
    carrier = carriers()[name]
    carrier.set("traceparent", "first")
    carrier.set("traceparent", TP)
    assert carrier.get("traceparent") == TP
    assert list(carrier.keys()).count("traceparent") == 1


def test_mapping_reads_bytes_keys_and_values() -> None:
    assert MappingCarrier({b"traceparent": TP.encode()}).get("traceparent") == TP
    assert MappingCarrier({"traceparent": TP.encode()}).get("traceparent") == TP


def test_mapping_write_replaces_a_bytes_key() -> None:
    fields = {b"traceparent": b"old"}
    MappingCarrier(fields).set("traceparent", TP)
    assert fields == {"traceparent": TP}


def test_kafka_reads_str_or_bytes_names_and_last_value_wins() -> None:
    headers = [("traceparent", b"first"), (b"traceparent", TP.encode())]
    assert KafkaHeadersCarrier(headers).get("traceparent") == TP


def test_kafka_none_headers_as_confluent_returns_them() -> None:
    carrier = KafkaHeadersCarrier(None)
    assert carrier.get("traceparent") is None
    carrier.set("traceparent", TP)
    assert carrier.headers == [("traceparent", TP.encode())]


def test_kafka_writes_bytes_values() -> None:
    headers: list = []
    KafkaHeadersCarrier(headers).set("baggage", "k=v")
    assert headers == [("baggage", b"k=v")]


def test_kafka_ignores_malformed_entries() -> None:
    carrier = KafkaHeadersCarrier([("a",), "junk", None, ("traceparent", TP.encode(), "x")])
    assert carrier.get("traceparent") is None
    assert list(carrier.keys()) == []


def test_kafka_tuple_headers_are_read_only() -> None:
    carrier = KafkaHeadersCarrier((("traceparent", TP.encode()),))
    assert carrier.get("traceparent") == TP
    with pytest.raises(TypeError):
        carrier.set("traceparent", TP)


def test_sqs_reads_boto3_and_lambda_shapes() -> None:
    boto3 = {"traceparent": {"DataType": "String", "StringValue": TP}}
    lam = {"traceparent": {"dataType": "String", "stringValue": TP}}
    assert SqsAttributesCarrier(boto3).get("traceparent") == TP
    assert SqsAttributesCarrier(lam).get("traceparent") == TP
    assert SqsAttributesCarrier({"traceparent": "not-an-attribute"}).get("traceparent") is None


def test_sqs_never_exceeds_ten_attributes() -> None:
    attributes = {f"a{i}": {"DataType": "String", "StringValue": "v"} for i in range(10)}
    carrier = SqsAttributesCarrier(attributes)
    carrier.set("traceparent", TP)
    assert len(attributes) == SQS_MAX_ATTRIBUTES
    assert carrier.get("traceparent") is None
    carrier.set("a0", "replaced")
    assert carrier.get("a0") == "replaced"


@pytest.mark.parametrize(
    "value",
    [
        TP + "\r\nX-Injected: 1",
        "abc\ndef",
        "nul\x00byte",
        "x" * (MAX_VALUE_LENGTH + 1),
        b"\xff\xfe not utf-8",
        12345,
        ["list"],
    ],
    ids=["crlf", "lf", "nul", "oversized", "bad-utf8", "int", "list"],
)
def test_untrustworthy_values_read_as_absent(value: object) -> None:
    assert clean_value(value) is None
    assert MappingCarrier({"traceparent": value}).get("traceparent") is None
    assert KafkaHeadersCarrier([("traceparent", value)]).get("traceparent") is None


def test_longest_allowed_value_is_kept() -> None:
    assert clean_value("x" * MAX_VALUE_LENGTH) == "x" * MAX_VALUE_LENGTH


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ({}, MappingCarrier),
        ({"traceparent": TP}, MappingCarrier),
        ({"a": {"DataType": "String", "StringValue": "v"}}, SqsAttributesCarrier),
        ([], KafkaHeadersCarrier),
        ((("a", b"v"),), KafkaHeadersCarrier),
        (None, MappingCarrier),
        (object(), MappingCarrier),
    ],
)
def test_carrier_for_picks_by_shape(headers: object, kind: type) -> None:
    assert type(carrier_for(headers)) is kind


def test_carrier_for_returns_a_carrier_unchanged() -> None:
    carrier = KafkaHeadersCarrier([])
    assert carrier_for(carrier) is carrier
