"""boto3 SQS, instrumented with one line, against moto's SQS server."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.trace import SpanKind

from eventscope import MessageContext, catalog, consumer
from eventscope.catalog import Attr, prometheus_label
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import sqs
from eventscope.instrumentation.carriers import SQS_MAX_ATTRIBUTES
from tests.conftest import Recorded

pytestmark = pytest.mark.sqs

DESTINATION = prometheus_label(Attr.DESTINATION)
OUTCOME = prometheus_label(Attr.OUTCOME)


def outcomes(recorded: Recorded, outcome: str) -> float:
    return recorded.value(catalog.PROCESS_OUTCOMES.series(), **{OUTCOME: outcome})


def drain(
    client: sqs.InstrumentedClient, url: str, handle: Callable[[Any], Any], expected: int
) -> None:
    """The application's receive loop: handle, then delete, until ``expected`` handled."""
    handled = 0
    for _ in range(20):
        response = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in response.get("Messages", []):
            handle(message)
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1
        if handled >= expected:
            return
    raise AssertionError(f"handled {handled} of {expected} messages")


def test_sender_and_receiver_share_one_trace_and_count_what_was_sent(
    recorded: Recorded, client: Any, new_queue: Callable[..., str]
) -> None:
    url = new_queue()
    queue = sqs.queue_name(url)
    sender = sqs.instrument_client(client)

    def place_order(i: int) -> None:  # the application's sending code, unchanged
        sender.send_message(
            QueueUrl=url,
            MessageBody=json.dumps({"order": i}),
            MessageAttributes={"tenant": {"DataType": "String", "StringValue": "acme"}},
        )

    for i in range(3):
        place_order(i)

    handled: list[tuple[int, int, str]] = []

    @consumer(group="billing")
    def bill(message: dict, ctx: MessageContext) -> None:
        tenant = message["MessageAttributes"]["tenant"]["StringValue"]
        handled.append((json.loads(message["Body"])["order"], ctx.attempt, tenant))

    drain(sqs.instrument_client(client), url, bill, 3)

    assert sorted(handled) == [(0, 1, "acme"), (1, 1, "acme"), (2, 1, "acme")]
    producers = {s.attributes[Attr.MESSAGE_ID]: s for s in recorded.spans(f"send {queue}")}
    consumers = recorded.spans(f"process {queue}")
    assert len(producers) == 3 and len(consumers) == 3
    for span in consumers:
        parent = producers[span.attributes[Attr.MESSAGE_ID]]
        assert span.kind is SpanKind.CONSUMER and parent.kind is SpanKind.PRODUCER
        assert span.parent.span_id == parent.context.span_id
        assert span.context.trace_id == parent.context.trace_id
        assert span.attributes[Attr.SYSTEM] == "aws_sqs"
    assert recorded.value(catalog.SENT_MESSAGES.series(), **{DESTINATION: queue}) == 3
    assert recorded.value(catalog.CONSUMED_MESSAGES.series(), **{DESTINATION: queue}) == 3
    assert outcomes(recorded, "ok") == 3
    remaining = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert remaining["ApproximateNumberOfMessages"] == "0"


def test_each_entry_of_a_batch_send_gets_its_own_trace(
    recorded: Recorded, client: Any, new_queue: Callable[..., str]
) -> None:
    url = new_queue()
    queue = sqs.queue_name(url)
    response = sqs.instrument_client(client).send_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"order {i}"} for i in range(4)]
    )
    assert len(response["Successful"]) == 4

    @consumer(group="audit")
    def audit(message: dict) -> None:
        pass

    drain(sqs.instrument_client(client), url, audit, 4)
    producers = {s.context.span_id: s for s in recorded.spans(f"send {queue}")}
    consumers = recorded.spans(f"process {queue}")
    assert len(producers) == 4 and len({s.context.trace_id for s in producers.values()}) == 4
    assert {s.parent.span_id for s in consumers} == set(producers)
    assert recorded.value(catalog.SENT_MESSAGES.series(), **{DESTINATION: queue}) == 4


def test_retries_are_redeliveries_then_the_message_goes_to_the_dead_letter_queue(
    recorded: Recorded, client: Any, new_queue: Callable[..., str]
) -> None:
    url = new_queue()
    queue = sqs.queue_name(url)
    instrumented = sqs.instrument_client(client)
    instrumented.send_message(QueueUrl=url, MessageBody="poison")
    attempts: list[int] = []

    @consumer(group="billing", max_attempts=3)
    def bill(message: dict, ctx: MessageContext) -> None:
        attempts.append(ctx.attempt)
        raise ValueError("cannot parse the order")

    # The loop deletes every message it handled: the client leaves retried ones alone.
    drain(instrumented, url, bill, 3)

    assert attempts == [1, 2, 3]  # SQS's ApproximateReceiveCount
    assert outcomes(recorded, "retry") == 2 and outcomes(recorded, "dead_letter") == 1
    dead_url = client.get_queue_url(QueueName=queue + "-dlq")["QueueUrl"]
    (dead,) = client.receive_message(QueueUrl=dead_url, MessageAttributeNames=["All"])["Messages"]
    attributes = {k: v["StringValue"] for k, v in dead["MessageAttributes"].items()}
    (send,) = recorded.spans(f"send {queue}")
    assert dead["Body"] == "poison"
    assert attributes[h.TRACEPARENT].split("-")[1] == f"{send.context.trace_id:032x}"
    assert attributes[h.DEAD_LETTER_REASON] == "ValueError"
    assert attributes[h.ORIGINAL_DESTINATION] == queue
    left = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert left["ApproximateNumberOfMessages"] == left["ApproximateNumberOfMessagesNotVisible"]
    assert left["ApproximateNumberOfMessages"] == "0"


def test_a_redrive_policy_names_the_dead_letter_queue(
    recorded: Recorded, client: Any, new_queue: Callable[..., str]
) -> None:
    target = client.create_queue(QueueName=f"graveyard-{id(recorded)}")["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=target, AttributeNames=["QueueArn"])
    policy = {"deadLetterTargetArn": arn["Attributes"]["QueueArn"], "maxReceiveCount": "5"}
    url = new_queue(dead_letter=False, attributes={"RedrivePolicy": json.dumps(policy)})
    instrumented = sqs.instrument_client(client)
    instrumented.send_message(QueueUrl=url, MessageBody="poison")

    @consumer(group="billing")
    def bill(message: dict, ctx: MessageContext) -> None:
        ctx.dead_letter("unknown customer")
        raise LookupError("unknown customer")

    drain(instrumented, url, bill, 1)
    (dead,) = client.receive_message(QueueUrl=target, MessageAttributeNames=["All"])["Messages"]
    assert dead["MessageAttributes"][h.DEAD_LETTER_REASON]["StringValue"] == "unknown customer"


def test_a_message_with_corrupted_trace_attributes_is_still_processed(
    recorded: Recorded, client: Any, new_queue: Callable[..., str]
) -> None:
    url = new_queue()
    client.send_message(  # a foreign sender, not instrumented
        QueueUrl=url,
        MessageBody="order",
        MessageAttributes={
            h.TRACEPARENT: {"DataType": "String", "StringValue": "00-zz-zz-01"},
            h.PUBLISHED_AT: {"DataType": "Number", "StringValue": "-1e400"},
        },
    )
    handled: list[str] = []

    @consumer(group="billing")
    def bill(message: dict) -> None:
        handled.append(message["Body"])

    drain(sqs.instrument_client(client), url, bill, 1)
    assert handled == ["order"]
    (span,) = recorded.spans(f"process {sqs.queue_name(url)}")
    assert span.parent is None
    assert outcomes(recorded, "ok") == 1


def test_a_message_with_many_application_attributes_is_still_accepted(
    recorded: Recorded, client: Any, new_queue: Callable[..., str]
) -> None:
    """SQS rejects an eleventh attribute: eventscope's give way to the application's."""
    url = new_queue()
    attributes = {
        f"app-{i}": {"DataType": "String", "StringValue": str(i)}
        for i in range(SQS_MAX_ATTRIBUTES - 2)
    }
    sqs.instrument_client(client).send_message(
        QueueUrl=url, MessageBody="order", MessageAttributes=attributes
    )
    (message,) = client.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    names = set(message["MessageAttributes"])
    assert len(names) == SQS_MAX_ATTRIBUTES
    assert {f"app-{i}" for i in range(SQS_MAX_ATTRIBUTES - 2)} <= names
    (span,) = recorded.spans(f"send {sqs.queue_name(url)}")
    # SQS's MessageId is the message's id (semconv 1.44); eventscope's event id is kept.
    assert span.attributes[Attr.MESSAGE_ID] == message["MessageId"]
    assert span.attributes[Attr.EVENT_ID] == message["MessageAttributes"][h.EVENT_ID]["StringValue"]
    assert span.attributes[Attr.SERVER_ADDRESS] == "127.0.0.1"
