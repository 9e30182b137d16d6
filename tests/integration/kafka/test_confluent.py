"""confluent-kafka, instrumented with one line per client, against a real broker (Tansu)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from confluent_kafka import KafkaError, KafkaException, Message, Producer
from opentelemetry.trace import SpanKind

from eventscope import DeadLetter, MessageContext, catalog, consumer
from eventscope.catalog import Attr
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import kafka
from eventscope.instrumentation.brokers.kafka_delivery import KAFKA_MESSAGE_KEY, KAFKA_OFFSET
from tests.conftest import Recorded
from tests.integration.kafka.helpers import (
    DESTINATION,
    assigned_consumer,
    committed,
    config,
    outcomes,
    poll_until,
    read_all,
    single_record_producer,
)

pytestmark = pytest.mark.kafka


def test_producer_and_consumer_share_one_trace_and_count_what_was_sent(
    recorded: Recorded, bootstrap: str, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(partitions=2)
    producer = kafka.instrument_producer(Producer(config(bootstrap)))

    def place_order(i: int) -> None:  # the application's producer code, unchanged
        producer.produce(topic, f"order {i}".encode(), key=f"customer-{i}", partition=i % 2)

    for i in range(4):
        place_order(i)
    producer.flush(10)

    handled: list[tuple[str, int]] = []

    @consumer(group="billing")
    def bill(message: Message, ctx: MessageContext) -> None:
        handled.append((message.value().decode(), ctx.attempt))

    source = kafka.instrument_consumer(assigned_consumer(bootstrap, "billing", topic, 2))

    def poll() -> None:
        message = source.poll(0.2)
        if message is not None and message.error() is None:
            bill(message)

    poll_until(poll, lambda: len(handled) == 4)
    source.close()

    assert sorted(handled) == [(f"order {i}", 1) for i in range(4)]
    producers = {s.attributes[Attr.MESSAGE_ID]: s for s in recorded.spans(f"send {topic}")}
    consumers = recorded.spans(f"process {topic}")
    assert len(producers) == 4 and len(consumers) == 4
    for span in consumers:
        parent = producers[span.attributes[Attr.MESSAGE_ID]]
        assert span.kind is SpanKind.CONSUMER
        assert span.context.trace_id == parent.context.trace_id
        assert span.parent.span_id == parent.context.span_id
        assert span.attributes[Attr.SYSTEM] == "kafka"
        assert span.attributes[Attr.CONSUMER_GROUP] == "billing"
        assert span.attributes[KAFKA_OFFSET] in (0, 1)
        customer = span.attributes[KAFKA_MESSAGE_KEY]
        assert span.attributes[Attr.PARTITION] == str(int(customer.split("-")[1]) % 2)
        assert parent.attributes[KAFKA_MESSAGE_KEY] == customer
    sent = catalog.SENT_MESSAGES.series()
    consumed = catalog.CONSUMED_MESSAGES.series()
    assert recorded.value(sent, **{DESTINATION: topic}) == 4
    assert recorded.value(consumed, **{DESTINATION: topic}) == 4
    assert outcomes(recorded, "ok", "billing") == 4


def test_a_consume_batch_is_one_span_linked_to_every_producer(
    recorded: Recorded, bootstrap: str, new_topic: Callable[..., str]
) -> None:
    topic = new_topic()
    producer = kafka.instrument_producer(single_record_producer(bootstrap))
    for i in range(5):
        producer.produce(topic, f"order {i}".encode(), headers=[("tenant", b"acme")])
        producer.flush(10)

    batches: list[int] = []

    @consumer(group="audit", batch=True)
    def audit(messages: list[Message]) -> None:
        batches.append(len(messages))

    source = kafka.instrument_consumer(assigned_consumer(bootstrap, "audit", topic))
    received: list[Message] = []

    def consume() -> None:
        received.extend(source.consume(num_messages=5 - len(received), timeout=0.5))

    poll_until(consume, lambda: len(received) == 5)
    audit(received)
    source.close()

    assert batches == [5]
    (span,) = recorded.spans(f"process {topic}")
    producer_spans = {s.context.span_id for s in recorded.spans(f"send {topic}")}
    assert {link.context.span_id for link in span.links} == producer_spans
    assert span.attributes[Attr.BATCH_COUNT] == 5
    assert all(dict(m.headers())["tenant"] == b"acme" for m in received)
    assert recorded.value(catalog.CONSUMED_MESSAGES.series(), **{DESTINATION: topic}) == 5
    assert recorded.value(catalog.PROCESS_DURATION.series("_count"), **{DESTINATION: topic}) == 1


@pytest.mark.parametrize("commit_style", ["message", "position", "stored"])
def test_retries_rewind_the_partition_then_the_record_goes_to_the_dead_letter_topic(
    recorded: Recorded, bootstrap: str, new_topic: Callable[..., str], commit_style: str
) -> None:
    topic = new_topic(dead_letter=True)
    producer = kafka.instrument_producer(single_record_producer(bootstrap))
    producer.produce(topic, b"poison", key="c-1")
    producer.produce(topic, b"fine", key="c-2")
    producer.flush(10)

    attempts: list[tuple[bytes, int]] = []

    @consumer(group="billing", max_attempts=3)
    def bill(message: Message, ctx: MessageContext) -> None:
        attempts.append((message.value(), ctx.attempt))
        if message.value() == b"poison":
            raise ValueError("cannot parse the order")

    raw = assigned_consumer(
        bootstrap, "billing", topic, store_offsets_automatically=commit_style != "stored"
    )
    source = kafka.instrument_consumer(raw, dead_letter_producer=producer)
    commits: list[int] = []

    def poll() -> None:
        message = source.poll(0.2)
        if message is None or message.error() is not None:
            return
        bill(message)
        # The application's usual commit, in one of librdkafka's three styles.
        if commit_style == "message":
            source.commit(message, asynchronous=False)
        elif commit_style == "position":
            source.commit(asynchronous=False)
        else:
            source.store_offsets(message)
            try:
                source.commit(asynchronous=False)
            except KafkaException as exc:  # the stored offset did not move: nothing new
                assert exc.args[0].code() == KafkaError._NO_OFFSET
        commits.append(committed(raw, topic))

    poll_until(poll, lambda: len(attempts) == 4)
    source.close()

    assert attempts == [(b"poison", 1), (b"poison", 2), (b"poison", 3), (b"fine", 1)]
    # A record waiting for its retry is never committed past; after the dead letter it is.
    assert commits == [0, 0, 1, 2]
    assert outcomes(recorded, "retry", "billing") == 2
    assert outcomes(recorded, "dead_letter", "billing") == 1
    assert outcomes(recorded, "ok", "billing") == 1
    last = recorded.spans(f"process {topic}")[2]
    assert last.attributes[Attr.DEAD_LETTER_DESTINATION] == topic + ".dlq"

    (dead,) = read_all(bootstrap, topic + ".dlq", 1)
    headers = dict(dead.headers())
    (send_poison,) = [
        s for s in recorded.spans(f"send {topic}") if s.attributes[KAFKA_MESSAGE_KEY] == "c-1"
    ]
    assert dead.value() == b"poison" and dead.key() == b"c-1"
    assert headers[h.TRACEPARENT].decode().split("-")[1] == f"{send_poison.context.trace_id:032x}"
    assert headers[h.DEAD_LETTER_REASON] == b"ValueError"
    assert headers[h.ORIGINAL_DESTINATION] == topic.encode()


def test_a_dead_letter_without_a_dead_letter_producer_reaches_the_caller(
    recorded: Recorded, bootstrap: str, new_topic: Callable[..., str]
) -> None:
    topic = new_topic()
    produce = single_record_producer(bootstrap)
    produce.produce(topic, b"poison")
    produce.flush(10)

    @consumer(group="billing")
    def bill(message: Message) -> None:
        raise DeadLetter("unknown customer")

    source = kafka.instrument_consumer(assigned_consumer(bootstrap, "billing", topic))
    raised: list[Exception] = []

    def poll() -> None:
        message = source.poll(0.2)
        if message is not None and message.error() is None:
            try:
                bill(message)
            except DeadLetter as exc:
                raised.append(exc)

    poll_until(poll, lambda: bool(raised))
    source.close()
    assert str(raised[0]) == "unknown customer"
    assert outcomes(recorded, "dead_letter", "billing") == 1


def test_a_record_with_corrupted_trace_headers_is_still_processed(
    recorded: Recorded, bootstrap: str, new_topic: Callable[..., str]
) -> None:
    topic = new_topic()
    producer = single_record_producer(bootstrap)  # a foreign producer, not instrumented
    producer.produce(
        topic,
        b"order",
        headers=[(h.TRACEPARENT, b"00-not-a-trace-\xff"), (h.PUBLISHED_AT, b"yesterday")],
    )
    producer.flush(10)
    handled: list[bytes] = []

    @consumer(group="billing")
    def bill(message: Message) -> None:
        handled.append(message.value())

    source = kafka.instrument_consumer(assigned_consumer(bootstrap, "billing", topic))

    def poll() -> None:
        message = source.poll(0.2)
        if message is not None and message.error() is None:
            bill(message)

    poll_until(poll, lambda: bool(handled))
    source.close()
    assert handled == [b"order"]
    (span,) = recorded.spans(f"process {topic}")
    assert span.parent is None  # a new trace, not a broken one
    assert outcomes(recorded, "ok", "billing") == 1


def test_a_retry_inside_a_consume_batch_replays_the_partition_from_that_record(
    recorded: Recorded, bootstrap: str, new_topic: Callable[..., str]
) -> None:
    topic = new_topic()
    producer = kafka.instrument_producer(single_record_producer(bootstrap))
    for value in (b"a", b"b", b"c"):
        producer.produce(topic, value)
        producer.flush(10)

    seen: list[tuple[bytes, int]] = []

    @consumer(group="billing", max_attempts=3, deduplicate=100)
    def bill(message: Message, ctx: MessageContext) -> None:
        seen.append((message.value(), ctx.attempt))
        if message.value() == b"b" and ctx.attempt == 1:
            raise TimeoutError("payment gateway timed out")

    raw = assigned_consumer(bootstrap, "billing", topic)
    source = kafka.instrument_consumer(raw)
    commits: list[int] = []
    batches: list[list[bytes]] = []

    def consume() -> None:
        batch = source.consume(num_messages=3, timeout=0.5)
        batches.append([m.value() for m in batch])
        for message in batch:
            bill(message)
            source.commit(message, asynchronous=False)
            commits.append(committed(raw, topic))

    poll_until(consume, lambda: commits[-1:] == [3])
    source.close()

    assert next(b for b in batches if b) == [b"a", b"b", b"c"]  # "b" fails mid-batch
    # "c" was handled after "b" failed, so it comes again after "b" (at least once):
    # the handler's deduplication skips it the second time.
    assert seen == [(b"a", 1), (b"b", 1), (b"c", 1), (b"b", 2)]
    assert outcomes(recorded, "duplicate", "billing") == 1
    # Nothing past "b" is committed until "b" is done.
    assert commits == [1, 1, 1, 2, 3]
