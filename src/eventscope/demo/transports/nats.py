"""The demo on NATS JetStream, with nats-py.

One stream per topic, ``EVENTSCOPE_DEMO_<TOPIC>``, capturing the topic's subject and its
``<topic>.dlq`` dead-letter subject; it is deleted and created again at the start of a
run (a stream of another name that already captures the subject makes the run stop
with a clear message rather than touch it) and deleted at the end.  A run first claims
the topic's name in the ``EVENTSCOPE_DEMO_CLAIMS`` key-value bucket (entries expire
after a minute; the run renews its own every few seconds): a second run at the same
time finds the claim and uses ``<topic>-<run id>``, so neither deletes the other's
stream, and a killed run's stream is replaced only once its claim has expired.  Each consumer group
is a durable pull consumer filtered on the topic, fetching batches; a retry is a
``nak()`` (JetStream redelivers and counts deliveries), a dead-letter is published to
``<topic>.dlq`` and the original ``term()``-ed.

nats-py is asyncio-only: the transport runs its own event loop in a thread; the
order system's handlers are ordinary functions and run in worker threads, one message
at a time per group.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from eventscope.catalog import NATS
from eventscope.demo.transports.broker_base import BrokerTransport, decide, finished
from eventscope.errors import UsageError
from eventscope.instrumentation.brokers.nats import carry_out
from eventscope.lag.nats import NatsCollector

logger = logging.getLogger("eventscope.demo")
DEFAULT_URL = "nats://127.0.0.1:4222"
FETCH_BATCH = 20
CLAIMS = "EVENTSCOPE_DEMO_CLAIMS"
CLAIM_SECONDS = 60.0
RENEW_SECONDS = 5.0


def stream_name(topic: str) -> str:
    return "EVENTSCOPE_DEMO_" + re.sub(r"[^A-Za-z0-9_-]", "_", topic).upper()


class _Subscription:
    def __init__(
        self, transport: NatsTransport, topic: str, group: str, handler: Callable, attempts: int
    ) -> None:
        self.transport = transport
        self.topic = topic
        self.group = group
        self.handler = handler
        self.max_attempts = attempts
        self.settled = 0

    async def handle(self, msg: Msg) -> None:
        decision = await asyncio.to_thread(decide, self.handler, msg, self.max_attempts, self.group)
        await carry_out(msg, decision)
        if finished(decision):
            with self.transport.lock:
                self.settled += 1

    async def run(self) -> None:
        js = self.transport.nc.jetstream()
        pull = await js.pull_subscribe_bind(self.group, stream_name(self.topic))
        while not self.transport.stopping.is_set():
            try:
                msgs = await pull.fetch(FETCH_BATCH, timeout=0.1)
            except (nats.errors.TimeoutError, TimeoutError):
                continue  # nothing to fetch right now
            for msg in msgs:
                await self.handle(msg)


class NatsTransport(BrokerTransport):
    system = NATS.name
    virtual_host = None

    def __init__(self, url: str) -> None:
        self.url = url
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.published: dict[str, int] = {}
        self.subscriptions: list[_Subscription] = []
        self.streams: list[str] = []
        self.tasks: list[Any] = []
        self.run_id = uuid.uuid4().hex[:8]
        self.claims: dict[str, int] = {}
        """Claimed topic name → revision of its claim entry."""
        self.kv: Any = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="eventscope-nats", daemon=True
        )
        self.thread.start()
        self.collector = NatsCollector(url, groups=[], dead_letters=[])
        try:
            self.nc = self._run(nats.connect(url, connect_timeout=5, max_reconnect_attempts=1))
        except Exception as exc:
            self._stop_loop()
            raise UsageError(f"cannot connect to NATS at {url}: {exc}") from exc
        self.js = self.nc.jetstream()

    def _run(self, coroutine: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def reserve(self, topic: str) -> str:
        """``topic`` if no live run claims it, else ``<topic>-<run id>``; claimed."""
        return self._run(self._reserve(topic))

    async def _reserve(self, topic: str) -> str:
        if self.kv is None:
            self.kv = await self.js.create_key_value(bucket=CLAIMS, ttl=CLAIM_SECONDS)
        for name in (topic, f"{topic}-{self.run_id}"):
            key = re.sub(r"[^A-Za-z0-9_=-]", "_", name)
            try:
                self.claims[key] = await self.kv.create(key, self.run_id.encode())
            except nats.js.errors.KeyWrongLastSequenceError:
                continue  # a live run holds it
            return name
        raise UsageError(f"NATS demo names {topic!r} and its run's are both taken")

    async def _renew(self) -> None:
        """Keep this run's claims alive until it stops."""
        renew_at = self.loop.time() + RENEW_SECONDS
        while not self.stopping.is_set():
            await asyncio.sleep(0.1)  # short naps: stop() must not wait for a renewal
            if self.loop.time() < renew_at:
                continue
            renew_at = self.loop.time() + RENEW_SECONDS
            for key, revision in list(self.claims.items()):
                try:
                    self.claims[key] = await self.kv.update(key, self.run_id.encode(), revision)
                except (nats.errors.Error, nats.js.errors.Error) as exc:
                    logger.warning("NATS demo claim on %s not renewed: %s", key, exc)

    async def _release(self) -> None:
        for key, revision in self.claims.items():
            with contextlib.suppress(nats.errors.Error, nats.js.errors.Error):
                await self.kv.delete(key, last=revision)
        self.claims.clear()

    def declare(self, topic: str, groups: Sequence[str]) -> None:
        self._run(self._declare(topic, groups))
        self.published.setdefault(topic, 0)
        self.collector.groups = {s.group for s in self.subscriptions} | set(groups)
        self.collector.dead_letters = [NATS.dead_letter_destination(t) for t in self.published]

    async def _declare(self, topic: str, groups: Sequence[str]) -> None:
        name = stream_name(topic)
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await self.js.delete_stream(name)
        dead_letter = NATS.dead_letter_destination(topic)
        try:
            await self.js.add_stream(name=name, subjects=[topic, dead_letter])
        except nats.js.errors.BadRequestError as exc:
            raise UsageError(
                f"cannot create stream {name} for subjects {topic}, {dead_letter}: "
                f"{exc.description} (another stream captures them?)"
            ) from exc
        self.streams.append(name)
        for group in groups:
            await self.js.add_consumer(
                name,
                ConsumerConfig(
                    durable_name=group,
                    filter_subject=topic,
                    ack_policy=AckPolicy.EXPLICIT,
                    deliver_policy=DeliverPolicy.ALL,
                ),
            )

    def publish(
        self, topic: str, payload: dict, *, key: str | None, headers: dict[str, str]
    ) -> None:
        self._run(self.js.publish(topic, json.dumps(payload).encode(), headers=dict(headers)))
        with self.lock:
            self.published[topic] = self.published.get(topic, 0) + 1

    def subscribe(
        self, topic: str, group: str, handler: Callable[[Any], Any], *, max_attempts: int
    ) -> None:
        self.subscriptions.append(_Subscription(self, topic, group, handler, max_attempts))

    def decode(self, message: Msg) -> dict:
        return json.loads(message.data)

    def start(self) -> None:
        renew = asyncio.run_coroutine_threadsafe(self._renew(), self.loop)
        renew.add_done_callback(_log_failure)
        self.tasks.append(renew)
        for subscription in self.subscriptions:
            future = asyncio.run_coroutine_threadsafe(subscription.run(), self.loop)
            future.add_done_callback(_log_failure)
            self.tasks.append(future)

    def _settled(self) -> bool:
        with self.lock:
            return all(s.settled >= self.published.get(s.topic, 0) for s in self.subscriptions)

    def stop(self) -> None:
        self.stopping.set()
        for task in self.tasks:
            with contextlib.suppress(Exception):  # a failure was logged by _log_failure
                task.result(timeout=10)
        try:
            self._run(self._cleanup())
        finally:
            self.collector.close()
            self._stop_loop()

    async def _cleanup(self) -> None:
        for name in self.streams:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await self.js.delete_stream(name)
        await self._release()
        await self.nc.close()

    def _stop_loop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


def _log_failure(future: Any) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("a NATS demo consumer stopped", exc_info=future.exception())


def create(options: dict[str, Any]) -> NatsTransport:
    url = options.get("url") or DEFAULT_URL
    if not url.startswith(("nats://", "tls://")):
        raise UsageError(f"--url {url!r}: expected nats://host:4222")
    return NatsTransport(url)
