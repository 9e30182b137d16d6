"""An SQS endpoint for the session: moto in server mode on a free loopback port.

There is no SQS server here; moto's server speaks the SQS protocol over HTTP, so
boto3 runs its real request and response path against it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from eventscope.demo.transports.tansu import free_port

REGION = "us-east-1"


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    dummy = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    saved = {k: os.environ.get(k) for k in dummy}
    os.environ.update(dummy)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def client(endpoint: str) -> Any:
    return boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)


@pytest.fixture
def new_queue(client: Any) -> Callable[..., str]:
    """Create a queue with a unique name (and ``<name>-dlq``); returns its URL."""

    def create(*, dead_letter: bool = True, attributes: dict[str, str] | None = None) -> str:
        name = f"orders-{uuid.uuid4().hex[:10]}"
        if dead_letter:
            client.create_queue(QueueName=name + "-dlq")
        return client.create_queue(QueueName=name, Attributes=attributes or {})["QueueUrl"]

    return create
