"""The demo on RabbitMQ, with pika.

Each run gets a virtual host of its own (``eventscope-demo-<random>``, created through
the management API and deleted afterwards), so it starts empty, cannot touch the
broker's other queues, and two runs can share a broker.  Inside it: a fanout exchange
per topic, one quorum queue per consumer group (named after the group: in RabbitMQ a
queue *is* a consumer group), and a classic ``<topic>.dlq`` queue that the group queues
dead-letter into (``x-dead-letter-exchange`` ``""`` with the DLQ as routing key).
Retries are requeues, counted by the quorum queue itself (``x-delivery-count``).

Consumers run one thread each, with their own connection, as pika requires; handlers
receive :class:`~eventscope.instrumentation.brokers.rabbitmq.Delivery` objects.  A
connection that drops (a broker restart, an operator closing it) is opened again with
backoff, by the publisher and by each consumer: RabbitMQ requeues what was delivered
and not acknowledged, and the consumers' deduplication records a message handled
twice as a duplicate.  A publish whose confirmation was lost is sent again, for the
same reason safely.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pika
import pika.exceptions

from eventscope.catalog import RABBITMQ
from eventscope.demo.transports.broker_base import Backoff, BrokerTransport, decide, finished
from eventscope.errors import UsageError
from eventscope.instrumentation.brokers.rabbitmq import Delivery, carry_out
from eventscope.lag.rabbitmq import RabbitMQCollector, management_endpoint

logger = logging.getLogger("eventscope.demo")
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"
PREFETCH = 20
OUTAGE_SECONDS = 30.0
"""How long a lost connection is retried before the run gives up."""
_DROPPED = (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError)
"""What pika raises when the connection or channel under a call is gone."""


class _Management:
    """The few management API calls the demo makes besides reading lag."""

    def __init__(self, url: str) -> None:
        self.base, user, password, _ = management_endpoint(url)
        self._auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def exists(self, path: str) -> bool:
        """Whether GET ``path`` finds something (404: no)."""
        try:
            self.call("GET", path)
        except UsageError as exc:
            if isinstance(exc.__cause__, urllib.error.HTTPError) and exc.__cause__.code == 404:
                return False
            raise
        return True

    def call(self, method: str, path: str, body: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", self._auth)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except urllib.error.HTTPError as exc:
            if method == "DELETE" and exc.code == 404:
                return
            raise UsageError(
                f"the RabbitMQ management API at {self.base} refused {method} {path} "
                f"(HTTP {exc.code}); the demo's user must be an administrator"
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise UsageError(
                f"cannot reach the RabbitMQ management API at {self.base} "
                f"({getattr(exc, 'reason', exc)}); run .ci/rabbitmq.sh or enable "
                "the rabbitmq_management plugin"
            ) from exc


class _Subscription:
    def __init__(
        self, transport: RabbitMQTransport, queue: str, handler: Callable, max_attempts: int
    ) -> None:
        self.transport = transport
        self.queue = queue
        self.handler = handler
        self.max_attempts = max_attempts
        self.settled = 0
        self.thread: threading.Thread | None = None

    def on_message(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        delivery = Delivery(channel, method, properties, body)
        decision = decide(self.handler, delivery, self.max_attempts, self.queue)
        carry_out(delivery, decision, ack=True)
        if finished(decision):
            with self.transport.lock:
                self.settled += 1

    def run(self) -> None:
        stopping = self.transport.stopping
        retrying = Backoff(f"rabbitmq group {self.queue}", give_up_after=OUTAGE_SECONDS)
        while not stopping.is_set():
            try:
                self._consume(retrying)
            except _DROPPED as exc:
                retrying.wait(exc, stopping)

    def _consume(self, retrying: Backoff) -> None:
        connection = pika.BlockingConnection(self.transport.parameters)
        try:
            channel = connection.channel()
            channel.basic_qos(prefetch_count=PREFETCH)
            channel.basic_consume(self.queue, self.on_message)
            retrying.reset()
            while not self.transport.stopping.is_set():
                connection.process_data_events(time_limit=0.05)
        finally:
            if connection.is_open:
                with contextlib.suppress(*_DROPPED):
                    connection.close()


class RabbitMQTransport(BrokerTransport):
    system = RABBITMQ.name

    def __init__(self, url: str, vhost: str | None = None) -> None:
        self.virtual_host = vhost or f"eventscope-demo-{uuid.uuid4().hex[:8]}"
        self.management = _Management(url)
        self.parameters = pika.URLParameters(url)
        self.parameters.virtual_host = self.virtual_host
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.published: dict[str, int] = {}
        self.subscriptions: dict[tuple[str, str], _Subscription] = {}
        self.topics: dict[str, list[str]] = {}
        self.collector = RabbitMQCollector(
            url, vhost=self.virtual_host, groups=[], dead_letters=[]
        )
        quoted = urllib.parse.quote(self.virtual_host, safe="")
        if self.management.exists(f"/api/vhosts/{quoted}"):
            # The run deletes the virtual host it used at the end: never one it did not make.
            raise UsageError(
                f"RabbitMQ virtual host {self.virtual_host!r} already exists; the demo "
                "creates its virtual host and deletes it at the end, so name a new one"
            )
        self.management.call("PUT", f"/api/vhosts/{quoted}", {})
        user = urllib.parse.quote(self.parameters.credentials.username, safe="")
        self.management.call(
            "PUT",
            f"/api/permissions/{quoted}/{user}",
            {"configure": ".*", "write": ".*", "read": ".*"},
        )
        try:
            self._connect()
        except pika.exceptions.AMQPError as exc:
            self._delete_vhost()
            raise UsageError(f"cannot connect to RabbitMQ at {url}: {exc!r}") from exc

    def _connect(self) -> None:
        self.connection = pika.BlockingConnection(self.parameters)
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()

    def _with_connection(self, call: Callable[[], Any]) -> Any:
        """``call()`` on the publisher's connection, reopened with backoff if it dropped."""
        retrying = Backoff("rabbitmq demo publisher", give_up_after=OUTAGE_SECONDS)
        while True:
            try:
                if not (self.connection.is_open and self.channel.is_open):
                    with contextlib.suppress(Exception):  # a broken one: only tidying up
                        self.connection.close()
                    self._connect()
                result = call()
                retrying.reset()
                return result
            except _DROPPED as exc:
                retrying.wait(exc, self.stopping)

    def reserve(self, topic: str) -> str:
        """The run has a virtual host of its own."""
        return topic

    def declare(self, topic: str, groups: Sequence[str]) -> None:
        dlq = RABBITMQ.dead_letter_destination(topic)
        self.channel.exchange_declare(topic, "fanout", durable=True)
        self.channel.queue_declare(dlq, durable=True)
        for group in groups:
            self.channel.queue_declare(
                group,
                durable=True,
                arguments={
                    "x-queue-type": "quorum",
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": dlq,
                },
            )
            self.channel.queue_bind(group, topic)
        self.topics[topic] = list(groups)
        self.published.setdefault(topic, 0)
        self.collector.groups = {g for gs in self.topics.values() for g in gs}
        self.collector.dead_letters = {RABBITMQ.dead_letter_destination(t) for t in self.topics}

    def publish(
        self, topic: str, payload: dict, *, key: str | None, headers: dict[str, str]
    ) -> None:
        properties = pika.BasicProperties(
            headers=dict(headers),
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            timestamp=int(time.time()),
        )
        body = json.dumps(payload).encode()
        self._with_connection(
            lambda: self.channel.basic_publish(topic, key or "", body, properties)
        )
        with self.lock:
            self.published[topic] = self.published.get(topic, 0) + 1

    def subscribe(
        self, topic: str, group: str, handler: Callable[[Any], Any], *, max_attempts: int
    ) -> None:
        self.subscriptions[(topic, group)] = _Subscription(self, group, handler, max_attempts)

    def decode(self, message: Delivery) -> dict:
        return json.loads(message.body)

    def start(self) -> None:
        for (_, group), subscription in self.subscriptions.items():
            subscription.thread = threading.Thread(
                target=subscription.run, name=f"eventscope-rabbitmq-{group}", daemon=True
            )
            subscription.thread.start()

    def _pause(self, seconds: float) -> None:
        self._with_connection(lambda: self.connection.process_data_events(time_limit=seconds))

    def _settled(self) -> bool:
        with self.lock:
            return all(
                s.settled >= self.published.get(topic, 0)
                for (topic, _), s in self.subscriptions.items()
            )

    def stop(self) -> None:
        self.stopping.set()
        for subscription in self.subscriptions.values():
            if subscription.thread is not None:
                subscription.thread.join(timeout=10)
        try:
            if self.connection.is_open:
                with contextlib.suppress(*_DROPPED):
                    self.connection.close()
        finally:
            self.collector.close()
            self._delete_vhost()

    def _delete_vhost(self) -> None:
        quoted = urllib.parse.quote(self.virtual_host, safe="")
        self.management.call("DELETE", f"/api/vhosts/{quoted}")


def create(options: dict[str, Any]) -> RabbitMQTransport:
    url = options.get("url") or DEFAULT_URL
    if not url.startswith(("amqp://", "amqps://")):
        raise UsageError(f"--url {url!r}: expected amqp://user:password@host:5672/")
    return RabbitMQTransport(url, options.get("vhost"))
