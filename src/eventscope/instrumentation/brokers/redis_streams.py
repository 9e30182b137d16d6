"""One-line instrumentation for Redis Streams with redis-py (``redis.Redis`` and ``redis.asyncio``).

```python
r = redis_streams.instrument(redis.Redis())          # or redis.asyncio.Redis()
r.xadd("orders", {"order": body})                   # PRODUCER span; trace fields added
for stream, entries in r.xreadgroup("billing", "worker-1", {"orders": ">"}, count=50):
    for entry in entries:                            # StreamEntry: still an (id, fields) pair
        bill(entry)

@redis_streams.consumer("billing", max_attempts=3)
def bill(entry: StreamEntry) -> None: ...
```

Redis keeps its own delivery count: an entry read but not acknowledged stays in the
group's pending entries list (PEL), and every delivery of it — ``XREADGROUP`` of the
PEL, ``XCLAIM``, ``XAUTOCLAIM`` — counts.  eventscope uses exactly that: a handled entry
is ``XACK``-ed; a retry is left pending, to come back through the application's
recovery loop (``xautoclaim()`` on the instrumented client, as Redis documents for
failed consumers), its ``times_delivered`` being the attempt; a dead-letter is added
to ``<stream>.dlq`` with its fields (trace context included) and acknowledged, in one
transaction.  Nothing is republished to the stream itself, so other groups reading it
never see a retry.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace

from eventscope.catalog import REDIS, Attr, Outcome
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import settlement, sources
from eventscope.instrumentation.brokers.sources import Source
from eventscope.instrumentation.carriers import MappingCarrier
from eventscope.instrumentation.messages import register_message_type
from eventscope.instrumentation.producer_decorator import producer

_publishing: ContextVar[bool] = ContextVar("eventscope_redis_publishing", default=False)


def publishing() -> bool:
    """Whether an instrumented XADD is under way here (its inner call to the client must
    not be traced a second time)."""
    return _publishing.get()


NEW = ">"
ENTRY_ID = Attr.MESSAGE_ID
"""semconv 1.44 defines no Redis attribute: a stream entry's id is its message id."""


def text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class StreamEntry(tuple):
    """A stream entry ``(id, fields)`` as redis-py returns it, plus where it came from.

    It unpacks and indexes like the plain pair, so existing loops keep working.
    """

    stream: str
    group: str
    consumer: str
    attempt: int
    client: Any

    def __new__(
        cls,
        entry: tuple[Any, Any],
        *,
        stream: str,
        group: str,
        consumer: str,
        attempt: int,
        client: Any,
    ) -> StreamEntry:
        self = super().__new__(cls, entry)
        self.stream, self.group, self.consumer = stream, group, consumer
        self.attempt, self.client = attempt, client
        return self

    @property
    def id(self) -> Any:
        return self[0]

    @property
    def fields(self) -> Any:
        return self[1]


class _EntryAdapter:
    system = REDIS.name
    carrier = MappingCarrier

    def headers(self, entry: StreamEntry) -> Any:
        return entry[1]

    def destination(self, entry: StreamEntry) -> str:
        return entry.stream

    def attempt(self, entry: StreamEntry) -> int:
        return entry.attempt

    def attributes(self, entry: StreamEntry) -> dict[str, Any]:
        return {ENTRY_ID: text(entry[0])}

    def source(self, entry: StreamEntry) -> Source:
        return client_source(entry.client)

    span_destination = None  # the topic / subject / stream / queue, as on the metrics

    def settle(self, entry: StreamEntry, outcome: Outcome, reason: str | None) -> bool:
        return settlement.record(entry, outcome, reason)


def _read_pool(pool: Any) -> Source:
    settings = pool.connection_kwargs
    return sources.server(settings.get("host") or settings.get("path"), settings.get("port"))


_by_pool = sources.ConnectionSources(_read_pool)


def client_source(client: Any) -> Source:
    """``server.address``/``server.port`` of a redis-py client (sync or asyncio), read
    once per connection pool."""
    return _by_pool(getattr(client, "connection_pool", None))


def _xadd_source(client: Any, *args: Any, **kwargs: Any) -> Source:
    return client_source(client)


def _note_entry_id(entry_id: Any, fields: Mapping[str, Any]) -> None:
    """XADD answered with the entry id: the message's id from now on, on both sides."""
    if isinstance(entry_id, str | bytes):
        trace.get_current_span().set_attributes(
            {ENTRY_ID: text(entry_id), Attr.EVENT_ID: text(fields.get(h.EVENT_ID, ""))}
        )


register_message_type(StreamEntry, _EntryAdapter())


def carry_out(entry: StreamEntry, decision: settlement.Decision | None) -> Any:
    """XACK, or XADD to the dead-letter stream and XACK; a retry stays pending.

    Returns what the client returns: an awaitable for ``redis.asyncio`` clients.
    """
    if decision is not None and decision.outcome is Outcome.RETRY:
        return None
    client = entry.client
    if decision is None or decision.outcome is not Outcome.DEAD_LETTER:
        return client.xack(entry.stream, entry.group, entry[0])
    fields = dict(entry[1] or {})
    carrier = MappingCarrier(fields)
    carrier.set(h.DEAD_LETTER_REASON, decision.reason or "unspecified")
    carrier.set(h.ORIGINAL_DESTINATION, entry.stream)
    pipe = client.pipeline(transaction=True)
    pipe.xadd(REDIS.dead_letter_destination(entry.stream), fields)
    pipe.xack(entry.stream, entry.group, entry[0])
    return pipe.execute()


def consumer(
    group: str | None = None,
    *,
    max_attempts: int | None = None,
    deduplicate: int = 0,
    batch: bool = False,
) -> Callable[[Callable[..., Any]], Callable[[Any], Any]]:
    """Instrument ``fn(entry[, ctx])`` (or ``fn(entries[, ctx])`` with ``batch=True``).

    Sync and ``async def`` alike; entries must come from an instrumented client, which
    knows their stream, group and delivery count.
    """

    def decorate(fn: Callable[..., Any]) -> Callable[[Any], Any]:
        handle = settlement.handler(
            fn,
            group=group,
            system=REDIS.name,
            max_attempts=max_attempts,
            deduplicate=deduplicate,
            batch=batch,
        )

        if inspect.iscoroutinefunction(fn):

            async def run_async(message: Any) -> None:
                entries = list(message) if batch else [message]
                with settlement.delivering() as ledger:
                    await handle(entries if batch else message)
                for entry in entries:
                    pending = carry_out(entry, ledger.decision(entry, max_attempts))
                    if inspect.isawaitable(pending):
                        await pending

            wrapper: Callable[[Any], Any] = run_async
        else:

            def run(message: Any) -> None:
                entries = list(message) if batch else [message]
                with settlement.delivering() as ledger:
                    handle(entries if batch else message)
                for entry in entries:
                    carry_out(entry, ledger.decision(entry, max_attempts))

            wrapper = run
        wrapper.__name__ = fn.__name__
        wrapper.__qualname__ = fn.__qualname__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return decorate


# --- reading: plain redis-py results with StreamEntry objects in them ------------------


def _stream_lists(response: Any) -> Iterable[tuple[Any, list]]:
    """(stream name, entries) pairs from an XREADGROUP reply, RESP2 or RESP3 shaped."""
    if isinstance(response, Mapping):
        for name, value in response.items():
            nested = value and isinstance(value[0], list)
            yield name, value[0] if nested else value
    else:
        for name, entries in response or ():
            yield name, entries


def _reshape(response: Any, entries_by_stream: dict[Any, list]) -> Any:
    if isinstance(response, Mapping):
        return {name: [entries] for name, entries in entries_by_stream.items()}
    return [[name, entries] for name, entries in entries_by_stream.items()]


def _wrap(
    entries: list, stream: Any, group: Any, consumer: Any, client: Any, attempts: Mapping
) -> list[StreamEntry]:
    return [
        StreamEntry(
            entry,
            stream=text(stream),
            group=text(group),
            consumer=text(consumer),
            attempt=attempts.get(text(entry[0]), 1),
            client=client,
        )
        for entry in entries
        if entry and entry[1] is not None  # an entry deleted while pending: nothing to hand
    ]


def _attempts(pending: Iterable[Mapping]) -> dict[str, int]:
    return {text(p["message_id"]): int(p["times_delivered"]) for p in pending}


def _pending_range(entries: list) -> tuple[Any, Any, int] | None:
    ids = [entry[0] for entry in entries if entry]
    return (ids[0], ids[-1], len(ids)) if ids else None


def _stream_name(client: Any, name: Any, *args: Any, **kwargs: Any) -> str:
    return text(name)


@producer(_stream_name, system=REDIS.name, headers_param="fields", source=_xadd_source)
def _xadd(client: Any, name: Any, fields: dict, *args: Any, **kwargs: Any) -> Any:
    token = _publishing.set(True)
    try:
        entry_id = client.xadd(name, fields, *args, **kwargs)
    finally:
        _publishing.reset(token)
    _note_entry_id(entry_id, fields)
    return entry_id


@producer(_stream_name, system=REDIS.name, headers_param="fields", source=_xadd_source)
async def _xadd_async(client: Any, name: Any, fields: dict, *args: Any, **kwargs: Any) -> Any:
    token = _publishing.set(True)
    try:
        entry_id = await client.xadd(name, fields, *args, **kwargs)
    finally:
        _publishing.reset(token)
    _note_entry_id(entry_id, fields)
    return entry_id


class InstrumentedRedis:
    """A ``redis.Redis`` whose XADD is traced and whose reads return :class:`StreamEntry`."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def xadd(self, name: Any, fields: Mapping, *args: Any, **kwargs: Any) -> Any:
        return _xadd(self.client, name, dict(fields), *args, **kwargs)

    def xreadgroup(
        self, groupname: Any, consumername: Any, streams: Mapping, *args: Any, **kwargs: Any
    ) -> Any:
        response = self.client.xreadgroup(groupname, consumername, streams, *args, **kwargs)
        wrapped = {}
        for name, entries in _stream_lists(response):
            attempts = {}
            span = _pending_range(entries) if text(_id_for(streams, name)) != NEW else None
            if span is not None:
                attempts = _attempts(self.client.xpending_range(name, groupname, *span))
            wrapped[name] = _wrap(entries, name, groupname, consumername, self.client, attempts)
        return _reshape(response, wrapped)

    def xautoclaim(
        self, name: Any, groupname: Any, consumername: Any, min_idle_time: int, **kwargs: Any
    ) -> Any:
        """``XAUTOCLAIM``: entries idle in the group's PEL, now this consumer's."""
        reply = self.client.xautoclaim(name, groupname, consumername, min_idle_time, **kwargs)
        if kwargs.get("justid"):
            return reply
        span = _pending_range(reply[1])
        attempts = _attempts(self.client.xpending_range(name, groupname, *span)) if span else {}
        entries = _wrap(reply[1], name, groupname, consumername, self.client, attempts)
        return [reply[0], entries, *reply[2:]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


class InstrumentedAsyncRedis:
    """The same for ``redis.asyncio.Redis``."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def xadd(self, name: Any, fields: Mapping, *args: Any, **kwargs: Any) -> Any:
        return await _xadd_async(self.client, name, dict(fields), *args, **kwargs)

    async def xreadgroup(
        self, groupname: Any, consumername: Any, streams: Mapping, *args: Any, **kwargs: Any
    ) -> Any:
        response = await self.client.xreadgroup(groupname, consumername, streams, *args, **kwargs)
        wrapped = {}
        for name, entries in _stream_lists(response):
            attempts = {}
            span = _pending_range(entries) if text(_id_for(streams, name)) != NEW else None
            if span is not None:
                attempts = _attempts(await self.client.xpending_range(name, groupname, *span))
            wrapped[name] = _wrap(entries, name, groupname, consumername, self.client, attempts)
        return _reshape(response, wrapped)

    async def xautoclaim(
        self, name: Any, groupname: Any, consumername: Any, min_idle_time: int, **kwargs: Any
    ) -> Any:
        reply = await self.client.xautoclaim(name, groupname, consumername, min_idle_time, **kwargs)
        if kwargs.get("justid"):
            return reply
        span = _pending_range(reply[1])
        pending = await self.client.xpending_range(name, groupname, *span) if span else []
        entries = _wrap(reply[1], name, groupname, consumername, self.client, _attempts(pending))
        return [reply[0], entries, *reply[2:]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def _id_for(streams: Mapping, name: Any) -> Any:
    """The id asked for ``name`` in XREADGROUP's streams (the reply may spell it as bytes)."""
    if name in streams:
        return streams[name]
    for key, value in streams.items():
        if text(key) == text(name):
            return value
    return NEW


def instrument(client: Any) -> InstrumentedRedis | InstrumentedAsyncRedis:
    """Wrap a ``redis.Redis`` or ``redis.asyncio.Redis`` client: the one line to add."""
    from redis.asyncio import Redis as AsyncRedis

    if isinstance(client, AsyncRedis):
        return InstrumentedAsyncRedis(client)
    return InstrumentedRedis(client)
