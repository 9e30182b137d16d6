"""Protobuf in the registry: ``google/type`` imports, and base64 descriptors judged by
the same checker as .proto text."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from eventscope.registry import EmbeddedRegistry, IncompatibleSchemaError, RegistryClient
from eventscope.schemas import check_compatibility
from eventscope.schemas.protobuf.compile import compile_schema

CUSTOMER = """syntax = "proto3";
package shop;
import "google/type/postal_address.proto";
message Customer {
  string id = 1;
  google.type.PostalAddress address = 2;
}
"""


@pytest.fixture
def client() -> Iterator[RegistryClient]:
    with EmbeddedRegistry() as registry:
        yield RegistryClient(registry.url)


def descriptor_of(text: str) -> str:
    """What confluent-kafka's serializer registers for the file protoc makes of ``text``."""
    return base64.b64encode(compile_schema(text).main.SerializeToString()).decode()


def test_google_type_protos_import_in_the_registry_and_the_checker(
    client: RegistryClient,
) -> None:
    schema_id = client.register("customers-value", CUSTOMER, "PROTOBUF")
    assert client.by_id(schema_id).schema == CUSTOMER.strip()
    renamed = CUSTOMER.replace("address = 2", "postal = 2")
    assert check_compatibility(renamed, [CUSTOMER], format="protobuf").is_compatible


def test_a_descriptor_is_judged_against_text_and_read_back_serialized(
    client: RegistryClient,
) -> None:
    client.register("customers-value", CUSTOMER, "PROTOBUF")
    breaking = CUSTOMER.replace("string id = 1", "int64 id = 1")
    with pytest.raises(IncompatibleSchemaError, match="FIELD_SCALAR_KIND_CHANGED"):
        client.register("customers-value", descriptor_of(breaking), "PROTOBUF")
    added = CUSTOMER.replace("address = 2;", "address = 2;\n  string name = 3;")
    second = client.register("customers-value", descriptor_of(added), "PROTOBUF")
    assert client.versions("customers-value") == [1, 2]
    shown = client.by_id(second).schema  # as .proto text, as Confluent shows it
    assert shown.startswith('syntax = "proto3";') and "string name = 3;" in shown
    by_id = client._request("GET", f"/schemas/ids/{second}?format=serialized")["schema"]
    assert by_id == descriptor_of(added)  # as registered

    serialized = client._request("GET", "/subjects/customers-value/versions/1?format=serialized")
    assert serialized["schema"] == descriptor_of(CUSTOMER)


def test_base64_that_is_no_descriptor_is_422(client: RegistryClient) -> None:
    from eventscope.registry import InvalidSchemaError

    with pytest.raises(InvalidSchemaError, match="FileDescriptorProto"):
        client.register("customers-value", "bm90IGEgZGVzY3JpcHRvcg==", "PROTOBUF")


def test_normalize_gives_text_and_descriptor_of_one_schema_one_id(
    client: RegistryClient,
) -> None:
    register = "/subjects/{}/versions?normalize=true"
    spaced = CUSTOMER.replace("message Customer {", "// a customer\nmessage   Customer {")
    first = client._request(
        "POST", register.format("a-value"), {"schema": CUSTOMER, "schemaType": "PROTOBUF"}
    )["id"]
    for subject, schema in (("b-value", spaced), ("c-value", descriptor_of(CUSTOMER))):
        body = {"schema": schema, "schemaType": "PROTOBUF"}
        assert client._request("POST", register.format(subject), body)["id"] == first
    assert client.register("d-value", spaced, "PROTOBUF") != first  # as written, without
