"""One deadline per collection, whatever the broker's client does meanwhile.

Client libraries time out per call or per socket read, so a server that answers one
byte at a time (or a typo'd URL pointing at the wrong protocol) can hold a
collection far past its timeout.  Here every collection runs in a daemon thread and
the caller waits at most the deadline: a collection still running then is reported
as a :class:`CollectorError` and abandoned (a daemon thread never keeps the process
alive, so ``lag serve`` still exits on SIGTERM).

Whatever else a collector raises on a malformed answer (a ``KeyError`` on a reply of
the wrong shape, a protocol error from a client) becomes a one-line
:class:`CollectorError` too, with the broker's text cut short: it is not ours to
print at length.
"""

from __future__ import annotations

import contextlib
import math
import threading
import urllib.parse
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from eventscope.errors import UsageError
from eventscope.lag.collector import CollectorError, LagCollector, Snapshot

T = TypeVar("T")

MAX_SECONDS = 3600.0
"""The longest timeout accepted: past it a socket timeout overflows, and no broker
needs an hour to report lag."""
_MAX_DETAIL = 200


def checked_seconds(value: object, key: str) -> float:
    """``value`` as a timeout in seconds: a finite number in (0, 3600], else UsageError."""
    if isinstance(value, bool):
        seconds = math.nan
    else:
        try:
            seconds = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise UsageError(f"{key}: expected seconds, got {value!r}") from None
    if not (0 < seconds <= MAX_SECONDS):
        raise UsageError(
            f"{key}: expected a positive number of seconds, at most {MAX_SECONDS:g}, got {value!r}"
        )
    return seconds


def in_daemon_thread(fn: Callable[[], T], name: str) -> Future[T]:
    """Run ``fn`` in a daemon thread; its result (or exception) through a future."""
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn())
        except BaseException as exc:  # handed to whoever waits on the future
            future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


def one_line(exc: BaseException) -> str:
    """An exception as a short single line: its type and its (cut) text."""
    text = " ".join(str(exc).split())
    if len(text) > _MAX_DETAIL:
        text = text[:_MAX_DETAIL] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def as_collector_error(exc: BaseException, where: str) -> CollectorError:
    """A collector's unexpected exception as the error a person reads."""
    if isinstance(exc, CollectorError):
        return exc
    return CollectorError(f"{where} gave an answer eventscope cannot read ({one_line(exc)})")


def describe(collector: LagCollector) -> str:
    """``rabbitmq at http://127.0.0.1:15672``: the broker, where it is, no password."""
    for attribute in ("url", "base", "bootstrap"):
        address = getattr(collector, attribute, None)
        if isinstance(address, str):
            return f"{collector.system} at {redacted(address)}"
    return collector.system


def redacted(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    try:
        password = urllib.parse.urlsplit(url).password
    except ValueError:
        return url
    return url if not password else url.replace(f":{password}@", ":***@", 1)


def collect_within(collector: LagCollector, seconds: float, where: str) -> Snapshot:
    """One collection, done within ``seconds`` or reported as a CollectorError."""
    future = in_daemon_thread(collector.collect, f"eventscope-lag-{collector.system}")
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        raise CollectorError(f"{where} gave no complete answer within {seconds:g} s") from None
    except Exception as exc:
        raise as_collector_error(exc, where) from exc


def close_within(collector: LagCollector, seconds: float) -> None:
    """Close a collector, but never wait on one stuck in a collection longer than this."""
    future = in_daemon_thread(collector.close, "eventscope-lag-close")
    with contextlib.suppress(Exception):  # best effort: the process is about to end
        future.result(timeout=seconds)
