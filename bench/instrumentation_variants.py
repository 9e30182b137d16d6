"""The things ``bench/instrumentation.py`` compares, one builder per variant.

Each builder returns a zero-argument callable that handles (or sends) one message, so
the runner can interleave any of them.  The contrib variants drive the official
OpenTelemetry instrumentations the way their own code runs per message: pika's
decorated ``on_message_callback``, and ``ProxiedConsumer.poll`` over a consumer that
hands out real ``confluent_kafka.Message`` objects.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pika
from confluent_kafka import Message
from opentelemetry import propagate
from opentelemetry.instrumentation.confluent_kafka import ProxiedConsumer
from opentelemetry.instrumentation.pika.utils import _decorate_callback
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from eventscope import catalog, consumer, producer
from eventscope.instrumentation.brokers import kafka, rabbitmq
from eventscope.memory_bus import InMemoryBus

TOPIC, GROUP = "orders", "billing"
CONSUMER_ATTRIBUTES = {
    "messaging.system": "kafka",
    "messaging.destination.name": TOPIC,
    "messaging.consumer.group.name": GROUP,
    "messaging.operation.name": "process",
    "messaging.operation.type": "process",
}


def handler(*_message: Any) -> None:
    return None


# --- the raw prometheus-client calls ----------------------------------------------


def _family(registry: CollectorRegistry, metric: catalog.Metric, cls: type) -> Any:
    name = metric.prometheus_name
    if cls is Counter:
        name = name.removesuffix("_total")
    kwargs = {"buckets": metric.buckets} if cls is Histogram else {}
    return cls(f"raw_{name}", metric.help, metric.prometheus_labels, registry=registry, **kwargs)


def raw_consumer_prometheus(registry: CollectorRegistry) -> Callable[[Callable[[], Any]], None]:
    """The six prometheus-client calls the consumer makes per message, around ``inner``."""
    base = ("kafka", TOPIC, GROUP)
    in_flight = _family(registry, catalog.IN_FLIGHT, Gauge).labels(*base)
    process = _family(registry, catalog.PROCESS_DURATION, Histogram).labels(*base, "process", "")
    consumed = _family(registry, catalog.CONSUMED_MESSAGES, Counter).labels(*base, "process", "")
    outcomes = _family(registry, catalog.PROCESS_OUTCOMES, Counter).labels(*base, "ok")
    e2e = _family(registry, catalog.END_TO_END_DURATION, Histogram).labels(*base)

    def around(inner: Callable[[], Any]) -> None:
        in_flight.inc()
        inner()
        in_flight.dec()
        process.observe(0.0001)
        consumed.inc()
        outcomes.inc()
        e2e.observe(0.002)

    return around


def raw_producer_prometheus(registry: CollectorRegistry) -> Callable[[], None]:
    """The two prometheus-client calls the producer makes per message, and the send."""
    labels = ("kafka", TOPIC, "send", "")
    operation = _family(registry, catalog.CLIENT_OPERATION_DURATION, Histogram).labels(*labels)
    sent = _family(registry, catalog.SENT_MESSAGES, Counter).labels(*labels)

    def counted() -> None:
        send(b"{}", {})
        operation.observe(0.0001)
        sent.inc()

    return counted


# --- hand-written OpenTelemetry ------------------------------------------------------


def handwritten(provider: TracerProvider, message: dict, prometheus: Any = None) -> Callable:
    """The usual hand-written consumer span, optionally with the raw Prometheus calls."""
    tracer = provider.get_tracer("handwritten")

    def traced() -> None:
        ctx = propagate.extract(message["headers"])
        with tracer.start_as_current_span(
            f"process {TOPIC}", context=ctx, kind=SpanKind.CONSUMER, attributes=CONSUMER_ATTRIBUTES
        ):
            handler(message)

    if prometheus is None:
        return traced

    def traced_and_counted() -> None:
        ctx = propagate.extract(message["headers"])
        with tracer.start_as_current_span(
            f"process {TOPIC}", context=ctx, kind=SpanKind.CONSUMER, attributes=CONSUMER_ATTRIBUTES
        ):
            prometheus(lambda: handler(message))

    return traced_and_counted


# --- pika --------------------------------------------------------------------------


def _pika_delivery(headers: dict) -> tuple:
    params = SimpleNamespace(host="127.0.0.1", port=5672)
    channel = SimpleNamespace(
        connection=SimpleNamespace(params=params),
        basic_ack=lambda **_: None,
        basic_nack=lambda **_: None,
    )
    method = pika.spec.Basic.Deliver(
        consumer_tag="ctag", delivery_tag=1, redelivered=False, exchange="", routing_key=TOPIC
    )
    return channel, method, pika.BasicProperties(headers=dict(headers)), b"{}"


def pika_eventscope(headers: dict) -> Callable[[], None]:
    callback = rabbitmq.consumer(GROUP)(handler)
    delivery = _pika_delivery(headers)
    return lambda: callback(*delivery)


def pika_contrib(provider: TracerProvider, headers: dict) -> Callable[[], None]:
    callback = _decorate_callback(handler, provider.get_tracer("contrib-pika"), TOPIC)
    delivery = _pika_delivery(headers)
    return lambda: callback(*delivery)


# --- confluent-kafka ---------------------------------------------------------------


class _OneMessage:
    """A consumer whose ``poll`` always returns the same real ``Message``."""

    def __init__(self, message: Message) -> None:
        self.message = message
        self.config = {"bootstrap.servers": "127.0.0.1:9092"}

    def poll(self, *_args: Any, **_kwargs: Any) -> Message:
        return self.message

    def close(self) -> None:
        return None


def _kafka_message(headers: dict, offset: int = 7) -> Message:
    pairs = [(name, value.encode()) for name, value in headers.items()]
    return Message(topic=TOPIC, partition=0, offset=offset, key=b"k", value=b"{}", headers=pairs)


def kafka_eventscope(headers: dict) -> Callable[[], None]:
    polled = kafka.instrument_consumer(_OneMessage(_kafka_message(headers)))
    handle = consumer(group=GROUP)(handler)

    def one() -> None:
        handle(polled.poll(1.0))

    return one


def kafka_contrib(provider: TracerProvider, headers: dict) -> Callable[[], None]:
    polled = ProxiedConsumer(_OneMessage(_kafka_message(headers)), provider.get_tracer("contrib"))

    def one() -> None:
        handler(polled.poll(1.0))

    return one


# --- the producer and the in-memory pipeline --------------------------------------


def send(value: bytes, headers: Any) -> None:
    return None


def producer_eventscope() -> Callable[[], None]:
    decorated = producer(TOPIC, system="kafka")(send)
    return lambda: decorated(b"{}", {})


def _pipeline(instrumented: bool) -> tuple[InMemoryBus, Callable[..., None]]:
    """A bus with one group subscribed, and the function that publishes to it."""
    bus = InMemoryBus()

    def publish(value: bytes, headers: dict) -> None:
        bus.publish(TOPIC, value, headers=headers)

    def handle(message: Any) -> None:
        return None

    if instrumented:
        publish = producer(TOPIC, system="memory")(publish)
        handle = consumer(TOPIC, group=GROUP)(handle)
    bus.subscribe(TOPIC, GROUP, handle)
    return bus, publish


def pipeline_rate(messages: int, instrumented: bool) -> float:
    """Messages per second through the in-memory bus: publish all, then dispatch all."""
    bus, publish = _pipeline(instrumented)
    started = time.perf_counter()
    for _ in range(messages):
        publish(b"{}", {})
    bus.dispatch()
    return messages / (time.perf_counter() - started)


PIPELINE_ROUND = 10


def pipeline_round(instrumented: bool) -> Callable[[], None]:
    """Publish then dispatch ``PIPELINE_ROUND`` messages on one bus, per call."""
    bus, publish = _pipeline(instrumented)

    def one_round() -> None:
        for _ in range(PIPELINE_ROUND):
            publish(b"{}", {})
        bus.dispatch()

    return one_round
