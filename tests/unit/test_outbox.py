"""The outbox on SQLite (the standard library's, a real database file): what the relay
publishes, in which order, when it retries, what it deletes, what it reports, and what
the command says about bad input."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from eventscope.cli import main
from eventscope.instrumentation.headers import EVENT_ID, PUBLISHED_AT
from eventscope.outbox import (
    BacklogReader,
    Outbox,
    Publisher,
    Relay,
    RelayPolicy,
    register_metrics,
    transaction,
)

Sent = tuple[str, str | None, bytes, dict[str, str]]


@pytest.fixture
def dsn(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shop.db'}"


@pytest.fixture
def connection(dsn: str) -> sqlite3.Connection:
    connection = sqlite3.connect(dsn.removeprefix("sqlite:///"))
    Outbox("kafka").create_table(connection)
    connection.commit()
    return connection


def _relay(dsn: str, sent: list[Sent], fail: set[bytes] | None = None, **policy) -> Relay:
    def publish(destination: str, key: str | None, payload: bytes, headers: dict) -> None:
        if fail and payload in fail:
            fail.discard(payload)
            raise ConnectionError("broker unavailable")
        sent.append((destination, key, payload, headers))

    return Relay(dsn, Publisher("kafka", publish), policy=RelayPolicy(**policy))


def test_the_row_stores_the_headers_producer_writes_and_the_relay_sends_them(
    dsn: str, connection: sqlite3.Connection
) -> None:
    outbox = Outbox("kafka")
    headers = {"tenant": "acme"}
    with transaction(connection):
        event_id = outbox.write(connection, "orders", '{"id": 1}', key="c-1", headers=headers)
    assert headers[EVENT_ID] == event_id and PUBLISHED_AT in headers
    sent: list[Sent] = []
    assert _relay(dsn, sent).relay_batch().published == 1
    assert sent == [("orders", "c-1", b'{"id": 1}', headers)]


def test_a_rolled_back_write_leaves_nothing_to_relay(
    dsn: str, connection: sqlite3.Connection
) -> None:
    with pytest.raises(KeyError), transaction(connection):
        Outbox("kafka").write(connection, "orders", b"x")
        raise KeyError("the order insert failed")
    sent: list[Sent] = []
    assert _relay(dsn, sent).relay_batch().rows == []
    assert sent == []


def test_a_failed_row_holds_back_its_key_and_is_retried_after_a_backoff(
    dsn: str, connection: sqlite3.Connection
) -> None:
    outbox = Outbox("kafka")
    with transaction(connection):
        for n in range(6):
            outbox.write(connection, "orders", str(n), key=f"k{n % 2}")
    sent: list[Sent] = []
    relay = _relay(dsn, sent, fail={b"0"}, first_backoff=0.3)
    first = relay.relay_batch()
    assert (first.published, first.failed) == (3, 1)
    assert [p for _, _, p, _ in sent] == [b"1", b"3", b"5"]  # k0 waits behind row 0
    assert relay.relay_batch().rows == []  # row 0 is in its backoff; 2 and 4 wait for it
    time.sleep(0.35)
    assert relay.relay_batch().published == 3
    assert [p for _, k, p, _ in sent if k == "k0"] == [b"0", b"2", b"4"]
    assert relay.stats.failure_count() == 1 and relay.stats.published_count() == 6


def test_published_rows_are_deleted_after_the_retention_period(
    dsn: str, connection: sqlite3.Connection
) -> None:
    with transaction(connection):
        Outbox("kafka").write(connection, "orders", b"x")
    relay = _relay(dsn, [], retention=3600)
    relay.relay_batch()
    assert relay.purge() == 0  # published, but kept for the retention period
    relay.policy = RelayPolicy(retention=0.05)
    time.sleep(0.1)
    assert relay.purge() == 1
    assert connection.execute("SELECT COUNT(*) FROM eventscope_outbox").fetchone() == (0,)


def test_the_metrics_read_the_table_not_the_relay(dsn: str, connection: sqlite3.Connection) -> None:
    outbox = Outbox("kafka")
    with transaction(connection):
        for destination in ("orders", "orders", "refunds"):
            outbox.write(connection, destination, b"x")
    registry = CollectorRegistry()
    relay = _relay(dsn, [])
    register_metrics(registry, "eventscope_outbox", BacklogReader(dsn), relay.stats)

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(
            name, {"eventscope_outbox_table": "eventscope_outbox", **labels}
        )

    assert value("eventscope_outbox_waiting", messaging_destination_name="orders") == 2
    assert value("eventscope_outbox_oldest_age_seconds", messaging_destination_name="refunds") >= 0
    relay.relay_batch()
    # Drained: the destinations read 0 (a panel shows 0, not "No data"); others stay absent.
    for destination in ("orders", "refunds"):
        assert value("eventscope_outbox_waiting", messaging_destination_name=destination) == 0
        assert (
            value("eventscope_outbox_oldest_age_seconds", messaging_destination_name=destination)
            == 0
        )
    assert value("eventscope_outbox_waiting", messaging_destination_name="invoices") is None
    count = value(
        "eventscope_outbox_relay_duration_seconds_count",
        messaging_system="kafka",
        messaging_destination_name="orders",
    )
    assert count == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--dsn", "mysql://x"], "neither postgresql://"),
        (["--dsn", "sqlite:///{tmp}/none.db"], "create it with: eventscope outbox init"),
        (["--dsn", "sqlite:///{tmp}/shop.db", "--table", "x;drop"], "not a plain SQL identifier"),
        (["--dsn", "sqlite:///{tmp}/shop.db", "--broker", "kafka"], "needs --bootstrap"),
        (["--dsn", "sqlite:///{tmp}/shop.db", "--batch-size", "0"], "--batch-size must be ≥ 1"),
    ],
)
def test_bad_input_to_the_relay_command_is_one_line_and_exit_2(
    arguments: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["outbox", "init", "--dsn", f"sqlite:///{tmp_path}/shop.db"]) == 0
    arguments = [a.replace("{tmp}", str(tmp_path)) for a in arguments]
    if "--broker" not in arguments:
        arguments += ["--broker", "redis", "--url", "redis://127.0.0.1:1"]
    assert _exit_code(["outbox", "relay", *arguments]) == 2
    assert message in capsys.readouterr().err


def _exit_code(arguments: list[str]) -> int:
    """What ``eventscope ARGUMENTS`` exits with (argparse exits, commands return)."""
    try:
        return main(arguments)
    except SystemExit as exc:
        return int(exc.code or 0)
