"""The RabbitMQ demo survives its connections being closed by the broker.

The run's connections are closed through the management API, as an operator (or a
broker restart) would; only connections in the run's own virtual host are touched.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse

import pytest

from eventscope.demo import DemoOptions, DemoResult, runner
from eventscope.demo.transport import Transport
from tests.integration.rabbitmq.conftest import URL, management, management_get

pytestmark = pytest.mark.rabbitmq


def _close_connections(vhost: str) -> int:
    closed = 0
    quoted = urllib.parse.quote(vhost, safe="")
    try:
        connections = management_get(f"/api/vhosts/{quoted}/connections")
    except urllib.error.HTTPError:
        return 0  # the run has ended and deleted its virtual host
    for connection in connections:
        name = urllib.parse.quote(connection["name"], safe="")
        try:
            management("DELETE", f"/api/connections/{name}")
            closed += 1
        except urllib.error.HTTPError:
            pass  # gone meanwhile
    return closed


def test_force_closed_connections_are_reopened_and_nothing_is_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created: list[Transport] = []
    original = runner.create_transport

    def remember(broker: str, options: dict) -> Transport:
        created.append(original(broker, options))
        return created[-1]

    monkeypatch.setattr(runner, "create_transport", remember)
    results: list[DemoResult] = []
    options = DemoOptions(
        broker="rabbitmq",
        connection={"url": URL},
        messages=1500,
        rate=250,  # six seconds: the management API lists new connections with a delay
        poison_rate=0.05,
        metrics_port=None,
    )
    run = threading.Thread(target=lambda: results.append(runner.run_demo(options, live=None)))
    run.start()
    closed = 0
    stop = threading.Event()
    while run.is_alive() and not stop.wait(0.5):
        if created:
            closed += _close_connections(created[0].virtual_host)
    run.join()
    assert closed >= 2, "the run ended before its connections could be closed"
    [result] = results
    assert result.drained and result.invariants_hold
    assert result.published == result.traced == 1500
    assert result.lag == 0
