"""How long RabbitMQ retries wait: immediate requeues against delayed retries.

A pika consumer whose handler always fails gets one message; the time between its
attempts is measured twice in the same run, against the same broker:

- baseline: ``max_attempts`` only — ``basic.nack(requeue=True)``, the next attempt at once;
- delayed: ``retry_delay=RetryDelay(initial, factor=2)`` — each retry waits in a TTL
  delay queue (``initial``, twice ``initial``, ...) before RabbitMQ dead-letters it back.

For every gap it prints the configured wait, the measured one and their ratio (RabbitMQ
expires messages on a timer, so expect a few milliseconds late, never early), and the
baseline's gaps for comparison.  It works in a virtual host of its own, created through
the management API and deleted at the end.

Run: ``python bench/retry_delay.py [--url amqp://guest:guest@127.0.0.1:5672/]
[--attempts 5] [--initial 0.2] [--json]``.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import time
import urllib.parse
import urllib.request
import uuid

import pika

from eventscope import configure
from eventscope.instrumentation.brokers import rabbitmq
from eventscope.instrumentation.brokers.amqp_retry import RetryDelay
from eventscope.lag.rabbitmq import management_endpoint


def _management(url: str, method: str, path: str, body: dict | None = None) -> None:
    base, user, password, _ = management_endpoint(url)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", "Basic " + token)
    request.add_header("Content-Type", "application/json")
    urllib.request.urlopen(request, timeout=10).close()


def _gaps(amqp_url: str, attempts: int, delay: RetryDelay | None) -> list[float]:
    """Seconds between consecutive attempts of one always-failing message."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = rabbitmq.instrument_channel(
            connection.channel(), max_attempts=attempts, retry_delay=delay
        )
        name = f"bench-{uuid.uuid4().hex[:8]}"
        # No dead-letter exchange: after the last attempt RabbitMQ drops the message.
        channel.queue_declare(name, durable=True, arguments={"x-queue-type": "quorum"})
        channel.basic_publish("", name, b"x")
        seen: list[float] = []

        def on_message(ch, method, properties, body) -> None:
            seen.append(time.monotonic())
            raise RuntimeError("always fails")

        channel.basic_consume(name, on_message)
        deadline = time.monotonic() + 60
        while len(seen) < attempts and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.01)
        return [b - a for a, b in itertools.pairwise(seen)]
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--attempts", type=int, default=5)
    parser.add_argument("--initial", type=float, default=0.2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    configure("bench-retry-delay", metrics_port=None, otlp=False)
    vhost = f"eventscope-bench-{uuid.uuid4().hex[:8]}"
    quoted = urllib.parse.quote(vhost, safe="")
    user = urllib.parse.quote(pika.URLParameters(args.url).credentials.username, safe="")
    _management(args.url, "PUT", f"/api/vhosts/{quoted}", {})
    try:
        _management(
            args.url,
            "PUT",
            f"/api/permissions/{quoted}/{user}",
            {"configure": ".*", "write": ".*", "read": ".*"},
        )
        amqp_url = args.url.rstrip("/") + "/" + quoted
        delay = RetryDelay(args.initial, factor=2)
        baseline = _gaps(amqp_url, args.attempts, None)
        delayed = _gaps(amqp_url, args.attempts, delay)
    finally:
        _management(args.url, "DELETE", f"/api/vhosts/{quoted}")

    rows = [
        {
            "retry": n,
            "configured_s": delay.milliseconds(n) / 1000,
            "measured_s": round(gap, 4),
            "ratio": round(gap / (delay.milliseconds(n) / 1000), 3),
            "immediate_requeue_s": round(baseline[n - 1], 4),
        }
        for n, gap in enumerate(delayed, start=1)
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print("retry  configured  measured  ratio  immediate requeue (baseline)")
    for row in rows:
        print(
            f"{row['retry']:>5}  {row['configured_s']:>9.3f}s  {row['measured_s']:>7.3f}s"
            f"  {row['ratio']:>5.3f}  {row['immediate_requeue_s']:>8.4f}s"
        )


if __name__ == "__main__":
    main()
