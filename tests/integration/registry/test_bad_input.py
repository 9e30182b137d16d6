"""Hostile or broken requests get Confluent's JSON error with the right 4xx, never a 500,
and never stop the registry from answering everyone else.

The cases are the ones a new user hit against the old ``http.server`` registry: deep
schemas, huge numbers, deeply nested bodies, a lying ``Content-Length``, a 20 MB body,
unknown methods.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from eventscope.registry import EmbeddedRegistry

pytest.importorskip("fastavro")

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


@pytest.fixture
def registry() -> Iterator[EmbeddedRegistry]:
    with EmbeddedRegistry(read_timeout=1) as running:
        yield running


def request(
    registry: EmbeddedRegistry, method: str, path: str, body: bytes | None = None
) -> tuple[int, str, Any]:
    """Status, content type and decoded JSON of one request on its own connection."""
    parts = urlsplit(registry.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        headers = {"Content-Type": CONTENT_TYPE} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), json.loads(response.read())
    finally:
        connection.close()


def register(schema: str, schema_type: str = "AVRO") -> bytes:
    return json.dumps({"schema": schema, "schemaType": schema_type}).encode()


def deep_avro(depth: int) -> str:
    schema: dict[str, Any] = {"type": "record", "name": f"R{depth}", "fields": []}
    for level in range(depth - 1, 0, -1):
        field = {"name": "inner", "type": schema}
        schema = {"type": "record", "name": f"R{level}", "fields": [field]}
    return json.dumps(schema)


def deep_json_schema(depth: int) -> str:
    schema: dict[str, Any] = {"type": "object"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"inner": schema}}
    return json.dumps(schema)


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/subjects/s/versions", register(deep_avro(300)), 422, 42201),
        ("/subjects/s/versions", register(deep_json_schema(300), "JSON"), 422, 42201),
        (
            "/subjects/s/versions",
            register('{"type": "fixed", "name": "F", "size": ' + "9" * 5000 + "}"),
            422,
            42201,
        ),
        (
            "/subjects/s/versions",
            register('{"type": "object", "maximum": ' + "9" * 5000 + "}", "JSON"),
            422,
            42201,
        ),
        (
            "/subjects/s/versions",
            b'{"schema": "\\"string\\"", "n": ' + b"9" * 5000 + b"}",
            400,
            400,
        ),
        ("/subjects/s/versions", b"[" * 100_000 + b"]" * 100_000, 400, 400),
        ("/subjects/s/versions", register("[" * 100_000 + "]" * 100_000, "JSON"), 422, 42201),
        ("/subjects/s/versions", b"{not json", 400, 400),
        ("/subjects/s/versions", b'["a list"]', 400, 400),
        ("/subjects/s/versions", b'{"schema": 7}', 422, 42201),
        ("/subjects/s/versions", register('"string"', "XML"), 422, 42201),
        ("/compatibility/subjects/s/versions/abc", register('"string"'), 422, 42202),
        ("/config", b'{"compatibility": "SOMETIMES"}', 422, 42203),
    ],
)
def test_bad_bodies_are_4xx_with_confluents_error(
    registry: EmbeddedRegistry, path: str, body: bytes, status: int, code: int
) -> None:
    method = "PUT" if path == "/config" else "POST"
    answered, content_type, reply = request(registry, method, path, body)
    assert (answered, reply["error_code"]) == (status, code)
    assert content_type == CONTENT_TYPE
    assert isinstance(reply["message"], str) and reply["message"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("PATCH", "/subjects", 405),
        ("FROB", "/subjects", 405),
        ("DELETE", "/schemas/types", 405),
        ("GET", "/nowhere", 404),
        ("GET", "/subjects/s/versions/abc", 422),
        ("GET", "/schemas/ids/abc", 404),
    ],
)
def test_unknown_paths_and_methods_answer_json(
    registry: EmbeddedRegistry, method: str, path: str, status: int
) -> None:
    answered, content_type, reply = request(registry, method, path)
    assert answered == status
    assert content_type == CONTENT_TYPE
    assert set(reply) == {"error_code", "message"}


def test_a_20_mb_body_is_413_without_being_read(registry: EmbeddedRegistry) -> None:
    body = b'{"schema": "' + b"x" * (20 * 1024 * 1024) + b'"}'
    status, content_type, reply = request(registry, "POST", "/subjects/s/versions", body)
    assert (status, reply["error_code"], content_type) == (413, 413, CONTENT_TYPE)
    assert "larger than the limit" in reply["message"]


def test_a_lying_content_length_holds_no_worker_and_is_cut_off(
    registry: EmbeddedRegistry,
) -> None:
    parts = urlsplit(registry.url)
    stalled = []
    for _ in range(20):  # more than the worker threads
        liar = socket.create_connection((parts.hostname, parts.port), timeout=30)
        liar.sendall(
            b"POST /subjects/s/versions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{}"
        )
        stalled.append(liar)
    try:
        assert request(registry, "GET", "/subjects")[:1] == (200,)  # everyone else is served
        for liar in stalled:
            assert liar.recv(1024) == b""  # closed by the read timeout, not answered
    finally:
        for liar in stalled:
            liar.close()
