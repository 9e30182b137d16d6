"""NATS JetStream consumer lag and dead-letter depth, from the JetStream API.

Each durable consumer is a group, reading one stream (its ``destination`` is the
consumer's filter subject, else the stream's only subject, else the stream name):

- lag (messages): ``num_pending`` — matching messages not yet delivered;
- pending: ``num_ack_pending`` — delivered, waiting for an acknowledgement;
- position: ``ack_floor.stream_seq`` — every message up to it is acknowledged;
- redelivered: ``num_redelivered``;
- lag (seconds): the age of the oldest message not acknowledged yet — the first
  message after the ack floor that matches the filter (one ``STREAM.MSG.GET`` with
  ``next_by_subj``), when there is one.

Dead-letter subjects (by default every literal stream subject ending in ``.dlq``) get
a depth: the messages stored on that subject, or, when durable consumers read exactly
that subject, the most any of them still has to consume.

nats-py is asyncio-only; the collector runs its calls on an event loop of its own, in
its own thread, so ``collect()`` is an ordinary blocking call from any thread.  It
keeps one connection between collections and drops it after a failure.

Options: ``url`` (default ``nats://127.0.0.1:4222``), ``groups`` (consumer names),
``dead_letters`` (subjects), ``timeout`` (seconds per call, default 5).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Sequence
from typing import Any

import nats
from nats.js.errors import NotFoundError

from eventscope.catalog import NATS
from eventscope.errors import UsageError
from eventscope.lag.broker_options import (
    check_known,
    names_option,
    timeout_option,
)
from eventscope.lag.collector import CollectorError, Snapshot
from eventscope.lag.readings import ConsumerReading, DepthReading, LagReading

DEFAULT_URL = "nats://127.0.0.1:4222"


class NatsCollector:
    system = NATS.name

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        groups: Sequence[str] | None = None,
        dead_letters: Sequence[str] | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.groups = set(groups) if groups is not None else None
        self.dead_letters = list(dead_letters) if dead_letters is not None else None
        self.timeout = timeout
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._nc: Any = None

    def _run(self, coroutine: Any, timeout: float) -> Any:
        """Run on the collector's own loop thread: callable from any thread, even one
        whose own event loop is running (an async application's)."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=self._loop.run_forever, name="eventscope-nats-lag", daemon=True
            )
            self._thread.start()
        return asyncio.run_coroutine_threadsafe(
            asyncio.wait_for(coroutine, timeout), self._loop
        ).result()

    def collect(self) -> Snapshot:
        with self._lock:
            try:
                return self._run(self._collect(), self.timeout * 4)
            except CollectorError:
                self._drop()
                raise
            except (TimeoutError, nats.errors.Error, OSError) as exc:
                self._drop()
                raise CollectorError(
                    f"NATS at {self.url} did not answer a JetStream request in time "
                    f"({type(exc).__name__}: {exc}); is the server up with JetStream enabled?"
                ) from exc

    async def _connect(self) -> Any:
        if self._nc is None or not self._nc.is_connected:

            async def quiet(*_: Any) -> None:
                """Failures surface as CollectorError; nats-py's own logging adds nothing."""

            try:
                self._nc = await nats.connect(
                    self.url,
                    connect_timeout=self.timeout,
                    # One try, no reconnection: a dead server must fail this collection
                    # now (0 would mean "retry forever" in nats-py's server selection).
                    allow_reconnect=False,
                    max_reconnect_attempts=1,
                    reconnect_time_wait=0,
                    error_cb=quiet,
                    disconnected_cb=quiet,
                    closed_cb=quiet,
                )
            except Exception as exc:
                raise CollectorError(
                    f"cannot connect to NATS at {self.url} ({type(exc).__name__}: {exc})"
                ) from exc
        return self._nc

    async def _collect(self) -> Snapshot:
        nc = await self._connect()
        jsm = nc.jsm(timeout=self.timeout)
        snapshot = Snapshot()
        streams = await _all(jsm.streams_info)
        readers: dict[str, list[int]] = {}
        for stream in streams:
            name = stream.config.name
            for info in await _all(lambda offset, name=name: jsm.consumers_info(name, offset)):
                filter_subject = info.config.filter_subject
                waiting = (info.num_pending or 0) + (info.num_ack_pending or 0)
                if filter_subject:
                    readers.setdefault(filter_subject, []).append(waiting)
                if self.groups is not None and info.name not in self.groups:
                    continue
                if self.groups is None and filter_subject and self._is_dead_letter(filter_subject):
                    continue
                snapshot.lag.append(await self._reading(jsm, stream, info))
                snapshot.consumers.append(
                    ConsumerReading(
                        NATS.name, _destination(stream, info), info.name, None, info.num_redelivered
                    )
                )
        for subject in self._dead_letter_subjects(streams):
            if subject in readers:
                depth = max(readers[subject])
            else:
                depth = await _stored(jsm, subject)
            snapshot.dead_letters.append(DepthReading(NATS.name, subject, depth))
        return snapshot

    async def _reading(self, jsm: Any, stream: Any, info: Any) -> LagReading:
        floor = info.ack_floor.stream_seq if info.ack_floor is not None else 0
        pending = info.num_pending or 0
        unacked = info.num_ack_pending or 0
        seconds: float | None = 0.0
        if pending + unacked:
            seconds = await _oldest_age(jsm, stream.config.name, floor, info.config.filter_subject)
        return LagReading(
            NATS.name, _destination(stream, info), info.name, "", pending, seconds, unacked, floor
        )

    def _is_dead_letter(self, subject: str) -> bool:
        if self.dead_letters is not None:
            return subject in self.dead_letters
        return NATS.is_dead_letter(subject)

    def _dead_letter_subjects(self, streams: list[Any]) -> list[str]:
        if self.dead_letters is not None:
            return list(self.dead_letters)
        return sorted(
            subject
            for stream in streams
            for subject in stream.config.subjects or ()
            if NATS.is_dead_letter(subject) and "*" not in subject and ">" not in subject
        )

    def _drop(self) -> None:
        nc, self._nc = self._nc, None
        if nc is not None:
            with contextlib.suppress(Exception):  # already broken; closing is best effort
                self._run(nc.close(), self.timeout)

    def close(self) -> None:
        with self._lock:
            self._drop()
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
            if loop is not None and thread is not None:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout=self.timeout)
                loop.close()


async def _all(page: Any) -> list[Any]:
    """Every item of a paged JetStream listing (the server sends 256 at a time)."""
    items: list[Any] = []
    while True:
        batch = await page(len(items))
        if not batch:
            return items
        items.extend(batch)


def _destination(stream: Any, info: Any) -> str:
    if info.config.filter_subject:
        return info.config.filter_subject
    subjects = stream.config.subjects or []
    return subjects[0] if len(subjects) == 1 else stream.config.name


async def _oldest_age(
    jsm: Any, stream: str, floor: int, filter_subject: str | None
) -> float | None:
    try:
        msg = await jsm.get_msg(stream, seq=floor + 1, subject=filter_subject or ">", next=True)
    except NotFoundError:
        return None  # acknowledged or removed between the two requests
    if msg.time is None:
        return None
    return max(0.0, time.time() - msg.time.timestamp())


async def _stored(jsm: Any, subject: str) -> int:
    """Messages stored on ``subject`` in the stream that captures it (0 if none does)."""
    try:
        stream = await jsm.find_stream_name_by_subject(subject)
    except NotFoundError:
        return 0
    info = await jsm.stream_info(stream, subjects_filter=subject)
    return int((info.state.subjects or {}).get(subject, 0))


def from_options(options: dict[str, Any]) -> NatsCollector:
    check_known(NATS.name, options, {"url", "groups", "dead_letters", "timeout"})
    url = options.get("url", DEFAULT_URL)
    if not isinstance(url, str) or not url.startswith(("nats://", "tls://", "ws://", "wss://")):
        raise UsageError(f"url: expected nats://host:port, got {url!r}")
    return NatsCollector(
        url,
        groups=names_option(options, "groups"),
        dead_letters=names_option(options, "dead_letters"),
        timeout=timeout_option(options),
    )
