"""The demo on Redis Streams, with redis-py.

A stream per topic (the key is the topic's name) with one consumer group per demo
group, and ``<topic>.dlq`` beside it.  The demo marks the keys it creates (a
``eventscope-demo:<topic>`` key) and only ever deletes marked ones: a run starts by
deleting its previous run's streams, and stops with a clear message if the key holds
someone else's data; the keys are removed at the end.

Each group has a thread that reads new entries (``XREADGROUP ... >``) and reclaims its
pending ones (``XAUTOCLAIM``): a retry is an entry left unacknowledged, which comes back
this way with Redis's delivery count as its attempt.  A dead-letter is added to the
DLQ stream and acknowledged in one transaction.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import redis

from eventscope.catalog import REDIS
from eventscope.demo.transports.broker_base import BrokerTransport, decide, finished
from eventscope.errors import UsageError
from eventscope.instrumentation.brokers.redis_streams import (
    InstrumentedRedis,
    StreamEntry,
    carry_out,
)
from eventscope.lag.redis import RedisStreamsCollector

logger = logging.getLogger("eventscope.demo")
DEFAULT_URL = "redis://127.0.0.1:6379/0"
PAYLOAD = "payload"
MARKER = "eventscope-demo:"
BATCH = 20
BLOCK_MS = 100
RETRY_IDLE_MS = 20
"""How long a retried entry waits in the pending list before it is claimed again."""


class _Subscription:
    def __init__(
        self, transport: RedisTransport, topic: str, group: str, handler: Callable, attempts: int
    ) -> None:
        self.transport = transport
        self.topic = topic
        self.group = group
        self.handler = handler
        self.max_attempts = attempts
        self.settled = 0

    def handle(self, entry: StreamEntry) -> None:
        decision = decide(self.handler, entry, self.max_attempts, self.group)
        carry_out(entry, decision)
        if finished(decision):
            with self.transport.lock:
                self.settled += 1

    def run(self) -> None:
        client = self.transport.client
        consumer = f"{self.group}-1"
        while not self.transport.stopping.is_set():
            claimed = client.xautoclaim(
                self.topic, self.group, consumer, RETRY_IDLE_MS, count=BATCH
            )[1]
            for entry in claimed:
                self.handle(entry)
            reply = client.xreadgroup(
                self.group, consumer, {self.topic: ">"}, count=BATCH, block=BLOCK_MS
            )
            for _, entries in reply:
                for entry in entries:
                    self.handle(entry)


class RedisTransport(BrokerTransport):
    system = REDIS.name

    def __init__(self, url: str) -> None:
        self.raw = redis.Redis.from_url(url, decode_responses=True)
        try:
            self.raw.ping()
        except redis.exceptions.RedisError as exc:
            raise UsageError(f"cannot reach Redis at {url}: {exc}") from exc
        self.client = InstrumentedRedis(self.raw)
        self.url = url
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.published: dict[str, int] = {}
        self.subscriptions: list[_Subscription] = []
        self.threads: list[threading.Thread] = []
        self.collector = RedisStreamsCollector(url, streams=[], groups=[], dead_letters=[])

    def declare(self, topic: str, groups: Sequence[str]) -> None:
        dlq = REDIS.dead_letter_destination(topic)
        for key in (topic, dlq):
            if self.raw.exists(key) and not self.raw.exists(MARKER + topic):
                raise UsageError(
                    f"Redis key {key!r} exists and was not created by the demo; "
                    "run it in another database (--url redis://host:6379/15)"
                )
        self.raw.delete(topic, dlq, MARKER + topic)
        self.raw.set(MARKER + topic, "streams created by eventscope demo")
        for group in groups:
            self.raw.xgroup_create(topic, group, id="0", mkstream=True)
        self.raw.xadd(dlq, {"created": "eventscope demo"})
        self.raw.xtrim(dlq, maxlen=0)
        self.published.setdefault(topic, 0)
        self.collector.streams = [
            key for t in self.published for key in (t, REDIS.dead_letter_destination(t))
        ]
        self.collector.groups = {g for g in groups} | {s.group for s in self.subscriptions}
        self.collector.dead_letters = {REDIS.dead_letter_destination(t) for t in self.published}

    def publish(
        self, topic: str, payload: dict, *, key: str | None, headers: dict[str, str]
    ) -> None:
        self.raw.xadd(topic, {PAYLOAD: json.dumps(payload), **headers})
        with self.lock:
            self.published[topic] = self.published.get(topic, 0) + 1

    def subscribe(
        self, topic: str, group: str, handler: Callable[[Any], Any], *, max_attempts: int
    ) -> None:
        self.subscriptions.append(_Subscription(self, topic, group, handler, max_attempts))

    def decode(self, message: StreamEntry) -> dict:
        return json.loads(message[1][PAYLOAD])

    def start(self) -> None:
        for subscription in self.subscriptions:
            thread = threading.Thread(
                target=subscription.run, name=f"eventscope-redis-{subscription.group}", daemon=True
            )
            self.threads.append(thread)
            thread.start()

    def _settled(self) -> bool:
        with self.lock:
            return all(s.settled >= self.published.get(s.topic, 0) for s in self.subscriptions)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)
        try:
            for topic in self.published:
                self.raw.delete(topic, REDIS.dead_letter_destination(topic), MARKER + topic)
        finally:
            self.collector.close()
            self.raw.close()


def create(options: dict[str, Any]) -> RedisTransport:
    url = options.get("url") or DEFAULT_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise UsageError(f"--url {url!r}: expected redis://host:6379/0")
    return RedisTransport(url)
