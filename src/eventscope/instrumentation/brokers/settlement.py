"""Carrying out retry and dead-letter outcomes on a real broker, once, after the handler.

The ``@consumer`` decorator decides a message's outcome inside the handler call and
asks the message's adapter to settle it.  On a real broker settling is I/O — often
``async`` (aio-pika, nats-py, redis.asyncio) while the decorator's bookkeeping is not —
and it must happen exactly once, by the code that owns acknowledgements.  So the broker
adapters only *record* the decision in the :class:`Ledger` of the eventscope wrapper
that is delivering the message, and that wrapper acts on it after the handler returns.

A message handed to a plain ``@consumer`` by application code, with no eventscope
wrapper around the call, has no ledger: the adapter declines, the handler's exception
propagates, and the client's own error handling (``message.process()``, a JetStream
redelivery after ``ack_wait``...) applies as it would without eventscope.

Handlers that *say* ``ctx.retry()`` or ``ctx.dead_letter()`` without raising are
covered too: :func:`handler` notes every :class:`MessageContext` in the ledger.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from eventscope.catalog import Outcome
from eventscope.instrumentation.consumer_decorator import consumer
from eventscope.instrumentation.context import BatchContext, MessageContext

SETTLED_BY_BROKER = frozenset({Outcome.RETRY, Outcome.DEAD_LETTER})


@dataclass(frozen=True, slots=True)
class Decision:
    """What the broker must do with one message."""

    outcome: Outcome
    reason: str | None = None


class Ledger:
    """Decisions and handler contexts for the messages of one wrapped delivery.

    Used as ``with delivering() as ledger:``; a class with ``__enter__``/``__exit__``
    rather than a generator-based context manager, as it is entered per delivery.
    """

    __slots__ = ("_contexts", "_decisions", "_token")

    def __init__(self) -> None:
        self._decisions: dict[int, Decision] = {}
        self._contexts: dict[int, MessageContext] = {}
        self._token: Token[Ledger | None] | None = None

    def __enter__(self) -> Ledger:
        self._token = _current.set(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._token is not None:
            _current.reset(self._token)
            self._token = None

    def record(self, message: Any, outcome: Outcome, reason: str | None) -> None:
        self._decisions[id(message)] = Decision(outcome, reason)

    def note(self, ctx: MessageContext | BatchContext) -> None:
        for one in ctx.messages if isinstance(ctx, BatchContext) else (ctx,):
            self._contexts[id(one.message)] = one

    def handled(self, message: Any) -> bool:
        """Whether the handler ran for ``message`` (``False``: skipped as a duplicate)."""
        return id(message) in self._contexts

    def decision(self, message: Any, max_attempts: int | None) -> Decision | None:
        """The retry or dead-letter to carry out, ``None`` if the message is done.

        A retry asked for on the last allowed attempt becomes a dead-letter, as the
        in-memory bus does (a raised exception is already converted by the decorator).
        """
        decision = self._decisions.get(id(message))
        if decision is None:
            ctx = self._contexts.get(id(message))
            if ctx is None or ctx.outcome not in SETTLED_BY_BROKER:
                return None
            last = max_attempts is not None and ctx.attempt >= max_attempts
            if ctx.outcome is Outcome.RETRY and last:
                return Decision(Outcome.DEAD_LETTER, ctx.reason)
            decision = Decision(ctx.outcome, ctx.reason)
        return decision


_current: ContextVar[Ledger | None] = ContextVar("eventscope_ledger", default=None)


def delivering() -> Ledger:
    """A ledger for the handler calls made inside the ``with`` block it opens."""
    return Ledger()


def record(message: Any, outcome: Outcome, reason: str | None) -> bool:
    """What adapters' ``settle()`` does: note the decision if a wrapper will act on it."""
    ledger = _current.get()
    if ledger is None:
        return False
    ledger.record(message, outcome, reason)
    return True


def handler(
    fn: Callable[..., Any],
    call: Callable[[Callable[..., Any], Any, dict[str, Any]], Any] | None = None,
    *,
    group: str | None,
    destination: str | None = None,
    system: str,
    max_attempts: int | None,
    deduplicate: int = 0,
    batch: bool = False,
    queue: str | None = None,
) -> Callable[[Any], Any]:
    """``fn`` under ``@consumer``, as a one-argument function of the delivered message.

    ``call(fn, message, extra_kwargs)`` adapts the delivered object to ``fn``'s own
    signature (pika callbacks take four arguments); by default ``fn(message)``.  When
    ``fn`` has a ``ctx`` parameter it receives the :class:`MessageContext`.
    """
    wants_ctx = "ctx" in inspect.signature(fn).parameters
    invoke = call or _call_with_message

    if inspect.iscoroutinefunction(fn):

        async def inner(message: Any, ctx: Any) -> Any:
            _note(ctx)
            return await invoke(fn, message, {"ctx": ctx} if wants_ctx else {})

    else:

        def inner(message: Any, ctx: Any) -> Any:  # type: ignore[misc]
            _note(ctx)
            return invoke(fn, message, {"ctx": ctx} if wants_ctx else {})

    # Not functools.wraps: the decorator reads ``inner``'s own (message, ctx) signature.
    inner.__name__ = getattr(fn, "__name__", "handler")
    inner.__qualname__ = getattr(fn, "__qualname__", inner.__name__)
    inner.__doc__ = fn.__doc__
    return consumer(
        destination,
        group=group or inner.__name__,
        system=system,
        max_attempts=max_attempts,
        batch=batch,
        deduplicate=deduplicate,
        queue=queue,
    )(inner)


def _call_with_message(fn: Callable[..., Any], message: Any, extra: dict[str, Any]) -> Any:
    return fn(message, **extra)


def _note(ctx: MessageContext | BatchContext) -> None:
    ledger = _current.get()
    if ledger is not None:
        ledger.note(ctx)
