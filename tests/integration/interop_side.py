"""One side of an interoperability test, in a process of its own.

``python -m tests.integration.interop_side <who> <role> <library> <address> <destination>``
where ``who`` is ``official`` (OpenTelemetry's contrib instrumentation) or
``eventscope``, ``role`` is ``produce`` or ``consume``, ``library`` one of ``pika``,
``aio-pika``, ``confluent-kafka``, ``aiokafka``.  A producer sends one message under a
remote parent with a ``tracestate`` entry and a ``baggage`` entry; a consumer takes one
message and reports the baggage its handler saw and the headers the message carried.
Either way the side prints its finished spans as JSON on the last line of stdout.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from typing import Any

from opentelemetry import baggage, context, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

PARENT = SpanContext(
    trace_id=0x0AF7651916CD43DD8448EB211C80319C,
    span_id=0x00F067AA0BA902B7,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
    trace_state=TraceState([("vendor", "kept")]),
)
BAGGAGE = ("tenant", "acme")


INSTRUMENTORS = {
    "official": {
        "pika": "opentelemetry.instrumentation.pika:PikaInstrumentor",
        "aio-pika": "opentelemetry.instrumentation.aio_pika:AioPikaInstrumentor",
        "confluent-kafka": (
            "opentelemetry.instrumentation.confluent_kafka:ConfluentKafkaInstrumentor"
        ),
        "aiokafka": "opentelemetry.instrumentation.aiokafka:AIOKafkaInstrumentor",
    },
    "eventscope": {
        "pika": "eventscope.instrumentation.brokers.pika_instrumentor:PikaInstrumentor",
        "aio-pika": "eventscope.instrumentation.brokers.aio_pika_instrumentor:AioPikaInstrumentor",
        "confluent-kafka": (
            "eventscope.instrumentation.brokers.confluent_kafka_instrumentor:"
            "ConfluentKafkaInstrumentor"
        ),
        "aiokafka": "eventscope.instrumentation.brokers.aiokafka_instrumentor:AioKafkaInstrumentor",
    },
}


def _instrument(who: str, library: str, provider: TracerProvider) -> None:
    module, _, name = INSTRUMENTORS[who][library].partition(":")
    instrumentor = getattr(importlib.import_module(module), name)()
    if who == "official":
        instrumentor.instrument(tracer_provider=provider)
        return
    from eventscope.instrumentation import configure

    configure("interop", tracer_provider=provider, set_global=False, otlp=False)
    instrumentor.instrument()


def _under_parent() -> Any:
    """Attach the remote parent (with its tracestate) and the baggage entry."""
    ctx = trace.set_span_in_context(NonRecordingSpan(PARENT))
    return context.attach(baggage.set_baggage(*BAGGAGE, context=ctx))


def _seen(headers: Any) -> dict[str, Any]:
    """What a handler saw: the baggage in its context, and the message's headers."""
    if isinstance(headers, list | tuple):  # Kafka: (name, value) pairs
        headers = dict(headers)
    return {
        "baggage": baggage.get_baggage(BAGGAGE[0]),
        "headers": {
            k: v.decode() if isinstance(v, bytes) else str(v) for k, v in (headers or {}).items()
        },
    }


def _pika(who: str, role: str, url: str, queue: str) -> dict[str, Any]:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    seen: dict[str, Any] = {}
    if role == "produce":
        token = _under_parent()
        channel.basic_publish("", queue, b"order", pika.BasicProperties(headers={}))
        context.detach(token)
    else:

        def on_message(ch, method, properties, body) -> None:
            seen.update(_seen(properties.headers))
            ch.basic_ack(delivery_tag=method.delivery_tag)

        channel.basic_consume(queue, on_message)
        while not seen:
            connection.process_data_events(time_limit=0.1)
    connection.close()
    return seen


async def _aio_pika(who: str, role: str, url: str, queue: str) -> dict[str, Any]:
    import aio_pika

    connection = await aio_pika.connect(url)
    seen: dict[str, Any] = {}
    async with connection:
        channel = await connection.channel()
        if role == "produce":
            token = _under_parent()
            await channel.default_exchange.publish(aio_pika.Message(b"order"), routing_key=queue)
            context.detach(token)
        else:
            done = asyncio.Event()

            async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
                seen.update(_seen(message.headers))
                if who == "official":
                    await message.ack()
                done.set()

            declared = await channel.get_queue(queue)
            await declared.consume(on_message)
            await asyncio.wait_for(done.wait(), 15)
    return seen


def _confluent(who: str, role: str, bootstrap: str, topic: str) -> dict[str, Any]:
    import confluent_kafka

    from eventscope import consumer

    seen: dict[str, Any] = {}
    if role == "produce":
        producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
        token = _under_parent()
        producer.produce(topic, b"order")
        context.detach(token)
        producer.flush(10)
        return seen
    client = confluent_kafka.Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "interop", "enable.auto.commit": False}
    )
    client.assign([confluent_kafka.TopicPartition(topic, 0, 0)])

    def handle(message: Any) -> None:
        seen.update(_seen(message.headers()))

    if who == "eventscope":
        handle = consumer(group="interop")(handle)
    while not seen:
        message = client.poll(0.2)
        if message is not None and message.error() is None:
            handle(message)
    client.close()  # the contrib ends its process span at the next poll or close
    return seen


async def _aiokafka(who: str, role: str, bootstrap: str, topic: str) -> dict[str, Any]:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    from eventscope import consumer

    seen: dict[str, Any] = {}
    if role == "produce":
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        token = _under_parent()
        await producer.send_and_wait(topic, b"order")
        context.detach(token)
        await producer.stop()
        return seen
    client = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id="interop")
    await client.start()
    client.assign([TopicPartition(topic, 0)])
    await client.seek_to_beginning()

    async def handle(record: Any) -> None:
        seen.update(_seen(record.headers))

    if who == "eventscope":
        handle = consumer(group="interop")(handle)
    record = await asyncio.wait_for(client.getone(), 15)
    await handle(record)
    await client.stop()
    return seen


def main(who: str, role: str, library: str, address: str, destination: str) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _instrument(who, library, provider)
    if library == "pika":
        seen = _pika(who, role, address, destination)
    elif library == "aio-pika":
        seen = asyncio.run(_aio_pika(who, role, address, destination))
    elif library == "confluent-kafka":
        seen = _confluent(who, role, address, destination)
    else:
        seen = asyncio.run(_aiokafka(who, role, address, destination))
    spans = [
        {
            "name": s.name,
            "kind": s.kind.name,
            "scope": s.instrumentation_scope.name if s.instrumentation_scope else "",
            "trace_id": s.context.trace_id,
            "span_id": s.context.span_id,
            "trace_state": s.context.trace_state.to_header(),
            "parent": s.parent.span_id if s.parent else None,
            "links": [link.context.span_id for link in s.links],
        }
        for s in exporter.get_finished_spans()
    ]
    print(json.dumps({"spans": spans, **seen}))


if __name__ == "__main__":
    main(*sys.argv[1:6])
