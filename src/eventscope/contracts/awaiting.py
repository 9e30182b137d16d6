"""Running the provider's ``async def`` functions during a verification.

aio-pika and aiokafka producers are coroutines, so ``@provides`` and
``@provider_state`` functions may be ``async def`` (and a state an async generator, torn
down after its ``yield``).  Every coroutine of one verification runs on one event loop,
in a thread of its own: a connection a state opens is still usable by the ``@provides``
function and by the teardown, and it does not matter which thread the verifier calls
back from, nor whether the caller already runs a loop (an async test).
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable
from typing import Any

_END = object()
"""What :meth:`ProviderLoop.next_of` returns when the async generator is exhausted."""


class ProviderLoop:
    """One verification's event loop, started on first use; ``close()`` ends it."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def resolve(self, value: Any) -> Any:
        """``value``, or what it resolves to when it is awaitable (run to completion)."""
        if not inspect.isawaitable(value):
            return value
        return self.run(value)

    def run(self, awaitable: Awaitable[Any]) -> Any:
        loop = self._started()
        return asyncio.run_coroutine_threadsafe(_awaited(awaitable), loop).result()

    def next_of(self, generator: AsyncIterator[Any]) -> Any:
        """The generator's next value, or :data:`_END` once it is exhausted."""
        return self.run(_next_or_end(generator))

    def close(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop = self._thread = None

    def _started(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(
                target=_serve, args=(self._loop,), name="eventscope-provider-loop", daemon=True
            )
            self._thread.start()
        return self._loop


def exhausted(value: Any) -> bool:
    """Whether :meth:`ProviderLoop.next_of` found the generator exhausted."""
    return value is _END


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


async def _next_or_end(generator: AsyncIterator[Any]) -> Any:
    try:
        return await anext(generator)
    except StopAsyncIteration:
        return _END
