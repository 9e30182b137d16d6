"""The registry client against the embedded registry, over real HTTP on loopback.

Each test gets a fresh in-memory registry on a free port; the wire-level tests read the
raw replies too, since other Confluent clients depend on the exact shapes and codes.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eventscope.cli import main
from eventscope.registry import (
    CompatibilityNotConfiguredError,
    EmbeddedRegistry,
    IncompatibleSchemaError,
    InvalidCompatibilityLevelError,
    InvalidSchemaError,
    InvalidVersionError,
    RegistryClient,
    RegistryUnavailableError,
    SchemaNotFoundError,
    SchemaReference,
    SubjectNotFoundError,
    SubjectNotSoftDeletedError,
    VersionNotFoundError,
)
from eventscope.schemas import Mode, SchemaDirectoryError

pytest.importorskip("fastavro")  # the schema formats are an optional extra


def record(name: str, *fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "record",
        "name": name,
        "namespace": "acme",
        "fields": [{"name": "id", "type": "string"}, *fields],
    }


ORDER_V1 = record("Order")
ORDER_OPTIONAL_NOTE = record("Order", {"name": "note", "type": ["null", "string"], "default": None})
ORDER_REQUIRED_NOTE = record("Order", {"name": "note", "type": "string"})


def json_schema(**properties: dict[str, Any]) -> str:
    return json.dumps(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {"sku": {"type": "string"}, **properties},
            "additionalProperties": False,
        }
    )


PAYMENT_V1 = 'syntax = "proto3";\npackage acme;\nmessage Payment {\n  int64 cents = 1;\n}\n'

# format: (schema type, v1, a compatible v2, an incompatible v2, its problem, where)
FORMATS = {
    "avro": (
        "AVRO",
        json.dumps(ORDER_V1),
        json.dumps(ORDER_OPTIONAL_NOTE),
        json.dumps(ORDER_REQUIRED_NOTE),
        "READER_FIELD_MISSING_DEFAULT_VALUE",
        "/fields/1",
    ),
    "json": (
        "JSON",
        json_schema(),
        json_schema(currency={"type": "string"}),
        json.dumps({"type": "object", "properties": {"sku": {"type": "integer"}}}),
        "TYPE_CHANGED",
        "#/properties/sku",
    ),
    "protobuf": (
        "PROTOBUF",
        PAYMENT_V1,
        PAYMENT_V1.replace("int64 cents = 1;", "int64 cents = 1;\n  string note = 2;"),
        PAYMENT_V1.replace("int64 cents", "string cents"),
        "FIELD_SCALAR_KIND_CHANGED",
        "#/Payment/1",
    ),
}


@pytest.fixture
def embedded() -> Iterator[EmbeddedRegistry]:
    with EmbeddedRegistry() as registry:
        yield registry


@pytest.fixture
def client(embedded: EmbeddedRegistry) -> RegistryClient:
    return RegistryClient(embedded.url, timeout=5)


def raw(url: str, method: str = "GET", body: Any = None) -> tuple[int, dict[str, str], Any]:
    """A request without the client: status, headers and the decoded JSON reply."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/vnd.schemaregistry.v1+json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- registering and reading -----------------------------------------------------------


def test_register_is_idempotent_and_ids_are_global(client: RegistryClient) -> None:
    first = client.register("orders-value", ORDER_V1)
    assert client.register("orders-value", json.dumps(ORDER_V1, indent=4)) == first
    assert client.versions("orders-value") == [1]  # re-registering adds no version

    assert client.register("archive-value", ORDER_V1) == first  # same schema, same id
    second = client.register("orders-value", ORDER_OPTIONAL_NOTE)
    assert second != first
    assert client.versions("orders-value") == [1, 2]
    assert client.subjects() == ["archive-value", "orders-value"]

    latest = client.latest("orders-value")
    assert (latest.subject, latest.version, latest.id, latest.schema_type) == (
        "orders-value",
        2,
        second,
        "AVRO",
    )
    assert json.loads(latest.schema) == ORDER_OPTIONAL_NOTE
    assert client.version("orders-value", 1).id == first
    assert client.lookup("orders-value", ORDER_V1).version == 1
    stored = client.by_id(second)
    assert (stored.id, json.loads(stored.schema), stored.format) == (
        second,
        ORDER_OPTIONAL_NOTE,
        "avro",
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_compatibility_verdicts_per_format(client: RegistryClient, fmt: str) -> None:
    schema_type, v1, compatible, incompatible, problem, location = FORMATS[fmt]
    client.register("subject", v1, schema_type)

    assert client.check_compatibility("subject", compatible, schema_type) == (True, [])
    ok, messages = client.check_compatibility("subject", incompatible, schema_type)
    assert not ok
    assert messages[0].startswith(f"{{errorType:'{problem}', description:'")
    assert f"additionalInfo:'backward check at {location}'" in messages[0]
    assert "{oldSchemaVersion: 1}" in messages
    assert messages[-1] == "{validateFields: 'false', compatibility: 'BACKWARD'}"

    with pytest.raises(IncompatibleSchemaError) as refused:
        client.register("subject", incompatible, schema_type)
    assert (refused.value.status, refused.value.error_code) == (409, 409)
    assert 'incompatible with an earlier schema for subject "subject"' in str(refused.value)
    assert problem in str(refused.value)
    assert client.versions("subject") == [1]

    assert client.register("subject", compatible, schema_type) > 0
    assert client.latest("subject").schema_type == schema_type


@pytest.mark.parametrize(
    ("schema_type", "schema", "where"),
    [
        (
            "AVRO",
            json.dumps(record("Order", {"name": "total", "type": "acme.Mony"})),
            "$.fields[1].type",
        ),
        ("AVRO", '{"type": "record",', "line 1, column 19"),
        ("PROTOBUF", 'syntax = "proto3";\nmessage A { int32 x = 1 }', "line 2, column 25"),
    ],
)
def test_an_invalid_schema_is_422_with_the_place(
    client: RegistryClient, schema_type: str, schema: str, where: str
) -> None:
    with pytest.raises(InvalidSchemaError) as invalid:
        client.register("orders-value", schema, schema_type)
    assert (invalid.value.status, invalid.value.error_code) == (422, 42201)
    assert f"Invalid {schema_type} schema: {where}: " in invalid.value.message
    assert client.subjects() == []
    # A verbose check answers the parse error as its message, as Confluent's does.
    ok, messages = client.check_compatibility("orders-value", schema, schema_type)
    assert not ok
    assert where in messages[0]


def test_missing_subjects_versions_and_ids_have_their_codes(client: RegistryClient) -> None:
    with pytest.raises(
        SubjectNotFoundError, match=r"Subject 'orders-value' not found\. \(error 40401\)"
    ):
        client.latest("orders-value")
    client.register("orders-value", ORDER_V1)
    with pytest.raises(VersionNotFoundError, match=r"Version 7 not found\. \(error 40402\)"):
        client.version("orders-value", 7)
    with pytest.raises(InvalidVersionError, match="42202"):
        client.version("orders-value", "first")
    with pytest.raises(SchemaNotFoundError, match="Schema 99 not found"):
        client.by_id(99)
    with pytest.raises(SchemaNotFoundError, match="Schema not found"):
        client.lookup("orders-value", ORDER_OPTIONAL_NOTE)
    with pytest.raises(VersionNotFoundError):
        client.check_compatibility("orders-value", ORDER_OPTIONAL_NOTE, version=3)
    # Nothing registered yet: nothing to break.
    assert client.check_compatibility("payments-value", ORDER_V1) == (True, [])


# -- compatibility levels ------------------------------------------------------------


def test_compatibility_levels_global_and_per_subject(client: RegistryClient) -> None:
    client.register("orders-value", ORDER_V1)
    assert client.compatibility() is Mode.BACKWARD
    assert client.compatibility("orders-value") is Mode.BACKWARD  # inherited
    with pytest.raises(CompatibilityNotConfiguredError, match="40408"):
        client.compatibility("orders-value", inherit=False)

    assert client.set_compatibility("none", "orders-value") is Mode.NONE
    assert client.compatibility("orders-value", inherit=False) is Mode.NONE
    assert client.register("orders-value", ORDER_REQUIRED_NOTE) > 0  # NONE lets it in
    client.register("payments-value", ORDER_V1)
    with pytest.raises(IncompatibleSchemaError):  # the global level still applies elsewhere
        client.register("payments-value", ORDER_REQUIRED_NOTE)

    assert client.delete_compatibility("orders-value") is Mode.NONE
    assert client.compatibility("orders-value") is Mode.BACKWARD
    assert client.set_compatibility(Mode.FORWARD) is Mode.FORWARD
    assert client.compatibility("orders-value") is Mode.FORWARD
    with pytest.raises(InvalidCompatibilityLevelError, match="Invalid compatibility level"):
        client.set_compatibility("SIDEWAYS")


def test_transitive_levels_check_every_live_version(client: RegistryClient) -> None:
    client.set_compatibility(Mode.FULL_TRANSITIVE, "orders-value")
    client.register("orders-value", ORDER_V1)
    client.register("orders-value", ORDER_OPTIONAL_NOTE)
    without_id = {"type": "record", "name": "Order", "namespace": "acme", "fields": [
        {"name": "note", "type": ["null", "string"], "default": None},
    ]}  # fmt: skip
    # Against the latest only it might pass one direction; the subject's level names both.
    ok, messages = client.check_compatibility("orders-value", without_id, version=None)
    assert not ok
    assert "{oldSchemaVersion: 2}" in messages and "{oldSchemaVersion: 1}" in messages
    assert messages[-1] == "{validateFields: 'false', compatibility: 'FULL_TRANSITIVE'}"


def test_references_resolve_across_subjects(client: RegistryClient) -> None:
    money = {"type": "record", "name": "Money", "namespace": "acme",
             "fields": [{"name": "cents", "type": "long"}]}  # fmt: skip
    client.register("acme.Money", money)
    order = record("Order", {"name": "total", "type": "acme.Money"})
    reference = SchemaReference("acme.Money", "acme.Money", 1)

    schema_id = client.register("orders-value", order, references=[reference])

    latest = client.latest("orders-value")
    assert latest.references == (reference,)
    assert client.by_id(schema_id).references == (reference,)
    assert client.register("orders-value", order, references=[reference]) == schema_id
    with pytest.raises(InvalidSchemaError, match=r"unknown type 'acme\.Money'"):
        client.register("other-value", order)  # without the reference it does not parse
    with pytest.raises(InvalidSchemaError, match=r"names subject 'acme\.Money' version 2"):
        client.register(
            "other-value", order, references=[SchemaReference("acme.Money", "acme.Money", 2)]
        )


def test_deleting_a_subject_is_soft_then_permanent(client: RegistryClient) -> None:
    client.register("orders-value", ORDER_V1)
    client.register("orders-value", ORDER_OPTIONAL_NOTE)
    with pytest.raises(SubjectNotSoftDeletedError, match="40405"):
        client.delete_subject("orders-value", permanent=True)

    assert client.delete_subject("orders-value") == [1, 2]
    assert client.subjects() == []
    with pytest.raises(SubjectNotFoundError):
        client.latest("orders-value")
    assert client.register("orders-value", ORDER_V1) == 1  # the id survives; numbering goes on
    assert client.versions("orders-value") == [3]

    client.delete_subject("orders-value")
    assert client.delete_subject("orders-value", permanent=True) == [1, 2, 3]
    client.register("orders-value", ORDER_V1)
    assert client.versions("orders-value") == [1]


# -- the wire ----------------------------------------------------------------------------


def test_replies_have_confluent_shapes_and_content_type(embedded: EmbeddedRegistry) -> None:
    url = embedded.url
    status, headers, body = raw(
        f"{url}/subjects/orders-value/versions", "POST", {"schema": json.dumps(ORDER_V1)}
    )
    assert (status, body) == (200, {"id": 1})
    assert headers["Content-Type"] == "application/vnd.schemaregistry.v1+json"
    _, _, body = raw(f"{url}/subjects/orders-value/versions/latest")
    assert set(body) == {"subject", "version", "id", "schema"}  # AVRO: no schemaType
    raw(
        f"{url}/subjects/a%2Fb-value/versions",
        "POST",
        {"schema": json_schema(), "schemaType": "JSON"},
    )
    _, _, body = raw(f"{url}/schemas/ids/2")
    assert (body["schemaType"], json.loads(body["schema"])) == ("JSON", json.loads(json_schema()))
    assert raw(f"{url}/subjects")[2] == ["a/b-value", "orders-value"]
    assert raw(f"{url}/schemas/ids/1/versions")[2] == [{"subject": "orders-value", "version": 1}]
    assert raw(f"{url}/config")[2] == {"compatibilityLevel": "BACKWARD"}
    assert raw(f"{url}/config/x", "PUT", {"compatibility": "FULL"})[2] == {"compatibility": "FULL"}
    status, _, body = raw(
        f"{url}/compatibility/subjects/orders-value/versions/latest",
        "POST",
        {"schema": json.dumps(ORDER_REQUIRED_NOTE)},
    )
    assert (status, body) == (200, {"is_compatible": False})  # messages only when verbose

    status, headers, body = raw(f"{url}/subjects/nope/versions")
    assert (status, body) == (404, {"error_code": 40401, "message": "Subject 'nope' not found."})
    assert headers["Content-Type"] == "application/vnd.schemaregistry.v1+json"
    status, _, body = raw(f"{url}/nowhere")
    assert (status, body) == (404, {"error_code": 404, "message": "HTTP 404 Not Found"})
    assert raw(f"{url}/subjects", "POST", {})[0] == 405
    status, _, body = raw(
        f"{url}/subjects/orders-value/versions", "POST", {"schema": "{}", "schemaType": "XML"}
    )
    assert (status, body["error_code"]) == (422, 42201)
    assert body["message"].startswith("Invalid schema type XML")
    status, _, body = raw(f"{url}/subjects/orders-value/versions", "POST", {"schemaType": "AVRO"})
    assert (status, body) == (422, {"error_code": 42201, "message": "Empty schema"})


def test_an_unreachable_registry_says_so_without_credentials() -> None:
    port = free_port()
    client = RegistryClient(f"http://ci:secret@127.0.0.1:{port}/", timeout=2)
    assert client.url == f"http://127.0.0.1:{port}"
    with pytest.raises(RegistryUnavailableError) as unreachable:
        client.subjects()
    message = str(unreachable.value)
    assert message == (
        f"cannot reach the schema registry at http://127.0.0.1:{port}: GET /subjects: "
        "connection refused (is the registry running?)"
    )
    with pytest.raises(ValueError, match="not a registry URL"):
        RegistryClient("localhost:8081")


# -- preloading a schemas directory ---------------------------------------------------------


def write(path: Path, content: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    root = tmp_path / "schemas"
    money = {"type": "record", "name": "Money", "namespace": "acme",
             "fields": [{"name": "cents", "type": "long"}]}  # fmt: skip
    write(root / "_shared" / "money.avsc", money)
    write(
        root / "orders-value" / "config.toml",
        'compatibility = "FULL"\n[references]\n"acme.Money" = "../_shared/money.avsc"\n',
    )
    write(
        root / "orders-value" / "v1.avsc", record("Order", {"name": "total", "type": "acme.Money"})
    )
    write(
        root / "orders-value" / "v3-note.avsc",
        record("Order", {"name": "total", "type": "acme.Money"}, ORDER_OPTIONAL_NOTE["fields"][1]),
    )
    write(root / "payments-value" / "v1.proto", PAYMENT_V1)
    return root


def test_a_schemas_directory_is_preloaded_as_its_history(schemas: Path) -> None:
    with EmbeddedRegistry(schemas=schemas) as registry:
        client = RegistryClient(registry.url)
        assert client.subjects() == ["acme.Money", "orders-value", "payments-value"]
        assert client.versions("orders-value") == [1, 3]  # numbered as the files are
        assert client.compatibility("orders-value", inherit=False) is Mode.FULL
        with pytest.raises(CompatibilityNotConfiguredError):
            client.compatibility("payments-value", inherit=False)
        latest = client.latest("orders-value")
        assert latest.references == (SchemaReference("acme.Money", "acme.Money", 1),)
        assert json.loads(latest.schema)["fields"][2]["name"] == "note"
        assert client.latest("payments-value").schema_type == "PROTOBUF"
        # The preloaded history is judged like any other: FULL refuses a required field.
        ok, _ = client.check_compatibility(
            "orders-value",
            record("Order", {"name": "total", "type": "acme.Money"}, {"name": "x", "type": "int"}),
            references=latest.references,
        )
        assert not ok


def test_a_bad_schemas_directory_names_the_file(schemas: Path) -> None:
    write(schemas / "payments-value" / "v2.proto", "syntax = 'proto3';\nmessage {")
    with pytest.raises(SchemaDirectoryError, match=r"payments-value/v2\.proto: line 2, column 9: "):
        EmbeddedRegistry(schemas=schemas)
    with pytest.raises(SchemaDirectoryError, match="not a directory"):
        EmbeddedRegistry(schemas=schemas / "missing")


# -- the command --------------------------------------------------------------------------


def test_serve_exits_2_on_a_bad_directory_or_a_taken_port(
    schemas: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)  # where the default SQLite storage goes
    write(schemas / "orders-value" / "v4.avsc", '{"type": "record"')
    assert main(["registry", "serve", "--schemas", str(schemas)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("eventscope registry: ")
    assert "orders-value/v4.avsc: line 1, column 18: not valid JSON" in error

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["registry", "serve", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in capsys.readouterr().err


def test_serve_answers_until_interrupted_and_keeps_its_state(schemas: Path, tmp_path: Path) -> None:
    """By default the state is a SQLite file in the working directory: a registry
    started again there answers the same history."""
    first = _serve(tmp_path, "--schemas", str(schemas))
    assert "3 version(s) of 3 subject(s)" in first
    assert "sqlite:///eventscope-registry.db" in first
    assert (tmp_path / "eventscope-registry.db").is_file()
    assert "3 version(s)" not in _serve(tmp_path)  # nothing preloaded, the history is there
    assert "3 version(s)" in _serve(tmp_path, "--schemas", str(schemas))  # preloading again


def _serve(cwd: Path, *extra: str) -> str:
    """Start ``registry serve`` in ``cwd``, check it answers, stop it with Ctrl-C; the
    banner it printed."""
    command = [sys.executable, "-m", "eventscope.cli", "registry", "serve", "--port", "0"]
    server = subprocess.Popen(
        [*command, *extra],
        cwd=cwd,
        stdout=subprocess.PIPE,
        text=True,
        # Python ignores Ctrl-C when its parent ignored SIGINT (a CI runner may): restore it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        url = banner.split("serving at ")[1].split()[0]
        assert RegistryClient(url).versions("orders-value") == [1, 3]
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    return banner
