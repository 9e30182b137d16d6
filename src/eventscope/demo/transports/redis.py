"""The demo on Redis Streams, with redis-py.

A stream per topic with one consumer group per demo group, and ``<topic>.dlq``
beside it.  Each run owns its streams: it claims the topic's name with a
``eventscope-demo-live:<name>`` key that it keeps alive (a minute's expiry, renewed
every few seconds), so a second run at the same time on the same database finds the
name taken and uses ``<topic>-<run id>`` instead; neither touches the other's streams.
The demo also marks the streams it creates (``eventscope-demo:<name>``, kept until
the run ends) and only ever deletes marked ones whose claim has lapsed (left by a run
that was killed) or its own: a stream holding someone else's data stops the run with
a clear message.  The keys are removed at the end.

Each group has a thread that reads new entries (``XREADGROUP ... >``) and reclaims its
pending ones (``XAUTOCLAIM``): a retry is an entry left unacknowledged, which comes back
this way with Redis's delivery count as its attempt.  A dead-letter is added to the
DLQ stream and acknowledged in one transaction.  A dropped connection (a restart,
``CLIENT KILL``) is retried with backoff by each thread; entries in flight then come
back through the pending list, and the consumers' deduplication keeps them from being
handled twice.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import redis

from eventscope.catalog import REDIS
from eventscope.demo.transports.broker_base import Backoff, BrokerTransport, decide, finished
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
LIVE = "eventscope-demo-live:"
CLAIM_SECONDS = 60
"""How long a run's claim on its streams outlives its last renewal."""
RENEW_SECONDS = 5.0
OUTAGE_SECONDS = 30.0
"""How long the publisher keeps retrying a lost connection before the run gives up."""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('expire', KEYS[1], ARGV[2])
end
return 0
"""
BATCH = 20
BLOCK_MS = 100
RETRY_IDLE_MS = 20
"""How long a retried entry waits in the pending list before it is claimed again."""


class _Subscription:
    def __init__(
        self,
        transport: RedisTransport,
        topic: str,
        group: str,
        handler: Callable,
        attempts: int,
        member: int = 1,
    ) -> None:
        self.transport = transport
        self.topic = topic
        self.group = group
        self.consumer = f"{group}-{member}"
        """This member's consumer name in the group (one per instance)."""
        self.handler = handler
        self.max_attempts = attempts
        self.settled = 0

    def handle(self, entry: StreamEntry) -> None:
        decision = decide(self.handler, entry, self.max_attempts, self.group)
        retrying = Backoff(f"redis group {self.group}", give_up_after=OUTAGE_SECONDS)
        while True:
            try:
                carry_out(entry, decision)  # XACK is idempotent: safe to send again
                break
            except redis.exceptions.ConnectionError as exc:
                retrying.wait(exc, self.transport.stopping)
        retrying.reset()
        if finished(decision):
            with self.transport.lock:
                self.settled += 1

    def run(self) -> None:
        retrying = Backoff(f"redis group {self.group}")
        while not self.transport.stopping.is_set():
            try:
                self._poll()
            except redis.exceptions.ConnectionError as exc:
                retrying.wait(exc, self.transport.stopping)
            else:
                retrying.reset()

    def _poll(self) -> None:
        client = self.transport.client
        consumer = self.consumer
        claimed = client.xautoclaim(self.topic, self.group, consumer, RETRY_IDLE_MS, count=BATCH)[1]
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
    virtual_host = None

    def __init__(self, url: str) -> None:
        self.run_id = uuid.uuid4().hex[:8]
        self.raw = redis.Redis.from_url(
            url, decode_responses=True, client_name=f"eventscope-demo-{self.run_id}"
        )
        try:
            self.raw.ping()
        except redis.exceptions.RedisError as exc:
            raise UsageError(f"cannot reach Redis at {url}: {exc}") from exc
        self.client = InstrumentedRedis(self.raw)
        self.url = url
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.published: dict[str, int] = {}
        self.claimed: list[str] = []
        self.subscriptions: list[_Subscription] = []
        self.threads: list[threading.Thread] = []
        self.collector = RedisStreamsCollector(url, streams=[], groups=[], dead_letters=[])

    def reserve(self, topic: str) -> str:
        """``topic`` if no live run holds it, else ``<topic>-<run id>``; claimed for this run."""
        for name in (topic, f"{topic}-{self.run_id}"):
            if self.raw.set(LIVE + name, self.run_id, nx=True, ex=CLAIM_SECONDS):
                self.claimed.append(name)
                self._check_ours(name)
                return name
        raise UsageError(f"Redis stream names {topic!r} and its run's are both taken")

    def _check_ours(self, name: str) -> None:
        dlq = REDIS.dead_letter_destination(name)
        for key in (name, dlq):
            if self.raw.exists(key) and not self.raw.exists(MARKER + name):
                self.raw.delete(LIVE + name)
                self.claimed.remove(name)
                raise UsageError(
                    f"Redis key {key!r} exists and was not created by the demo; "
                    "run it in another database (--url redis://host:6379/15)"
                )
        # Marked but unclaimed: left by a run that was killed; ours to replace now.
        self.raw.delete(name, dlq)
        self.raw.set(MARKER + name, "streams created by eventscope demo")

    def _renew(self) -> None:
        """Keep this run's claims alive until it stops (a thread of its own)."""
        retrying = Backoff("redis demo claim")
        while not self.stopping.wait(RENEW_SECONDS if not retrying.delay else 0):
            try:
                for name in self.claimed:
                    self.raw.eval(_RENEW, 1, LIVE + name, self.run_id, CLAIM_SECONDS)
            except redis.exceptions.ConnectionError as exc:
                retrying.wait(exc, self.stopping)
            else:
                retrying.reset()

    def declare(self, topic: str, groups: Sequence[str]) -> None:
        if topic not in self.claimed:
            raise UsageError(f"Redis stream {topic!r} was not reserved for this run")
        dlq = REDIS.dead_letter_destination(topic)
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
        fields = {PAYLOAD: json.dumps(payload), **headers}
        retrying = Backoff("redis demo publisher", give_up_after=OUTAGE_SECONDS)
        while True:
            try:
                self.raw.xadd(topic, fields)
                break
            except redis.exceptions.ConnectionError as exc:
                # An entry whose reply was lost may be added twice: the consumers'
                # deduplication (same event id) records the copy as a duplicate.
                retrying.wait(exc, self.stopping)
        retrying.reset()
        with self.lock:
            self.published[topic] = self.published.get(topic, 0) + 1

    def subscribe(
        self, topic: str, group: str, handler: Callable[[Any], Any], *, max_attempts: int
    ) -> None:
        member = 1 + sum(1 for s in self.subscriptions if (s.topic, s.group) == (topic, group))
        self.subscriptions.append(
            _Subscription(self, topic, group, handler, max_attempts, member)
        )

    def decode(self, message: StreamEntry) -> dict:
        return json.loads(message[1][PAYLOAD])

    def start(self) -> None:
        renew = threading.Thread(target=self._renew, name="eventscope-redis-claim", daemon=True)
        self.threads.append(renew)
        renew.start()
        for subscription in self.subscriptions:
            thread = threading.Thread(
                target=subscription.run, name=f"eventscope-redis-{subscription.group}", daemon=True
            )
            self.threads.append(thread)
            thread.start()

    def _settled(self) -> bool:
        """Every group (all its members together) settled everything published."""
        with self.lock:
            settled: dict[tuple[str, str], int] = {}
            for s in self.subscriptions:
                settled[(s.topic, s.group)] = settled.get((s.topic, s.group), 0) + s.settled
            return all(n >= self.published.get(topic, 0) for (topic, _), n in settled.items())

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)
        try:
            self._remove_claimed()
        finally:
            self.collector.close()
            self.raw.close()

    def _remove_claimed(self) -> None:
        """Delete this run's streams and release its claims, across dropped connections
        (every step is idempotent, so a step whose reply was lost is simply repeated)."""
        retrying = Backoff("redis demo clean-up", give_up_after=OUTAGE_SECONDS)
        not_stopping = threading.Event()  # ``self.stopping`` is set: it would not wait
        while True:
            try:
                for name in self.claimed:
                    dlq = REDIS.dead_letter_destination(name)
                    self.raw.delete(name, dlq, MARKER + name)
                    self.raw.eval(_RELEASE, 1, LIVE + name, self.run_id)
                return
            except redis.exceptions.ConnectionError as exc:
                retrying.wait(exc, not_stopping)


def create(options: dict[str, Any]) -> RedisTransport:
    url = options.get("url") or DEFAULT_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise UsageError(f"--url {url!r}: expected redis://host:6379/0")
    return RedisTransport(url)
