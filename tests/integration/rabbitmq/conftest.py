"""RabbitMQ for the integration tests: the server on this machine, one vhost per session.

The broker is the one ``.ci/services.sh`` starts (``EVENTSCOPE_RABBITMQ_URL`` points
elsewhere).  Each session works in a virtual host of its own, created through the
management API and deleted at the end, so nothing the tests declare can meet another
run's queues or survive a crashed test; names are unique per test as well.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pika
import pytest

from eventscope.lag.rabbitmq import management_endpoint

URL = os.environ.get("EVENTSCOPE_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


def management(method: str, path: str, body: dict | None = None) -> bytes:
    base, user, password, _ = management_endpoint(URL)
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode() if body is not None else None, method=method
    )
    request.add_header(
        "Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    )
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def management_get(path: str) -> Any:
    return json.loads(management("GET", path))


@pytest.fixture(scope="session")
def vhost() -> Iterator[str]:
    name = f"eventscope-test-{uuid.uuid4().hex[:8]}"
    quoted = urllib.parse.quote(name, safe="")
    user = urllib.parse.quote(pika.URLParameters(URL).credentials.username, safe="")
    try:
        management("PUT", f"/api/vhosts/{quoted}", {})
    except (urllib.error.URLError, OSError) as exc:
        pytest.fail(
            f"RabbitMQ's management API is not reachable ({exc}); run `bash .ci/services.sh`"
        )
    management(
        "PUT", f"/api/permissions/{quoted}/{user}", {"configure": ".*", "write": ".*", "read": ".*"}
    )
    yield name
    management("DELETE", f"/api/vhosts/{quoted}")


@pytest.fixture(scope="session")
def amqp_url(vhost: str) -> str:
    return URL.rstrip("/") + "/" + urllib.parse.quote(vhost, safe="")


@pytest.fixture
def connection(amqp_url: str) -> Iterator[pika.BlockingConnection]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    yield connection
    if connection.is_open:
        connection.close()


@pytest.fixture
def name() -> str:
    """A name no other test uses, for this test's exchange and queues."""
    return f"t-{uuid.uuid4().hex[:10]}"
