"""Redis Streams consumer lag and dead-letter depth, from ``XINFO GROUPS``.

Every consumer group of every stream (all stream keys, found with ``SCAN ... TYPE
stream``, or the ``streams`` option) gives one reading:

- lag (messages): the group's ``lag`` — entries added after its last delivered one
  (Redis ≥ 7; when Redis cannot tell, after deletions, the entries are counted);
- pending: ``pending`` — delivered to a consumer, not acknowledged (``XACK``) yet;
- position: ``entries-read``; members: ``consumers``;
- lag (seconds): the age of the oldest entry the group has not acknowledged — the first
  pending one, else the first not yet delivered — read from its id, whose first part is
  the millisecond time Redis added it (for auto-generated ids, the usual kind).

Dead-letter streams (by default every stream whose key ends in ``.dlq``) get a depth:
their length, or, when groups read them, the most any group still has to consume.

Options: ``url`` (default ``redis://127.0.0.1:6379/0``), ``streams``, ``groups``,
``dead_letters`` (stream keys), ``timeout`` (seconds per call, default 5).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import redis

from eventscope.catalog import REDIS
from eventscope.errors import UsageError
from eventscope.lag.broker_options import (
    check_known,
    names_option,
    timeout_option,
)
from eventscope.lag.collector import CollectorError, Snapshot
from eventscope.lag.readings import ConsumerReading, DepthReading, LagReading

DEFAULT_URL = "redis://127.0.0.1:6379/0"
_PAGE = 1000


class RedisStreamsCollector:
    system = REDIS.name

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        streams: Sequence[str] | None = None,
        groups: Sequence[str] | None = None,
        dead_letters: Sequence[str] | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.streams = list(streams) if streams is not None else None
        self.groups = set(groups) if groups is not None else None
        self.dead_letters = set(dead_letters) if dead_letters is not None else None
        self.client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry_on_timeout=False,
        )

    def collect(self) -> Snapshot:
        try:
            return self._collect()
        except redis.exceptions.ConnectionError as exc:
            raise CollectorError(
                f"cannot reach Redis at {self._where()} ({exc}); is redis-server running?"
            ) from exc
        except redis.exceptions.TimeoutError as exc:
            raise CollectorError(f"Redis at {self._where()} did not answer in time") from exc
        except redis.exceptions.RedisError as exc:
            raise CollectorError(f"Redis at {self._where()} refused a request: {exc}") from exc

    def _where(self) -> str:
        kwargs = self.client.connection_pool.connection_kwargs
        return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"

    def _stream_keys(self) -> list[str]:
        if self.streams is not None:
            return [key for key in self.streams if self.client.type(key) == "stream"]
        return sorted(set(self.client.scan_iter(count=_PAGE, _type="stream")))

    def _collect(self) -> Snapshot:
        snapshot = Snapshot()
        now = time.time()
        for stream in self._stream_keys():
            groups = self.client.xinfo_groups(stream)
            dead_letter = self._is_dead_letter(stream)
            if dead_letter:
                snapshot.dead_letters.append(
                    DepthReading(REDIS.name, stream, self._depth(stream, groups))
                )
            for group in groups:
                name = group["name"]
                if self.groups is not None and name not in self.groups:
                    continue
                if self.groups is None and dead_letter:
                    continue
                snapshot.lag.append(self._reading(stream, group, now))
                snapshot.consumers.append(
                    ConsumerReading(REDIS.name, stream, name, int(group["consumers"]))
                )
        return snapshot

    def _reading(self, stream: str, group: dict[str, Any], now: float) -> LagReading:
        last = group["last-delivered-id"]
        unread = self._unread(stream, group)
        pending = int(group["pending"])
        oldest = None
        if pending:
            oldest = self.client.xpending(stream, group["name"])["min"]
        elif unread:
            first = self.client.xrange(stream, f"({last}", "+", count=1)
            oldest = first[0][0] if first else None
        seconds: float | None = 0.0 if not (pending or unread) else None
        if oldest is not None:
            seconds = max(0.0, now - int(oldest.split("-")[0]) / 1000)
        position = group.get("entries-read")
        if position is None and last == "0-0":
            position = 0  # a group that has read nothing yet (Redis says nil)
        return LagReading(
            REDIS.name,
            stream,
            group["name"],
            "",
            unread,
            seconds,
            pending,
            int(position) if position is not None else None,
        )

    def _unread(self, stream: str, group: dict[str, Any]) -> int:
        """The group's lag; counted when Redis cannot tell (after deletions)."""
        lag = group.get("lag")
        if lag is not None:
            return int(lag)
        count, start = 0, f"({group['last-delivered-id']}"
        while True:
            page = self.client.xrange(stream, start, "+", count=_PAGE)
            count += len(page)
            if len(page) < _PAGE:
                return count
            start = f"({page[-1][0]}"

    def _depth(self, stream: str, groups: list[dict[str, Any]]) -> int:
        if not groups:
            return int(self.client.xlen(stream))
        return max(self._unread(stream, group) + int(group["pending"]) for group in groups)

    def _is_dead_letter(self, stream: str) -> bool:
        if self.dead_letters is not None:
            return stream in self.dead_letters
        return REDIS.is_dead_letter(stream)

    def close(self) -> None:
        self.client.close()


def from_options(options: dict[str, Any]) -> RedisStreamsCollector:
    check_known(REDIS.name, options, {"url", "streams", "groups", "dead_letters", "timeout"})
    url = options.get("url", DEFAULT_URL)
    if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
        raise UsageError(f"url: expected redis://host:port/db, got {url!r}")
    try:
        return RedisStreamsCollector(
            url,
            streams=names_option(options, "streams"),
            groups=names_option(options, "groups"),
            dead_letters=names_option(options, "dead_letters"),
            timeout=timeout_option(options),
        )
    except ValueError as exc:
        raise UsageError(f"url {url!r}: {exc}") from exc
