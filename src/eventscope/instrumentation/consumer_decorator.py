"""The ``@consumer`` decorator: one CONSUMER span, metrics and an outcome per message.

For each message it extracts the producer's trace context, event id and publish time
from the headers, opens a ``process`` span (a child of the producer's span, or for a
batch, linked to every producer span), hands the handler a :class:`MessageContext`
if it asks for one, and afterwards records processing duration, end-to-end latency
and the outcome.  Whatever goes wrong inside eventscope is logged once and
swallowed: the handler runs, and its own exceptions are never replaced.

This is the per-message hot path; it is written to allocate little and call little
(one context object per message, meters bound in advance).
"""

from __future__ import annotations

import functools
import inspect
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, Link, SpanKind, Status, StatusCode

from eventscope.catalog import SYSTEMS, Attr, HeaderProblem, Outcome
from eventscope.instrumentation import headers as h
from eventscope.instrumentation import telemetry
from eventscope.instrumentation.carriers import carrier_for
from eventscope.instrumentation.context import BatchContext, MessageContext
from eventscope.instrumentation.contrib import adopt, enclosing
from eventscope.instrumentation.deduplication import DedupStore, StoreFilter
from eventscope.instrumentation.header_text import ascii_count
from eventscope.instrumentation.messages import adapter_for
from eventscope.instrumentation.meters import PROCESS, ConsumerMeter, Source
from eventscope.instrumentation.outcomes import outcome_of_failure
from eventscope.instrumentation.propagation import Incoming, extract
from eventscope.instrumentation.publish_window import (
    DEFAULT_CLOCK_SKEW,
    DEFAULT_MAX_AGE,
    PublishWindow,
)

F = TypeVar("F", bound=Callable[..., Any])
_FAILED = frozenset({Outcome.ERROR, Outcome.RETRY, Outcome.DEAD_LETTER})
_SETTLED_BY_BROKER = frozenset({Outcome.RETRY, Outcome.DEAD_LETTER})
_now = time.time
_clock = time.perf_counter
_attach = otel_context.attach
_detach = otel_context.detach
_in_context = trace.set_span_in_context


class _DuplicateFilter:
    """Remembers the last ``size`` event ids that finished, to skip redeliveries."""

    __slots__ = ("_seen", "_size")

    def __init__(self, size: int) -> None:
        self._size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def admit(self, ctx: MessageContext) -> None:
        if ctx.event_id is not None and ctx.event_id in self._seen:
            ctx._skip = True

    def settled(self, ctx: MessageContext, outcome: Outcome) -> None:
        event_id = ctx.event_id
        if event_id is None or outcome not in (Outcome.OK, Outcome.DEAD_LETTER):
            return
        self._seen[event_id] = None
        self._seen.move_to_end(event_id)
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)


class _Target:
    """What one (system, destination, source) shares across its messages, built on
    first use: the bound meter, the span name and the span's constant attributes."""

    __slots__ = ("attributes", "meter", "span_name", "system")

    def __init__(
        self, meter: ConsumerMeter, system: str, destination: str, group: str, source: Source
    ) -> None:
        self.meter = meter
        self.system = system
        self.span_name = f"{PROCESS} {destination}"
        self.attributes = _attributes(system, destination, group, source)


_NAMES_NO_GROUP = frozenset(s.name for s in SYSTEMS if not s.spans_name_group)


def _attributes(system: str, destination: str, group: str, source: Source = ()) -> dict[str, Any]:
    # The outcome is set to "ok" up front (attributes given at start cost less than
    # a later set_attribute) and overwritten on the rarer other outcomes.
    attributes = {
        Attr.SYSTEM: system,
        Attr.DESTINATION: destination,
        Attr.CONSUMER_GROUP: group,
        Attr.OPERATION_NAME: PROCESS,
        Attr.OPERATION_TYPE: PROCESS,
        Attr.OUTCOME: Outcome.OK.value,
        **dict(source),
    }
    if system in _NAMES_NO_GROUP:
        del attributes[Attr.CONSUMER_GROUP]
    return attributes


class _ConsumerCore:
    """Everything the wrapper does around the handler call, kept out of its frame."""

    def __init__(
        self,
        destination: str | None,
        group: str,
        system: str | None,
        max_attempts: int | None,
        deduplicate: int | DedupStore,
        headers: Callable[[Any], Any] | None,
        window: PublishWindow,
        queue: str | None = None,
    ) -> None:
        self.window = window
        self.queue = queue
        self.destination = destination
        self.group = group
        self.system = system
        self.max_attempts = max_attempts
        self.headers = headers
        self.duplicates: _DuplicateFilter | StoreFilter | None = None
        if isinstance(deduplicate, int):
            self.duplicates = _DuplicateFilter(deduplicate) if deduplicate else None
        else:
            self.duplicates = StoreFilter(deduplicate, group)
        self._generation = -1
        self._tracer: Any = None
        self._tracing = False
        self._recorder: Any = None
        self._targets: dict[tuple[str, str, Source], _Target] = {}

    def _bind(self) -> None:
        current = telemetry.current()
        if current.generation != self._generation:
            self._tracer = current.tracer
            self._tracing = current.tracing
            self._recorder = current.recorder
            self._targets = {}
            self._generation = current.generation

    def _context(self, message: Any) -> tuple[MessageContext, Incoming, _Target]:
        """Read one message: its context, what its headers said, and its target."""
        adapter = adapter_for(message)
        if self.headers:  # the application's own accessor: the shape is not known
            raw = self.headers(message)
            carrier = carrier_for(raw)
        else:
            raw = adapter.headers(message)
            carrier = adapter.carrier(raw)
        incoming = extract(carrier, trace_context=self._tracing)
        system = self.system or adapter.system or "unknown"
        destination = self.destination or adapter.destination(message) or "unknown"
        attempt = adapter.attempt(message)
        attempt_header = carrier.get(h.ATTEMPT) if attempt is None else None
        if attempt_header is not None:
            attempt = ascii_count(attempt_header)
        ctx = MessageContext(
            message,
            raw,
            incoming.event_id,
            max(1, attempt or 1),
            incoming.published_at,
            destination,
            self.group,
        )
        ctx._adapter = adapter
        key = (system, destination, adapter.source(message))
        target = self._targets.get(key)
        if target is None:
            source = key[2]
            meter = self._recorder.consumer(system, destination, self.group, source)
            target = self._targets[key] = _Target(meter, system, destination, self.group, source)
        ctx._meter = meter = target.meter
        published_at = incoming.published_at
        if published_at is not None:
            now = _now()  # the window's test inlined: this runs for every message
            if now - self.window.max_age <= published_at <= now + self.window.clock_skew:
                ctx._since = published_at
            else:
                meter.invalid_header(h.PUBLISHED_AT, self.window.problem(published_at, now))
        elif carrier.get(h.PUBLISHED_AT) is not None:
            meter.invalid_header(h.PUBLISHED_AT, HeaderProblem.MALFORMED)
        if attempt_header is not None and attempt is None:
            meter.invalid_header(h.ATTEMPT, HeaderProblem.MALFORMED)
        return ctx, incoming, target

    # --- one message ----------------------------------------------------------------

    def begin(self, message: Any) -> MessageContext:
        self._bind()
        ctx, incoming, target = self._context(message)
        if self.duplicates is not None:
            self.duplicates.admit(ctx)
        if self._tracing:
            attributes = target.attributes.copy()
            event_id = incoming.event_id
            if event_id is not None:
                attributes[Attr.MESSAGE_ID] = event_id
            if ctx.attempt != 1:
                attributes[Attr.ATTEMPT] = ctx.attempt
            adapter = ctx._adapter
            extra = adapter.attributes(message)
            if extra:
                if event_id is not None and Attr.MESSAGE_ID in extra:
                    attributes[Attr.EVENT_ID] = event_id  # the broker's id is the message's
                attributes.update(extra)
            name = target.span_name
            if adapter.span_destination is not None:  # RabbitMQ: exchange, key and queue
                named = adapter.span_destination(message, self.queue or self.group)
                attributes[Attr.DESTINATION] = named
                name = f"{PROCESS} {named}"
            contrib_span = enclosing(SpanKind.CONSUMER, incoming.span_context)
            if contrib_span is not None:  # a contrib wrapper opened it: one span, ours
                ctx.span = adopt(contrib_span, name, attributes)
            else:
                span = self._tracer.start_span(
                    name, incoming.context, SpanKind.CONSUMER, attributes
                )
                ctx.span = span
                ctx._token = _attach(_in_context(span, incoming.context))
        ctx._meter.started(1)
        ctx._started = _clock()
        return ctx

    def finish(self, ctx: MessageContext, exc: BaseException | None) -> bool:
        """Record the outcome; ``True`` if the handler's exception must propagate."""
        try:
            if exc is None and ctx._outcome is None and not ctx._skip and self.duplicates is None:
                # The common case, a plain "ok", without the general path's calls.
                now = _now()
                since = ctx._since
                latency = None if since is None else max(0.0, now - since)
                ctx._meter.completed(_clock() - ctx._started, None, Outcome.OK, latency, None)
                span = ctx.span
                if span is not INVALID_SPAN:  # metrics only: no span to end
                    span.end()
                return False
            outcome, error_type, propagate = self._complete(
                ctx, _clock() - ctx._started, _now(), exc
            )
            if ctx.span is not INVALID_SPAN:
                _close_span(ctx.span, outcome, error_type, exc)
            return propagate
        except Exception:
            telemetry.swallowed("consumer.finish")
            return exc is not None
        finally:
            if ctx._token is not None:
                _detach(ctx._token)

    def _complete(
        self, ctx: MessageContext, duration: float | None, now: float, exc: BaseException | None
    ) -> tuple[Outcome, str | None, bool]:
        """Decide, record and settle one message's outcome.

        Returns the outcome, its error type, and whether ``exc`` must propagate.
        """
        outcome, reason, error_type = self._outcome(ctx, exc)
        latency = None
        if outcome is Outcome.OK and ctx._since is not None:
            latency = max(0.0, now - ctx._since)
        ctx._meter.completed(duration, error_type, outcome, latency, reason)
        return outcome, error_type, self._settle(ctx, outcome, reason, exc)

    def _outcome(
        self, ctx: MessageContext, exc: BaseException | None
    ) -> tuple[Outcome, str | None, str | None]:
        if ctx._skip and ctx._outcome is None:
            return Outcome.DUPLICATE, None, None
        if ctx._outcome is not None:
            outcome = ctx._outcome
            if (
                outcome is Outcome.RETRY
                and self.max_attempts is not None
                and ctx.attempt >= self.max_attempts
            ):
                outcome = Outcome.DEAD_LETTER  # as for a raised Retry on the last attempt
            return outcome, ctx._reason, outcome.value if outcome in _FAILED else None
        if exc is None:
            return Outcome.OK, None, None
        outcome, reason = outcome_of_failure(exc, ctx.attempt, self.max_attempts)
        return outcome, reason, type(exc).__qualname__

    def _settle(
        self, ctx: MessageContext, outcome: Outcome, reason: str | None, exc: BaseException | None
    ) -> bool:
        """Let the broker act on a retry or dead-letter; whether to re-raise ``exc``."""
        if self.duplicates is not None:
            self.duplicates.settled(ctx, outcome)
        if outcome in _SETTLED_BY_BROKER:
            # Also when the handler said so through ctx without raising.
            settled = ctx._adapter.settle(ctx.message, outcome, reason)
            return exc is not None and not settled
        return exc is not None and outcome is Outcome.ERROR

    # --- a batch ----------------------------------------------------------------------

    def begin_batch(self, messages: Iterable[Any]) -> BatchContext:
        self._bind()
        contexts: list[MessageContext] = []
        links: list[Link] = []
        system = self.system or "unknown"
        for message in messages:
            ctx, incoming, target = self._context(message)
            system = target.system
            contexts.append(ctx)
            if incoming.span_context is not None:
                links.append(Link(incoming.span_context))
        batch = BatchContext(contexts)
        if self._tracing:
            destination = contexts[0].destination if contexts else self.destination or "unknown"
            attributes = _attributes(system, destination, self.group)
            attributes[Attr.BATCH_COUNT] = len(contexts)
            batch.span = self._tracer.start_span(
                f"{PROCESS} {destination}", None, SpanKind.CONSUMER, attributes, links
            )
            batch._token = _attach(_in_context(batch.span))
        for ctx in contexts:
            ctx.span = batch.span
            ctx._meter.started(1)
        batch._started = _clock()
        return batch

    def finish_batch(self, batch: BatchContext, exc: BaseException | None) -> bool:
        """Record every message's outcome and the one process operation."""
        try:
            duration = _clock() - batch._started
            now = _now()
            propagate = False
            worst, worst_error = Outcome.OK, None
            for ctx in batch.messages:
                outcome, error_type, must_raise = self._complete(ctx, None, now, exc)
                propagate = propagate or must_raise
                if outcome is not Outcome.OK and worst is Outcome.OK:
                    worst, worst_error = outcome, error_type
            if batch.messages:
                run_error = type(exc).__qualname__ if exc is not None else None
                batch.messages[0]._meter.processed(duration, run_error)
            if batch.span is not INVALID_SPAN:
                _close_span(batch.span, worst, worst_error, exc)
            return propagate or (exc is not None and not batch.messages)
        except Exception:
            telemetry.swallowed("consumer.finish_batch")
            return exc is not None
        finally:
            if batch._token is not None:
                _detach(batch._token)


def _close_span(
    span: Any, outcome: Outcome, error_type: str | None, exc: BaseException | None
) -> None:
    if outcome is not Outcome.OK and span.is_recording():
        span.set_attribute(Attr.OUTCOME, outcome.value)
        if exc is not None:
            span.record_exception(exc)
        if outcome in _FAILED:
            span.set_attribute(Attr.ERROR_TYPE, error_type or outcome.value)
            span.set_status(Status(StatusCode.ERROR, error_type))
    span.end()


def _message_position(fn: Callable[..., Any]) -> tuple[int, str, str | None]:
    """Where the message is in the handler's parameters, and the ``ctx`` parameter."""
    params = list(inspect.signature(fn).parameters.values())
    index = 1 if params and params[0].name in ("self", "cls") else 0
    if len(params) <= index:
        raise TypeError(f"{fn.__qualname__} must take the message as a parameter")
    ctx_name = None
    context_types = (MessageContext, BatchContext, "MessageContext", "BatchContext")
    for param in params[index + 1 :]:
        if param.name == "ctx" or param.annotation in context_types:
            ctx_name = param.name
    return index, params[index].name, ctx_name


def consumer(
    destination: str | None = None,
    *,
    group: str | None = None,
    system: str | None = None,
    max_attempts: int | None = None,
    batch: bool = False,
    deduplicate: int | DedupStore = 0,
    headers: Callable[[Any], Any] | None = None,
    max_message_age: float = DEFAULT_MAX_AGE,
    clock_skew: float = DEFAULT_CLOCK_SKEW,
    queue: str | None = None,
) -> Callable[[F], F]:
    """Instrument a message handler (sync or async).

    ``destination`` and ``system`` default to what the message says (the in-memory
    bus and the broker adapters know); ``group`` defaults to the handler's name.
    ``max_attempts`` turns unexpected exceptions into ``retry`` outcomes and, on the
    last attempt, ``dead_letter``.  ``batch=True`` handles an iterable of messages
    under one span linked to every producer.  ``deduplicate=N`` skips messages whose
    event id was among the last N finished in this process (outcome ``duplicate``);
    ``deduplicate=store`` (:class:`~eventscope.instrumentation.RedisDedupStore`,
    :class:`~eventscope.instrumentation.PostgresDedupStore`) shares that memory among
    every instance of the group and across restarts.  ``headers``
    extracts the header container from a message type eventscope does not know.
    End-to-end latency is observed only for a publish time at most
    ``max_message_age`` seconds old and ``clock_skew`` seconds ahead (default 7 days
    and 5 minutes); others are counted in ``eventscope.consumer.invalid_headers``.
    ``queue`` is the queue consumed from where the span's destination names it
    (RabbitMQ: ``{exchange}:{routing key}:{queue}``, semconv 1.44); it defaults to the
    group, as eventscope's RabbitMQ integrations name a queue's consumers after it.
    """
    if max_attempts is not None and max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    if batch and deduplicate:
        raise ValueError("deduplicate applies to single-message handlers, not batch=True")
    window = PublishWindow(max_message_age, clock_skew)

    def decorate(fn: F) -> F:
        core = _ConsumerCore(
            destination,
            group or fn.__name__,
            system,
            max_attempts,
            deduplicate,
            headers,
            window,
            queue,
        )
        index, param_name, ctx_name = _message_position(fn)
        wrap = _wrap_batch if batch else _wrap_single
        return functools.wraps(fn)(wrap(fn, core, index, param_name, ctx_name))  # type: ignore[return-value]

    return decorate


def _wrap_single(
    fn: Callable[..., Any], core: _ConsumerCore, index: int, param_name: str, ctx_name: str | None
) -> Callable[..., Any]:
    begin, finish = core.begin, core.finish

    def start(args: tuple, kwargs: dict) -> MessageContext | None:
        message = args[index] if len(args) > index else kwargs[param_name]
        try:
            ctx = begin(message)
        except Exception:
            telemetry.swallowed("consumer.begin")
            ctx = None
        if ctx_name is not None:
            kwargs[ctx_name] = ctx if ctx is not None else MessageContext(message)
        return ctx

    if inspect.iscoroutinefunction(fn):

        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            ctx = start(args, kwargs)
            if ctx is not None and ctx._skip:
                finish(ctx, None)
                return None
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                if ctx is None or finish(ctx, exc):
                    raise
                return None
            if ctx is not None:
                finish(ctx, None)
            return result

        return async_wrapper

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = start(args, kwargs)
        if ctx is not None and ctx._skip:
            finish(ctx, None)
            return None
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            if ctx is None or finish(ctx, exc):
                raise
            return None
        if ctx is not None:
            finish(ctx, None)
        return result

    return wrapper


def _wrap_batch(
    fn: Callable[..., Any], core: _ConsumerCore, index: int, param_name: str, ctx_name: str | None
) -> Callable[..., Any]:
    def start(args: tuple, kwargs: dict) -> tuple[BatchContext | None, tuple]:
        positional = len(args) > index
        messages = args[index] if positional else kwargs[param_name]
        if not isinstance(messages, list | tuple):
            messages = list(messages)  # the handler must see what the span counted
            if positional:
                args = (*args[:index], messages, *args[index + 1 :])
            else:
                kwargs[param_name] = messages
        try:
            batch = core.begin_batch(messages)
        except Exception:
            telemetry.swallowed("consumer.begin_batch")
            batch = None
        if ctx_name is not None:
            kwargs[ctx_name] = batch or BatchContext([MessageContext(m) for m in messages])
        return batch, args

    if inspect.iscoroutinefunction(fn):

        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            batch, args = start(args, kwargs)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                if batch is None or core.finish_batch(batch, exc):
                    raise
                return None
            if batch is not None:
                core.finish_batch(batch, None)
            return result

        return async_wrapper

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        batch, args = start(args, kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            if batch is None or core.finish_batch(batch, exc):
                raise
            return None
        if batch is not None:
            core.finish_batch(batch, None)
        return result

    return wrapper
