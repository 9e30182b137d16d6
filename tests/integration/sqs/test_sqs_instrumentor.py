"""SqsInstrumentor against an SQS endpoint (moto's server): boto3's own clients, traced
and settling, until ``uninstrument()``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient

from eventscope import MessageContext, consumer
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import sqs
from eventscope.instrumentation.brokers.sqs_instrumentor import SqsInstrumentor
from tests.conftest import Recorded
from tests.integration.sqs.conftest import REGION
from tests.integration.sqs.test_sqs import drain, outcomes

pytestmark = pytest.mark.sqs

ORIGINAL = BaseClient._make_api_call


@pytest.fixture
def instrumented() -> Iterator[None]:
    SqsInstrumentor().instrument()
    try:
        yield
    finally:
        SqsInstrumentor().uninstrument()


def _attributes(message: dict) -> dict[str, str]:
    return {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}


def test_a_plain_client_traces_retries_and_dead_letters(
    recorded: Recorded, instrumented: None, endpoint: str, new_queue: Callable[..., str]
) -> None:
    url = new_queue()
    queue = sqs.queue_name(url)
    client = boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)  # boto3's own
    client.send_message(QueueUrl=url, MessageBody="poison")
    attempts: list[int] = []

    @consumer(group="billing", max_attempts=3)
    def bill(message: dict, ctx: MessageContext) -> None:
        attempts.append(ctx.attempt)
        raise ValueError("cannot parse the order")

    drain(client, url, bill, 3)  # deletes every handled message: retried ones survive

    assert attempts == [1, 2, 3]
    assert outcomes(recorded, "retry") == 2 and outcomes(recorded, "dead_letter") == 1
    (send,) = recorded.spans(f"send {queue}")  # the dead-letter copy is no new send
    assert recorded.spans(f"send {queue}-dlq") == []
    dead_url = client.get_queue_url(QueueName=queue + "-dlq")["QueueUrl"]
    (dead,) = client.receive_message(QueueUrl=dead_url)["Messages"]
    attributes = _attributes(dead)
    assert attributes[h.TRACEPARENT].split("-")[1] == f"{send.context.trace_id:032x}"
    assert attributes[h.ORIGINAL_DESTINATION] == queue


def test_a_client_also_wrapped_by_hand_is_instrumented_once(
    recorded: Recorded, instrumented: None, client: Any, new_queue: Callable[..., str]
) -> None:
    url = new_queue(dead_letter=False)
    queue = sqs.queue_name(url)
    sqs.instrument_client(client).send_message(QueueUrl=url, MessageBody="order")
    (send,) = recorded.spans(f"send {queue}")
    (message,) = client.receive_message(QueueUrl=url)["Messages"]
    assert _attributes(message)[h.TRACEPARENT].split("-")[2] == f"{send.context.span_id:016x}"
    assert isinstance(message, sqs.SqsMessage)  # read through the instrumented path


def test_uninstrument_gives_botocore_its_own_call_back(
    recorded: Recorded, client: Any, new_queue: Callable[..., str]
) -> None:
    instrumentor = SqsInstrumentor()
    instrumentor.instrument()
    instrumentor.instrument()  # twice is harmless
    instrumentor.uninstrument()
    assert BaseClient._make_api_call is ORIGINAL and not instrumentor.is_instrumented
    url = new_queue(dead_letter=False)
    client.send_message(QueueUrl=url, MessageBody="plain")
    (message,) = client.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert h.TRACEPARENT not in _attributes(message)
    assert recorded.spans() == []
