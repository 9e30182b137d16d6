"""``eventscope lag`` and ``eventscope lag serve`` against all four real brokers.

Each broker gets a backlog of N published and M consumed messages; the one-shot table
and the exporter must both report N - M, and a target whose broker is down must show
as an error metric, not as lag.  Kafka is a Tansu started here; its records are sent
one per batch (Tansu under-reports end offsets after a multi-record batch).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator

import nats
import pika
import pytest
import redis
from confluent_kafka import Consumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from eventscope.cli import main
from eventscope.demo.transports.tansu import Tansu, free_port
from tests.integration.kafka.helpers import (
    config,
    create_topics,
    produce_singly,
    single_record_producer,
)

pytestmark = [pytest.mark.kafka, pytest.mark.rabbitmq, pytest.mark.nats, pytest.mark.redis]

PUBLISHED, CONSUMED = 7, 3
REDIS_URL = "redis://127.0.0.1:6379/0"
NATS_URL = "nats://127.0.0.1:4222"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture(scope="module")
def name() -> str:
    return f"lagcmd-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def kafka_backlog(name: str) -> Iterator[str]:
    with Tansu() as broker:
        create_topics(broker.bootstrap, {name: 1})
        produce_singly(single_record_producer(broker.bootstrap), name, PUBLISHED, partition=0)
        committer = Consumer(config(broker.bootstrap, **{"group.id": name}))
        committer.commit(offsets=[TopicPartition(name, 0, CONSUMED)], asynchronous=False)
        committer.close()
        yield broker.bootstrap


@pytest.fixture(scope="module")
def redis_backlog(name: str) -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    client.xgroup_create(name, name, id="0", mkstream=True)
    for i in range(PUBLISHED):
        client.xadd(name, {"n": i})
    for entry_id, _ in client.xreadgroup(name, "c1", {name: ">"}, count=CONSUMED)[0][1]:
        client.xack(name, name, entry_id)
    yield name
    client.delete(name)


@pytest.fixture(scope="module")
def nats_backlog(name: str) -> Iterator[str]:
    stream = name.replace("-", "_").upper()

    async def setup() -> None:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        await js.add_stream(name=stream, subjects=[name])
        for i in range(PUBLISHED):
            await js.publish(name, str(i).encode())
        sub = await js.pull_subscribe(name, durable=name)
        for message in await sub.fetch(CONSUMED, timeout=5):
            await message.ack_sync()
        await nc.close()

    async def teardown() -> None:
        nc = await nats.connect(NATS_URL)
        await nc.jetstream().delete_stream(stream)
        await nc.close()

    asyncio.run(setup())
    yield name
    asyncio.run(teardown())


@pytest.fixture(scope="module")
def rabbitmq_backlog(name: str) -> Iterator[str]:
    connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.queue_declare(name)
    for i in range(PUBLISHED):
        channel.basic_publish("", name, str(i).encode())
    for _ in range(CONSUMED):
        method, _, _ = channel.basic_get(name, auto_ack=True)
        assert method is not None
    yield name
    channel.queue_delete(name)
    connection.close()


def test_one_shot_table_reports_the_backlog(redis_backlog: str, capsys) -> None:
    args = [
        "lag",
        "--broker",
        "redis",
        "--url",
        REDIS_URL,
        "--group",
        redis_backlog,
        "--option",
        f"streams={redis_backlog}",
        "--json",
    ]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["total_lag"] == PUBLISHED - CONSUMED
    (reading,) = report["lag"]
    assert (reading["destination"], reading["group"]) == (redis_backlog, redis_backlog)


def test_one_shot_against_a_broker_that_is_down(capsys) -> None:
    port = free_port()
    args = ["lag", "--broker", "redis", "--url", f"redis://127.0.0.1:{port}/0", "--timeout", "1"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("eventscope lag: redis: ") and str(port) in err
    assert "Traceback" not in err


def _scrape(port: int) -> dict[tuple[str, frozenset], float]:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def _lag_of(samples: dict, system: str, group: str) -> float | None:
    values = [
        value
        for (metric, labels), value in samples.items()
        if metric == "eventscope_consumer_lag_messages"
        and dict(labels).get("messaging_system") == system
        and dict(labels).get("messaging_consumer_group_name") == group
    ]
    return sum(values) if values else None


def test_exporter_serves_every_broker_and_flags_the_one_that_is_down(
    tmp_path, name, kafka_backlog, redis_backlog, nats_backlog, rabbitmq_backlog
) -> None:
    config_file = tmp_path / "lag.yaml"
    config_file.write_text(
        "scrape_timeout: 8\n"
        "targets:\n"
        f"  - {{name: kafka, broker: kafka, bootstrap: '{kafka_backlog}', groups: [{name}]}}\n"
        f"  - {{name: redis, broker: redis, url: '{REDIS_URL}', groups: [{name}],"
        f" streams: [{name}]}}\n"
        f"  - {{name: nats, broker: nats, url: '{NATS_URL}', groups: [{name}]}}\n"
        f"  - {{name: rabbitmq, broker: rabbitmq, url: '{AMQP_URL}', groups: [{name}]}}\n"
        f"  - {{name: down, broker: redis, url: 'redis://127.0.0.1:{free_port()}/0',"
        " timeout: 1}\n"
    )
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eventscope.cli",
            "lag",
            "serve",
            "--config",
            str(config_file),
            "--port",
            str(port),
            "--address",
            "127.0.0.1",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        expected = PUBLISHED - CONSUMED
        deadline = time.monotonic() + 40
        while True:  # the RabbitMQ management API refreshes its figures every 5 s
            with contextlib.suppress(OSError):
                samples = _scrape(port)
                lags = {
                    s: _lag_of(samples, s, name) for s in ("kafka", "redis", "nats", "rabbitmq")
                }
                if all(v == expected for v in lags.values()):
                    break
            assert time.monotonic() < deadline, f"lag never reached {expected}: {lags}"
            time.sleep(0.5)
        up = {
            dict(labels)["eventscope_lag_target"]: value
            for (metric, labels), value in samples.items()
            if metric == "eventscope_lag_target_up"
        }
        assert up == {"kafka": 1, "redis": 1, "nats": 1, "rabbitmq": 1, "down": 0}
        errors = [
            value
            for (metric, labels), value in samples.items()
            if metric == "eventscope_lag_collection_errors_total"
            and dict(labels)["eventscope_lag_target"] == "down"
        ]
        assert errors and errors[0] >= 1
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr
    assert "lag target down (redis)" in stderr
    assert "Traceback" not in stderr
