"""OpenTelemetry's contrib confluent-kafka instrumentation and eventscope in one process.

The contrib's ``produce()`` span and its ``recv``/``process`` spans from ``poll()`` are
not made for a client eventscope wraps (it calls confluent-kafka's own methods, past
the contrib's subclass): one PRODUCER and one CONSUMER span per record, one trace,
counted once, with the client's server address and id (against Tansu).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import confluent_kafka
import pytest
from opentelemetry.instrumentation.confluent_kafka import (
    ConfluentKafkaInstrumentor as ContribConfluentKafka,
)
from opentelemetry.trace import SpanKind

from eventscope import catalog, consumer
from eventscope.catalog import Attr
from eventscope.instrumentation.brokers import kafka
from eventscope.instrumentation.brokers.confluent_kafka_instrumentor import (
    ConfluentKafkaInstrumentor,
)
from tests.conftest import Recorded
from tests.integration.kafka.helpers import DESTINATION, config, outcomes, poll_until

pytestmark = pytest.mark.kafka
RECORDS = 3


@pytest.fixture
def contrib(recorded: Recorded) -> Iterator[None]:
    instrumentor = ContribConfluentKafka()
    instrumentor.instrument(tracer_provider=recorded.provider)
    yield
    instrumentor.uninstrument()


def _clients(bootstrap: str, topic: str, wrap: bool) -> tuple[object, object]:
    producer_config = config(bootstrap, **{"linger.ms": 0, "client.id": "orders-api"})
    consumer_config = config(bootstrap, **{"group.id": "billing", "enable.auto.commit": False})
    producer = confluent_kafka.Producer(producer_config)
    source = confluent_kafka.Consumer(consumer_config)
    if wrap:
        producer = kafka.instrument_producer(producer, config=producer_config)
        source = kafka.instrument_consumer(source, config=consumer_config)
    source.assign([confluent_kafka.TopicPartition(topic, 0, 0)])
    return producer, source


@pytest.mark.parametrize("how", ["eventscope's instrumentor", "eventscope's wrappers"])
def test_confluent_kafka_with_the_contrib_instrumentor_makes_one_span_per_side(
    recorded: Recorded, contrib: None, bootstrap: str, new_topic: Callable[..., str], how: str
) -> None:
    topic = new_topic()
    ours = ConfluentKafkaInstrumentor()
    if how == "eventscope's instrumentor":
        ours.instrument()  # after the contrib's: its subclasses of the contrib's classes
    try:
        producer, source = _clients(bootstrap, topic, wrap=how == "eventscope's wrappers")
    finally:
        ours.uninstrument()
    for i in range(RECORDS):
        producer.produce(topic, f"order {i}".encode())
    producer.flush(10)
    handled: list[bytes] = []

    @consumer(group="billing")
    def bill(message) -> None:
        handled.append(message.value())

    def poll() -> None:
        message = source.poll(0.2)
        if message is not None and message.error() is None:
            bill(message)

    poll_until(poll, lambda: len(handled) == RECORDS)
    source.close()

    spans = recorded.spans()
    producers = {s.context.span_id: s for s in spans if s.kind is SpanKind.PRODUCER}
    consumers = [s for s in spans if s.kind is SpanKind.CONSUMER]
    assert (len(producers), len(consumers)) == (RECORDS, RECORDS), [s.name for s in spans]
    for process in consumers:
        sent = producers[process.parent.span_id]
        assert (sent.name, process.name) == (f"send {topic}", f"process {topic}")
        assert sent.attributes[Attr.CLIENT_ID] == "orders-api"
        assert sent.attributes[Attr.SERVER_ADDRESS] == bootstrap.rpartition(":")[0]
        assert process.attributes[Attr.SERVER_PORT] == int(bootstrap.rpartition(":")[2])
        assert process.attributes[Attr.CONSUMER_GROUP] == "billing"
    sent_total = recorded.value(catalog.SENT_MESSAGES.series(), **{DESTINATION: topic})
    consumed = recorded.value(catalog.CONSUMED_MESSAGES.series(), **{DESTINATION: topic})
    assert (sent_total, consumed, outcomes(recorded, "ok", "billing")) == (RECORDS,) * 3
