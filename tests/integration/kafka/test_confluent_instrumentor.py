"""ConfluentKafkaInstrumentor against a real broker (Tansu): confluent-kafka's own
``Producer``/``Consumer`` names, traced and settling, until ``uninstrument()``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import confluent_kafka
import pytest

from eventscope import MessageContext, consumer
from eventscope.catalog import Attr
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import kafka
from eventscope.instrumentation.brokers.confluent_kafka_instrumentor import (
    ConfluentKafkaInstrumentor,
)
from tests.conftest import Recorded
from tests.integration.kafka.helpers import config, outcomes, poll_until, read_all

pytestmark = pytest.mark.kafka

ORIGINAL_PRODUCER, ORIGINAL_CONSUMER = confluent_kafka.Producer, confluent_kafka.Consumer


@pytest.fixture
def instrumented() -> Iterator[None]:
    ConfluentKafkaInstrumentor().instrument()
    try:
        yield
    finally:
        ConfluentKafkaInstrumentor().uninstrument()


def _consumer(bootstrap: str, topic: str) -> confluent_kafka.Consumer:
    settings = {"group.id": "billing", "enable.auto.commit": False}
    source = confluent_kafka.Consumer(config(bootstrap, **settings))
    source.assign([confluent_kafka.TopicPartition(topic, 0, 0)])
    return source


def test_clients_made_after_instrument_trace_retry_and_dead_letter(
    recorded: Recorded, instrumented: None, bootstrap: str, new_topic: Callable[..., str]
) -> None:
    topic = new_topic(dead_letter=True)
    producer = confluent_kafka.Producer(config(bootstrap, **{"linger.ms": 0}))
    assert isinstance(producer, ORIGINAL_PRODUCER)  # the client's own type, not a wrapper
    producer.produce(topic, b"poison", key="c-1")
    producer.produce(topic, b"fine", key="c-2")
    producer.flush(10)

    attempts: list[tuple[bytes, int]] = []

    @consumer(group="billing", max_attempts=3)
    def bill(message, ctx: MessageContext) -> None:
        attempts.append((message.value(), ctx.attempt))
        if message.value() == b"poison":
            raise ValueError("cannot parse the order")

    source = _consumer(bootstrap, topic)
    assert isinstance(source, ORIGINAL_CONSUMER)
    committed: list[int] = []

    def poll() -> None:
        message = source.poll(0.2)
        if message is None or message.error() is not None:
            return
        bill(message)
        source.commit(message, asynchronous=False)
        (position,) = source.committed([confluent_kafka.TopicPartition(topic, 0)], timeout=10)
        committed.append(position.offset)

    poll_until(poll, lambda: len(attempts) == 4)
    source.close()

    assert attempts == [(b"poison", 1), (b"poison", 2), (b"poison", 3), (b"fine", 1)]
    assert committed == [0, 0, 1, 2]  # never past the record waiting for its retry
    assert outcomes(recorded, "retry", "billing") == 2
    assert outcomes(recorded, "dead_letter", "billing") == 1
    sends = recorded.spans(f"send {topic}")
    assert len(sends) == 2 and {s.attributes[Attr.SYSTEM] for s in sends} == {"kafka"}
    processed = recorded.spans(f"process {topic}")
    assert processed[0].context.trace_id == sends[0].context.trace_id
    (dead,) = read_all(bootstrap, topic + ".dlq", 1)
    assert dead.value() == b"poison"
    assert dict(dead.headers())[h.ORIGINAL_DESTINATION] == topic.encode()


def test_a_client_also_wrapped_by_hand_is_traced_once(
    recorded: Recorded, instrumented: None, bootstrap: str, new_topic: Callable[..., str]
) -> None:
    topic = new_topic()
    producer = kafka.instrument_producer(confluent_kafka.Producer(config(bootstrap)))
    producer.produce(topic, b"order")
    producer.flush(10)
    (message,) = read_all(bootstrap, topic, 1)
    (send,) = recorded.spans(f"send {topic}")
    traceparent = dict(message.headers())[h.TRACEPARENT].decode()
    assert traceparent.split("-")[2] == f"{send.context.span_id:016x}"


def test_uninstrument_gives_confluent_kafka_its_own_classes_back(
    recorded: Recorded, bootstrap: str, new_topic: Callable[..., str]
) -> None:
    instrumentor = ConfluentKafkaInstrumentor()
    instrumentor.instrument()
    instrumentor.instrument()  # twice is harmless
    traced = confluent_kafka.Producer(config(bootstrap))
    instrumentor.uninstrument()
    assert not instrumentor.is_instrumented
    assert (confluent_kafka.Producer, confluent_kafka.Consumer) == (
        ORIGINAL_PRODUCER,
        ORIGINAL_CONSUMER,
    )
    topic = new_topic()
    plain = confluent_kafka.Producer(config(bootstrap))
    plain.produce(topic, b"untraced")
    traced.produce(topic, b"traced")  # made while instrumented: stays traced
    plain.flush(10)
    traced.flush(10)
    assert len(recorded.spans(f"send {topic}")) == 1
    messages = {m.value(): dict(m.headers() or []) for m in read_all(bootstrap, topic, 2)}
    assert h.TRACEPARENT not in messages[b"untraced"]
    assert h.TRACEPARENT in messages[b"traced"]
