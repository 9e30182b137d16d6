"""In-service lag collection against the real RabbitMQ, through the service's /metrics.

The issue's scenario: a service watches its vhost's queues with
``configure(...).watch(RabbitMQCollector(...))``; the vhost is then deleted.  The service
must keep answering /metrics, report ``eventscope_lag_target_up 0`` and count the error
(the exporter-down alert's inputs), and export no lag it cannot know.  This test owns
its vhost (created and deleted here), so deleting it touches no one else's queues.
"""

from __future__ import annotations

import contextlib
import time
import urllib.parse
import uuid

import pika
import pytest
from prometheus_client import CollectorRegistry

from eventscope.instrumentation import configure, telemetry
from eventscope.lag.rabbitmq import RabbitMQCollector
from tests.integration.rabbitmq.conftest import URL, management
from tests.unit.test_lag_watch import scrape, value

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def own_vhost():
    name = f"eventscope-watch-{uuid.uuid4().hex[:8]}"
    quoted = urllib.parse.quote(name, safe="")
    user = urllib.parse.quote(pika.URLParameters(URL).credentials.username, safe="")
    management("PUT", f"/api/vhosts/{quoted}", {})
    management(
        "PUT", f"/api/permissions/{quoted}/{user}", {"configure": ".*", "write": ".*", "read": ".*"}
    )
    yield name
    with contextlib.suppress(OSError):  # 404: the test deleted it already
        management("DELETE", f"/api/vhosts/{quoted}")


def test_a_deleted_vhost_is_target_down_on_the_services_own_metrics(own_vhost: str) -> None:
    queue = f"payments-{uuid.uuid4().hex[:6]}"
    url = URL.rstrip("/") + "/" + urllib.parse.quote(own_vhost, safe="")
    with pika.BlockingConnection(pika.URLParameters(url)) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.queue_declare(queue)
        for i in range(3):
            channel.basic_publish("", queue, str(i).encode())

    configuration = configure(
        "payments", registry=CollectorRegistry(), metrics_port=0, otlp=False
    )
    try:
        collector = RabbitMQCollector(URL, vhost=own_vhost, groups=[queue])
        watch = configuration.watch(collector, interval=3600, target="payments-rabbitmq")
        deadline = time.monotonic() + 15  # queue totals refresh within a few seconds
        while value(scrape(configuration), "eventscope_consumer_lag_messages") != 3:
            assert time.monotonic() < deadline, "the queue's 3 messages never showed as lag"
            time.sleep(0.2)
            watch.refresh()
        target = {"eventscope_lag_target": "payments-rabbitmq"}
        assert value(scrape(configuration), "eventscope_lag_target_up", **target) == 1

        management("DELETE", f"/api/vhosts/{urllib.parse.quote(own_vhost, safe='')}")
        watch.refresh()
        samples = scrape(configuration)
        assert value(samples, "eventscope_lag_target_up", **target) == 0
        assert value(samples, "eventscope_lag_collection_errors_total", **target) == 1
        assert value(samples, "eventscope_consumer_lag_messages") is None
    finally:
        configuration.shutdown()
        telemetry.reset()
