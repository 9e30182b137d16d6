"""A :class:`~eventscope.outbox.relay.Publisher` for each broker's official client.

Each one hands the stored payload and headers to the client unchanged, in the header
format that client uses (Kafka header tuples, AMQP header table, NATS headers, Redis
Streams fields beside the payload field), so the ``@consumer`` on the other side reads
the trace context the outbox write stored.  The client libraries are imported when a
publisher for them is built: each needs its broker's extra.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from eventscope.catalog import KAFKA, NATS, RABBITMQ, REDIS
from eventscope.errors import UsageError
from eventscope.outbox.relay import Publisher

PAYLOAD_FIELD = "payload"
"""The Redis Streams field that holds the payload (headers are the other fields)."""


def redis_publisher(client: Any, *, payload_field: str = PAYLOAD_FIELD) -> Publisher:
    """XADD to the destination stream with a ``redis.Redis`` client."""

    def publish(destination: str, key: str | None, payload: bytes, headers: dict[str, str]) -> None:
        client.xadd(destination, {payload_field: payload, **headers})

    return Publisher(REDIS.name, publish, close=client.close)


def kafka_publisher(producer: Any) -> Publisher:
    """``produce`` with a ``confluent_kafka.Producer``; ``flush`` waits for every delivery
    report and raises on the first failed one (the batch is then not committed)."""
    failures: list[Any] = []

    def delivered(error: Any, _message: Any) -> None:
        if error is not None:
            failures.append(error)

    def publish(destination: str, key: str | None, payload: bytes, headers: dict[str, str]) -> None:
        producer.produce(
            destination, payload, key, headers=list(headers.items()), on_delivery=delivered
        )
        producer.poll(0)

    def flush() -> None:
        left = producer.flush(30)
        if failures or left:
            error = failures[0] if failures else f"{left} messages undelivered after 30 s"
            failures.clear()
            raise RuntimeError(f"Kafka delivery failed: {error}")

    return Publisher(KAFKA.name, publish, flush)


def rabbitmq_publisher(channel: Any, *, exchange: str = "") -> Publisher:
    """``basic_publish`` with a pika ``BlockingChannel``, persistent, on ``exchange``
    (default: the default exchange, where the destination is the queue name; with a named
    exchange the destination is the routing key).  Turn on publisher confirms
    (``channel.confirm_delivery()``) so an unroutable or nacked message raises."""
    import pika

    def publish(destination: str, key: str | None, payload: bytes, headers: dict[str, str]) -> None:
        properties = pika.BasicProperties(
            headers=dict(headers), delivery_mode=pika.DeliveryMode.Persistent
        )
        channel.basic_publish(exchange, destination, payload, properties, mandatory=True)

    return Publisher(RABBITMQ.name, publish, close=channel.close)


def nats_publisher(url: str) -> Publisher:
    """JetStream ``publish`` (acknowledged by the stream) with nats-py, on a loop of its own."""
    import nats

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="eventscope-outbox-nats", daemon=True)
    thread.start()

    def run(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=30)

    client = run(nats.connect(url))
    jetstream = client.jetstream()

    def publish(destination: str, key: str | None, payload: bytes, headers: dict[str, str]) -> None:
        run(jetstream.publish(destination, payload, headers=dict(headers)))

    def close() -> None:
        run(client.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)

    return Publisher(NATS.name, publish, close=close)


def _redis(url: str) -> Publisher:
    import redis

    return redis_publisher(redis.Redis.from_url(url))


def _kafka(bootstrap: str) -> Publisher:
    from confluent_kafka import Producer

    return kafka_publisher(Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True}))


def _rabbitmq(url: str) -> Publisher:
    import pika

    channel = pika.BlockingConnection(pika.URLParameters(url)).channel()
    channel.confirm_delivery()
    return rabbitmq_publisher(channel)


BROKERS: dict[str, tuple[str, Callable[[str], Publisher]]] = {
    KAFKA.name: ("bootstrap servers, host:port[,host:port]", _kafka),
    RABBITMQ.name: ("amqp://user:password@host:port/vhost", _rabbitmq),
    NATS.name: ("nats://host:port", nats_publisher),
    REDIS.name: ("redis://host:port/db", _redis),
}
"""Broker name → (what its address looks like, publisher factory), for the command line."""


def publisher_for(broker: str, address: str) -> Publisher:
    """A publisher for ``broker`` at ``address``; :class:`UsageError` when it cannot be."""
    entry = BROKERS.get(broker)
    if entry is None:
        raise UsageError(f"unknown broker {broker!r}; choose from {', '.join(BROKERS)}")
    shape, factory = entry
    try:
        return factory(address)
    except ImportError as exc:
        raise UsageError(
            f"the {broker} relay needs its client library: "
            f"pip install 'eventscope[{broker}]' ({exc})"
        ) from exc
    except Exception as exc:
        raise UsageError(f"cannot reach {broker} at {address!r} ({shape}): {exc}") from exc
