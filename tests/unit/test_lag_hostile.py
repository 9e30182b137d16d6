"""``eventscope lag`` against brokers that answer badly: a clear line, in bounded time.

The "brokers" are local sockets (:mod:`tests.raw_servers`) that drip one byte at a
time, speak another protocol or send JSON of the wrong shape; each test checks
what a person at the terminal sees and the exit code.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from eventscope.cli import main
from eventscope.lag import CollectorError, LagExporter, build_collector
from eventscope.lag.deadline import collect_within, describe
from tests.raw_servers import dripping, http_reply, replying, serving


def _lag(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["lag", *argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("broker", "first_bytes", "url"),
    [
        ("rabbitmq", b"HTTP/1.1 200 OK\r\n", "http://127.0.0.1:{port}"),
        ("redis", b"$999999\r\n-", "redis://127.0.0.1:{port}/0"),
        ("nats", b"INFO {}\r\n", "nats://127.0.0.1:{port}"),
    ],
)
def test_a_dripping_server_meets_one_deadline_per_collection(
    broker: str, first_bytes: bytes, url: str
) -> None:
    # Each byte arrives well inside the per-read timeout: only a deadline over the
    # whole collection can end it.
    with serving(dripping(first_bytes, 0.1)) as port:
        collector = build_collector(broker, {"url": url.format(port=port), "timeout": 0.6})
        with pytest.raises(CollectorError, match=r"no complete answer within 0.6 s"):
            collect_within(collector, 0.6, describe(collector))


@pytest.mark.parametrize(
    ("answer", "complaint"),
    [
        (b'INFO {"server_id":"x"}\r\n', "does not speak HTTP"),
        (b"\x00\xff garbage\r\n\r\n", "does not speak HTTP"),
        (http_reply(b"not json"), "not JSON"),
        (http_reply(b'{"queues": []}'), "not a list of named objects"),
        (http_reply(b'[{"name": ["q"]}]'), "not a list of named objects"),
        (http_reply(b'[{"name": "q", "messages_ready": "7"}]'), "messages_ready='7'"),
        (http_reply(b'[{"name": "q", "messages_ready": -1}]'), "messages_ready=-1"),
        (http_reply(b"[1, 2]"), "not a list of named objects"),
    ],
)
def test_malformed_management_answers_are_one_line_naming_the_target(
    capsys: pytest.CaptureFixture[str], answer: bytes, complaint: str
) -> None:
    with serving(replying(answer)) as port:
        code, err = _lag(capsys, "--broker", "rabbitmq", "--url", f"http://127.0.0.1:{port}")
    assert code == 1
    assert err.count("\n") == 1 and complaint in err and f"127.0.0.1:{port}" in err


def test_a_redis_reply_of_the_wrong_shape_is_an_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with serving(replying(b"*1\r\n$3\r\nabc\r\n")) as port:
        code, err = _lag(capsys, "--broker", "redis", "--url", f"redis://127.0.0.1:{port}/0")
    assert code == 1
    assert err.startswith("eventscope lag: redis: ") and "cannot read" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("broker", ["kafka", "rabbitmq", "nats", "redis"])
@pytest.mark.parametrize("timeout", ["inf", "-inf", "nan", "0", "-1", "1e300", "soon"])
def test_timeouts_must_be_finite_and_positive(
    capsys: pytest.CaptureFixture[str], broker: str, timeout: str
) -> None:
    code, err = _lag(
        capsys, "--broker", broker, "--bootstrap", "127.0.0.1:9", f"--timeout={timeout}"
    )
    assert code == 2
    assert err.startswith("eventscope lag: timeout: expected")


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "0", "1e300", "true"])
def test_scrape_timeouts_must_be_finite_and_positive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    config = tmp_path / "lag.yaml"
    config.write_text(f"scrape_timeout: {value}\ntargets: [{{name: r, broker: redis}}]\n")
    code, err = _lag(capsys, "serve", "--config", str(config))
    assert code == 2
    assert f"{config}: scrape_timeout: expected" in err


def test_a_config_that_is_not_utf8_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "lag.yaml"
    config.write_bytes(b"targets:\n  - name: caf\xe9\n")
    code, err = _lag(capsys, "serve", "--config", str(config))
    assert code == 2
    assert f"{config}: not UTF-8 text (byte 22" in err


def test_an_unreadable_answer_is_a_bounded_error_type_in_the_exporter() -> None:
    with serving(replying(http_reply(b'{"not": "a list"}'))) as port:
        collector = build_collector("rabbitmq", {"url": f"http://127.0.0.1:{port}"})
        exporter = LagExporter({"rabbit": collector}, 5.0)
        outcome = exporter.scrape()["rabbit"]
        exporter.close()
    assert outcome.snapshot is None and outcome.error_type == "unreachable"
    assert "not a list of named objects" in (outcome.message or "")


def test_lag_serve_exits_on_sigterm_while_a_collection_is_stuck(tmp_path: Path) -> None:
    accepted = threading.Event()
    with serving(dripping(b"HTTP/1.1 200 OK\r\n", 0.2), accepted) as port:
        config = tmp_path / "lag.yaml"
        config.write_text(
            "scrape_timeout: 60\ntargets:\n"
            f"  - {{name: stuck, broker: rabbitmq, url: 'http://127.0.0.1:{port}', timeout: 60}}\n"
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "eventscope.cli",
                "lag",
                "serve",
                "--config",
                str(config),
                "--port",
                "0",
                "--address",
                "127.0.0.1",
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            banner = server.stderr.readline() if server.stderr else ""
            metrics_port = int(banner.rsplit(":", 1)[1].split("/")[0])
            scrape = subprocess.Popen(  # a scrape that starts the stuck collection
                [
                    sys.executable,
                    "-c",
                    "import sys, urllib.request; "
                    f"urllib.request.urlopen('http://127.0.0.1:{metrics_port}/metrics')",
                ],
                stderr=subprocess.DEVNULL,
            )
            assert accepted.wait(30), "the scrape never reached the stuck broker"
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)  # before the fix: never (it joined the stuck worker)
        finally:
            server.kill()
            scrape.kill()
            scrape.wait()
    assert server.returncode == 0
