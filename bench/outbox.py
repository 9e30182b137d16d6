"""Outbox relay throughput: rows per second with one relay and with two side by side.

A PostgreSQL database of its own (created here, dropped at the end) gets ``--rows``
outbox rows over ``--keys`` keys, written in one transaction; then relays — separate
processes, as they would run in production — publish them to a Redis stream with XADD
(one round trip per row) until none is waiting.  The figure is rows published per
second of wall time, from the relays' start to the empty backlog; two relays are
reported as a ratio over one, measured in the same run on the same machine.  Every run
checks that each row reached the stream at least once and that nothing is left waiting.

Run: ``python bench/outbox.py [--rows 5000] [--keys 500] [--batch-size 100] [--repeat 3]
[--postgres postgresql://postgres@127.0.0.1:5432] [--redis redis://127.0.0.1:6379/0]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import time
import uuid

import psycopg
import redis

from eventscope.outbox import BacklogReader, Outbox, Relay, RelayPolicy, redis_publisher


def _relay(dsn: str, redis_url: str, batch_size: int, ready, go, stop) -> None:
    relay = Relay(
        dsn,
        redis_publisher(redis.Redis.from_url(redis_url)),
        policy=RelayPolicy(batch_size=batch_size, idle_wait=0.01),
    )
    ready.release()
    go.wait()
    while not stop.is_set():
        if not relay.relay_batch().rows:
            stop.wait(0.01)
    relay.close()


def _fill(dsn: str, stream: str, rows: int, keys: int) -> None:
    outbox = Outbox("redis")
    with psycopg.connect(dsn) as connection:
        connection.execute("DROP TABLE IF EXISTS eventscope_outbox")
        outbox.create_table(connection)
        connection.commit()
        with connection.transaction():
            for n in range(rows):
                outbox.write(connection, stream, str(n), key=f"k{n % keys}")


def run_once(dsn: str, redis_url: str, relays: int, rows: int, keys: int, batch: int) -> float:
    """Rows per second ``relays`` relay processes publish; checks the delivery."""
    client = redis.Redis.from_url(redis_url)
    stream = f"bench-outbox-{uuid.uuid4().hex[:8]}"
    _fill(dsn, stream, rows, keys)
    backlog = BacklogReader(dsn)
    context = multiprocessing.get_context("spawn")
    ready, go, stop = context.Semaphore(0), context.Event(), context.Event()
    workers = [
        context.Process(target=_relay, args=(dsn, redis_url, batch, ready, go, stop))
        for _ in range(relays)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:  # interpreters started and connected: not part of the figure
        ready.acquire()
    started = time.perf_counter()
    go.set()
    while sum(b.waiting for b in backlog()):
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    stop.set()
    for worker in workers:
        worker.join(timeout=30)
    backlog.close()
    delivered = client.xlen(stream)
    client.delete(stream)
    client.close()
    assert delivered >= rows, (delivered, rows)
    return rows / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--keys", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    name = f"eventscope_bench_outbox_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    dsn = f"{args.postgres}/{name}"
    try:
        figures: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.repeat):
            for relays in (1, 2):  # taking turns, so drift on a shared machine hits both
                figures[relays].append(
                    run_once(dsn, args.redis, relays, args.rows, args.keys, args.batch_size)
                )
    finally:
        with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    one, two = statistics.median(figures[1]), statistics.median(figures[2])
    result = {
        "rows": args.rows,
        "keys": args.keys,
        "batch_size": args.batch_size,
        "one_relay_rows_per_s": round(one),
        "two_relays_rows_per_s": round(two),
        "two_over_one": round(two / one, 2),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"outbox relay, PostgreSQL → Redis Streams, {args.rows} rows over {args.keys} keys, "
        f"batch {args.batch_size}, median of {args.repeat}"
    )
    print(f"  one relay    {one:8.0f} rows/s")
    print(f"  two relays   {two:8.0f} rows/s   ({two / one:.2f} x one relay)")


if __name__ == "__main__":
    main()
