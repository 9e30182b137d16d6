"""RabbitMQ consumer lag and dead-letter depth, from the management HTTP API.

In RabbitMQ a queue *is* a consumer group: its consumers compete for its messages.
So each queue gives one reading, ``group`` being the queue name and ``destination``
the exchange it is bound to (the queue itself when bound to none or to several):

- lag (messages): ``messages_ready`` — waiting, not yet delivered;
- pending: ``messages_unacknowledged`` — delivered, not acknowledged yet;
- position: ``message_stats.ack`` — acknowledgements so far (flat while lag grows: stalled);
- members: ``consumers``; redelivered: ``message_stats.redeliver``;
- lag (seconds): the age of the head message, from ``head_message_timestamp`` — which
  RabbitMQ reports for classic queues whose messages carry the AMQP ``timestamp``
  property (eventscope's publishers set it); omitted otherwise.

Queue depths come from ``/api/queues?disable_stats=true&enable_queue_totals=true``,
which classic queues keep current (quorum queues refresh it every few seconds); the
consumer counts and message rates from the regular listing, which the management
plugin samples every five seconds.  Dead-letter queues (by default every queue whose
name ends in ``.dlq``) get a depth: their ready plus unacknowledged messages.

Options (``lag.yaml`` keys): ``url`` — the management API, ``http://user:pass@host:15672``
(an ``amqp://`` URL is accepted and mapped to its host's port 15672); ``vhost``
(default ``/``, or the amqp URL's); ``groups`` — queue names; ``dead_letters``;
``timeout`` — seconds per HTTP call (default 5).
"""

from __future__ import annotations

import base64
import http.client
import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from eventscope.catalog import RABBITMQ
from eventscope.errors import UsageError
from eventscope.lag.broker_options import check_known, names_option, timeout_option
from eventscope.lag.collector import CollectorError, Snapshot
from eventscope.lag.deadline import one_line, redacted
from eventscope.lag.readings import ConsumerReading, DepthReading, LagReading

DEFAULT_URL = "http://guest:guest@127.0.0.1:15672"
MANAGEMENT_PORT = 15672
MAX_ANSWER_BYTES = 64 * 1024 * 1024
"""The largest answer read (a listing of ~100k queues); more is not a management API."""
STATS_COLUMNS = "name,consumers,head_message_timestamp,message_stats.ack,message_stats.redeliver"


class RabbitMQCollector:
    """Reads one virtual host's queues through the management API."""

    system = RABBITMQ.name

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        vhost: str | None = None,
        groups: Sequence[str] | None = None,
        dead_letters: Sequence[str] | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.base, self.username, self.password, url_vhost = management_endpoint(url)
        self.vhost = vhost if vhost is not None else url_vhost
        self.groups = set(groups) if groups is not None else None
        self.dead_letters = set(dead_letters) if dead_letters is not None else None
        self.timeout = timeout

    def _get(self, path: str) -> Any:
        request = urllib.request.Request(self.base + path)
        credentials = f"{self.username}:{self.password}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(credentials).decode())
        where = f"the RabbitMQ management API at {self.base}"
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                raise CollectorError(
                    f"{where} rejected user {self.username!r}; check the credentials in the url"
                ) from exc
            if exc.code == 404:
                raise CollectorError(
                    f"{where} has no virtual host {self.vhost!r}; set the 'vhost' option"
                ) from exc
            raise CollectorError(f"{where} answered HTTP {exc.code} for {path}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CollectorError(
                f"cannot reach {where} ({reason}); is RabbitMQ running with the "
                "rabbitmq_management plugin enabled?"
            ) from exc
        except http.client.HTTPException as exc:
            raise CollectorError(
                f"{where} does not speak HTTP ({one_line(exc)}); is the url the management "
                f"API (port {MANAGEMENT_PORT}) rather than another server?"
            ) from exc
        if len(body) > MAX_ANSWER_BYTES:
            raise CollectorError(f"{where} answered {path} with more than {MAX_ANSWER_BYTES} bytes")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise CollectorError(
                f"{where} answered {path} with something that is not JSON"
            ) from exc

    def collect(self) -> Snapshot:
        try:
            return self._collect()
        except ValueError as exc:
            raise CollectorError(
                f"the RabbitMQ management API at {self.base} reported {exc}, not a count"
            ) from exc

    def _collect(self) -> Snapshot:
        vhost = urllib.parse.quote(self.vhost, safe="")
        totals = self._listing(f"/api/queues/{vhost}?disable_stats=true&enable_queue_totals=true")
        sampled_queues = self._listing(f"/api/queues/{vhost}?columns={STATS_COLUMNS}")
        stats = {q["name"]: q for q in sampled_queues}
        exchanges = _exchanges_by_queue(self._listing(f"/api/bindings/{vhost}", named=False))
        now = time.time()
        snapshot = Snapshot()
        for queue in sorted(totals, key=lambda q: q["name"]):
            name = queue["name"]
            ready = _count(queue, "messages_ready")
            unacked = _count(queue, "messages_unacknowledged")
            if self._is_dead_letter(name):
                snapshot.dead_letters.append(DepthReading(RABBITMQ.name, name, ready + unacked))
                if self.groups is None or name not in self.groups:
                    continue
            elif self.groups is not None and name not in self.groups:
                continue
            sampled = stats.get(name, {})
            bound = exchanges.get(name, set())
            destination = next(iter(bound)) if len(bound) == 1 else name
            message_stats = sampled.get("message_stats")
            if not isinstance(message_stats, dict):
                message_stats = {}
            snapshot.lag.append(
                LagReading(
                    RABBITMQ.name,
                    destination,
                    name,
                    "",
                    ready,
                    _head_age(ready, sampled.get("head_message_timestamp"), now),
                    unacked,
                    _count(message_stats, "ack", None),
                )
            )
            snapshot.consumers.append(
                ConsumerReading(
                    RABBITMQ.name,
                    destination,
                    name,
                    _count(sampled, "consumers", None),
                    _count(message_stats, "redeliver", None),
                )
            )
        return snapshot

    def _listing(self, path: str, *, named: bool = True) -> list[dict[str, Any]]:
        """A JSON list of objects (each with a string ``name`` if ``named``), checked."""
        answer = self._get(path)
        if not isinstance(answer, list) or not all(
            isinstance(item, dict) and (not named or isinstance(item.get("name"), str))
            for item in answer
        ):
            raise CollectorError(
                f"the RabbitMQ management API at {self.base} answered {path} with JSON "
                "that is not a list of named objects; is the url the management API?"
            )
        return answer

    def _is_dead_letter(self, queue: str) -> bool:
        if self.dead_letters is not None:
            return queue in self.dead_letters
        return RABBITMQ.is_dead_letter(queue)

    def close(self) -> None:
        """Nothing to release: every collection is a few independent HTTP requests."""


def _exchanges_by_queue(bindings: list[dict[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for binding in bindings:
        source, destination = binding.get("source"), binding.get("destination")
        is_queue = binding.get("destination_type") == "queue"
        if is_queue and source and isinstance(source, str) and isinstance(destination, str):
            found.setdefault(destination, set()).add(source)
    return found


def _count(item: dict[str, Any], key: str, missing: int | None = 0) -> int | None:
    """A non-negative integer field; ValueError if it holds anything else."""
    value = item.get(key)
    if value is None:
        return missing
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key}={value!r}")
    return value


def _head_age(ready: int, head_timestamp: Any, now: float) -> float | None:
    if ready == 0:
        return 0.0
    if isinstance(head_timestamp, int | float) and math.isfinite(head_timestamp):
        return max(0.0, now - head_timestamp)
    return None


def management_endpoint(url: str) -> tuple[str, str, str, str]:
    """(base URL, user, password, vhost) of the management API a URL points at.

    ``amqp://user:pass@host:5672/vhost`` maps to ``http://host:15672`` and that vhost,
    so one connection URL serves both the demo's client and its collector.
    """
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https", "amqp", "amqps") or not parsed.hostname:
        raise UsageError(
            f"url {redacted(url)!r}: expected http://user:password@host:15672 "
            "(the management API) or an amqp:// URL"
        )
    user = urllib.parse.unquote(parsed.username or "guest")
    password = urllib.parse.unquote(parsed.password or "guest")
    host = parsed.hostname if ":" not in parsed.hostname else f"[{parsed.hostname}]"
    if parsed.scheme.startswith("amqp"):
        scheme = "https" if parsed.scheme == "amqps" else "http"
        path = parsed.path[1:] if parsed.path.startswith("/") else parsed.path
        vhost = urllib.parse.unquote(path) if path else "/"
        return f"{scheme}://{host}:{MANAGEMENT_PORT}", user, password, vhost
    try:
        port = parsed.port
    except ValueError as exc:
        raise UsageError(f"url {redacted(url)!r}: the port is not a number") from exc
    netloc = f"{host}:{port}" if port else host
    return f"{parsed.scheme}://{netloc}{parsed.path.rstrip('/')}", user, password, "/"


def from_options(options: dict[str, Any]) -> RabbitMQCollector:
    """A collector from ``lag.yaml`` / command-line options; bad ones are a UsageError."""
    check_known(RABBITMQ.name, options, {"url", "vhost", "groups", "dead_letters", "timeout"})
    url = options.get("url", DEFAULT_URL)
    if not isinstance(url, str):
        raise UsageError(f"url: expected a string, got {url!r}")
    vhost = options.get("vhost")
    if vhost is not None and (not isinstance(vhost, str) or not vhost):
        raise UsageError(f"vhost: expected a virtual host name, got {vhost!r}")
    return RabbitMQCollector(
        url,
        vhost=vhost,
        groups=names_option(options, "groups"),
        dead_letters=names_option(options, "dead_letters"),
        timeout=timeout_option(options),
    )
