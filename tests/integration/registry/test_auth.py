"""Authentication: who may read, register, delete and configure, by role.

Users with scrypt-hashed passwords and a bearer token come from a users file; the
matrix crosses every identity with every kind of request.  confluent-kafka's client
authenticates with its own ``basic.auth.user.info`` setting.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from eventscope.cli import main
from eventscope.registry import EmbeddedRegistry
from eventscope.registry.auth import hash_password

pytest.importorskip("fastavro")

PASSWORDS = {"reader": "r-secret", "writer": "w-secret", "boss": "a-secret"}
TOKEN = "tok-0123456789abcdef"


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import hashlib

    roles = {"reader": "read", "writer": "write", "boss": "admin"}
    lines = []
    for user, password in PASSWORDS.items():
        lines += [
            f"[users.{user}]",
            f'password = "{hash_password(password)}"',
            f'role = "{roles[user]}"',
        ]
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    lines += ["[tokens.deployer]", f'sha256 = "{digest}"', 'role = "admin"']
    path = tmp_path_factory.mktemp("auth") / "users.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def registry(users_file: Path) -> Iterator[EmbeddedRegistry]:
    with EmbeddedRegistry(users=users_file) as running:
        yield running


def basic(user: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{PASSWORDS[user]}".encode()).decode()


def call(
    registry: EmbeddedRegistry, method: str, path: str, body: object, authorization: str | None
) -> tuple[int, dict[str, str], dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(registry.url + path, data=data, method=method)
    request.add_header("Content-Type", "application/vnd.schemaregistry.v1+json")
    if authorization:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            headers = {k.lower(): v for k, v in response.headers.items()}
            return response.status, headers, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        headers = {k.lower(): v for k, v in exc.headers.items()}
        return exc.code, headers, json.loads(exc.read())


IDENTITIES = {"anonymous": None, "read": "reader", "write": "writer", "admin": "boss"}
# operation: (method, path, body, the least role allowed)
OPERATIONS = {
    "read": ("GET", "/subjects", None, "read"),
    "write": ("POST", "/subjects/{who}-value/versions", {"schema": '"string"'}, "write"),
    "delete": ("DELETE", "/subjects/{who}-existing", None, "admin"),
    "config": ("PUT", "/config/{who}-existing", {"compatibility": "FULL"}, "admin"),
}
ORDER = ["read", "write", "admin"]


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_auth_matrix(registry: EmbeddedRegistry, identity: str, operation: str) -> None:
    # a subject to delete or configure, registered by the admin
    created = call(
        registry,
        "POST",
        f"/subjects/{identity}-existing/versions",
        {"schema": '"int"'},
        basic("boss"),
    )
    assert created[0] == 200
    method, path, body, least = OPERATIONS[operation]
    user = IDENTITIES[identity]
    status, headers, reply = call(
        registry, method, path.format(who=identity), body, basic(user) if user else None
    )
    if identity == "anonymous":
        assert (status, reply["error_code"]) == (401, 40101)
        assert headers["www-authenticate"].startswith("Basic")
    elif ORDER.index(identity) >= ORDER.index(least):
        assert status == 200, reply
    else:
        assert (status, reply["error_code"]) == (403, 40301)


def test_bearer_tokens_and_wrong_passwords(registry: EmbeddedRegistry) -> None:
    assert call(registry, "PUT", "/config", {"compatibility": "NONE"}, f"Bearer {TOKEN}")[0] == 200
    assert call(registry, "GET", "/subjects", None, "Bearer not-the-token")[0] == 401
    wrong = "Basic " + base64.b64encode(b"boss:guess").decode()
    assert call(registry, "GET", "/subjects", None, wrong)[0] == 401
    assert call(registry, "GET", "/subjects", None, "Basic %%%")[0] == 401


def test_confluent_kafka_basic_auth_user_info(registry: EmbeddedRegistry) -> None:
    writer = SchemaRegistryClient(
        {
            "url": registry.url,
            "basic.auth.user.info": f"writer:{PASSWORDS['writer']}",
        }
    )
    assert writer.register_schema("orders-value", Schema('"string"', "AVRO")) > 0
    assert writer.get_subjects() == ["orders-value"]
    with pytest.raises(SchemaRegistryError) as refused:
        writer.delete_subject("orders-value")
    assert (refused.value.http_status_code, refused.value.error_code) == (403, 40301)


def test_a_network_address_needs_users_or_a_stated_anonymous_role(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["registry", "serve", "--address", "0.0.0.0", "--storage", "memory"]) == 2
    assert "give --users FILE" in capsys.readouterr().err

    command = [sys.executable, "-m", "eventscope.cli", "registry", "serve", "--port", "0"]
    server = subprocess.Popen(
        [*command, "--address", "0.0.0.0", "--anonymous", "read", "--storage", "memory"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None and server.stdout is not None
        warning = server.stderr.readline()
        assert "warning: anyone who can reach 0.0.0.0 may read without credentials" in warning
        assert "serving at" in server.stdout.readline()
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)


def test_eventscopes_client_sends_credentials_and_names_refusals(
    registry: EmbeddedRegistry,
) -> None:
    from eventscope.registry import ForbiddenError, RegistryClient, UnauthorizedError

    reader = RegistryClient(registry.url, auth=("reader", PASSWORDS["reader"]))
    assert reader.subjects() == []
    with pytest.raises(ForbiddenError):
        reader.register("orders-value", '"string"')
    with pytest.raises(UnauthorizedError):
        RegistryClient(registry.url).subjects()
