"""Processes the outbox tests start and kill: a relay, and a consumer instance.

``python -m tests.integration.outbox.workers relay DSN REDIS_URL [--pause S]`` relays
the outbox to Redis Streams, printing ``published <event id>`` after each XADD (before
the batch commits), so a test knows when to SIGKILL it in the middle of a batch.

``python -m tests.integration.outbox.workers consume STORE_URL REDIS_URL STREAM GROUP
RESULTS`` handles every entry of STREAM — each instance sees them all, as after a
redelivery to every member — under ``@consumer(deduplicate=<store>)``; the handler
pushes the event id onto the RESULTS list.  Entries another instance was handling
(outcome ``retry``) are handled again until the store says they are done.
"""

from __future__ import annotations

import random
import sys
import time

import redis

from eventscope.instrumentation import (
    PostgresDedupStore,
    RedisDedupStore,
    consumer,
)
from eventscope.instrumentation.headers import EVENT_ID
from eventscope.outbox import Publisher, Relay, RelayPolicy, redis_publisher


def relay(dsn: str, redis_url: str, pause: float) -> None:
    client = redis.Redis.from_url(redis_url)
    plain = redis_publisher(client)

    def publish(destination: str, key: str | None, payload: bytes, headers: dict) -> None:
        plain.publish(destination, key, payload, headers)
        print("published", headers[EVENT_ID], flush=True)
        time.sleep(pause)

    policy = RelayPolicy(batch_size=50, idle_wait=0.05)
    Relay(dsn, Publisher("redis", publish), policy=policy).run()


def store_for(url: str, prefix: str):
    if url.startswith("redis://"):
        return RedisDedupStore(redis.Redis.from_url(url), prefix=prefix)
    import psycopg

    return PostgresDedupStore(lambda: psycopg.connect(url))


def consume(store_url: str, redis_url: str, stream: str, group: str, results: str) -> None:
    client = redis.Redis.from_url(redis_url)
    store = store_for(store_url, f"dedup-{results}")  # the test removes dedup-<results>:*

    @consumer(stream, group=group, system="redis", deduplicate=store, headers=lambda m: m)
    def handle(fields: dict) -> None:
        client.rpush(results, fields[EVENT_ID])

    entries = [
        {k.decode(): v.decode() for k, v in fields.items()} for _, fields in client.xrange(stream)
    ]
    random.shuffle(entries)
    for _ in range(200):
        for fields in entries:
            handle(fields)
        entries = [f for f in entries if not store.handled(group, f[EVENT_ID])]
        if not entries:
            return
        time.sleep(0.05)
    raise SystemExit(f"{len(entries)} entries never done")


if __name__ == "__main__":
    if sys.argv[1] == "relay":
        relay(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        consume(*sys.argv[2:7])
