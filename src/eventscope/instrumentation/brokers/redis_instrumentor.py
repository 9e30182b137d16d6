"""Instrument redis-py's Streams commands once for the whole process, and take it back.

The one-call counterpart of :func:`eventscope.instrumentation.brokers.redis_streams.instrument`::

    from eventscope.instrumentation.brokers.redis_instrumentor import RedisStreamsInstrumentor

    RedisStreamsInstrumentor().instrument()   # every redis.Redis and redis.asyncio.Redis
    r = redis.Redis()
    r.xadd("orders", {"order": body})         # PRODUCER span, trace fields added
    r.xreadgroup("billing", "w1", {"orders": ">"})  # StreamEntry pairs for @consumer
    ...
    RedisStreamsInstrumentor().uninstrument()

``instrument()`` sets ``xadd``, ``xreadgroup`` and ``xautoclaim`` on the ``redis.Redis``
and ``redis.asyncio.Redis`` classes (they inherit them from redis-py's
``StreamCommands``), so every client of the process — redis-py's own objects, made
before or after — behaves like an ``instrument()``-ed one; ``uninstrument()`` removes
them again.  Pipelines are left alone: their commands are only queued (and
eventscope's own dead-letter transaction uses one).  A client also wrapped by hand is
traced once.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import redis
import redis.asyncio

from eventscope.instrumentation.brokers import redis_streams
from eventscope.instrumentation.brokers.patching import ClassPatches, OriginalMethods

_COMMANDS = ("xadd", "xreadgroup", "xautoclaim")
_PIPELINES = (redis.client.Pipeline, redis.asyncio.client.Pipeline)


def _traced_sync(originals: dict[str, Any]) -> dict[str, Any]:
    def call(name: str, client: Any, args: tuple, kwargs: dict) -> Any:
        if isinstance(client, _PIPELINES) or redis_streams.publishing():
            return originals[name](client, *args, **kwargs)
        wrapper = redis_streams.InstrumentedRedis(OriginalMethods(client, originals))
        return getattr(wrapper, name)(*args, **kwargs)

    return {name: _method(name, originals[name], call) for name in _COMMANDS}


def _traced_async(originals: dict[str, Any]) -> dict[str, Any]:
    async def call(name: str, client: Any, args: tuple, kwargs: dict) -> Any:
        if isinstance(client, _PIPELINES) or redis_streams.publishing():
            return await originals[name](client, *args, **kwargs)
        wrapper = redis_streams.InstrumentedAsyncRedis(OriginalMethods(client, originals))
        return await getattr(wrapper, name)(*args, **kwargs)

    return {name: _method(name, originals[name], call) for name in _COMMANDS}


def _method(name: str, original: Any, call: Any) -> Any:
    @functools.wraps(original)
    def method(client: Any, *args: Any, **kwargs: Any) -> Any:
        return call(name, client, args, kwargs)

    return method


_CLASSES = ((redis.Redis, _traced_sync), (redis.asyncio.Redis, _traced_async))


class RedisStreamsInstrumentor:
    """``instrument()`` / ``uninstrument()`` for the Streams commands of every redis-py
    client; one process-wide state whichever instance is used, and ``instrument()``
    twice is harmless."""

    _lock = threading.Lock()
    _patches: ClassPatches | None = None

    @property
    def is_instrumented(self) -> bool:
        return RedisStreamsInstrumentor._patches is not None

    def instrument(self) -> None:
        """Trace XADD and hand out :class:`~.redis_streams.StreamEntry` reads from now on."""
        with self._lock:
            if RedisStreamsInstrumentor._patches is not None:
                return
            patches = ClassPatches()
            for cls, traced in _CLASSES:
                originals = {name: getattr(cls, name) for name in _COMMANDS}
                for name, method in traced(originals).items():
                    patches.replace(cls, name, method)
            RedisStreamsInstrumentor._patches = patches

    def uninstrument(self) -> None:
        """Give redis-py its own commands back; entries read meanwhile still settle."""
        with self._lock:
            patches = RedisStreamsInstrumentor._patches
            if patches is None:
                return
            patches.restore()  # the commands are inherited again from StreamCommands
            RedisStreamsInstrumentor._patches = None
