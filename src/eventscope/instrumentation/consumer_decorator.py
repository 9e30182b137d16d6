"""The ``@consumer`` decorator: one CONSUMER span, metrics and an outcome per message.

For each message it extracts the producer's trace context, event id and publish time
from the headers, opens a ``process`` span (a child of the producer's span, or for a
batch, linked to every producer span), hands the handler a :class:`MessageContext`
if it asks for one, and afterwards records processing duration, end-to-end latency
and the outcome.  Whatever goes wrong inside eventscope is logged once and
swallowed: the handler runs, and its own exceptions are never replaced.
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

from eventscope.catalog import Attr, Outcome
from eventscope.instrumentation import headers as h
from eventscope.instrumentation import telemetry
from eventscope.instrumentation.carriers import carrier_for
from eventscope.instrumentation.context import BatchContext, MessageContext
from eventscope.instrumentation.messages import MessageAdapter, adapter_for
from eventscope.instrumentation.meters import PROCESS, ConsumerMeter
from eventscope.instrumentation.outcomes import outcome_of_failure
from eventscope.instrumentation.propagation import extract

F = TypeVar("F", bound=Callable[..., Any])
_SETTLED_BY_BROKER = (Outcome.RETRY, Outcome.DEAD_LETTER)
_FAILED = frozenset({Outcome.ERROR, Outcome.RETRY, Outcome.DEAD_LETTER})
_now = time.time
_clock = time.perf_counter


class _Delivery:
    """One message on its way through the handler."""

    __slots__ = ("adapter", "ctx", "message", "meter", "skip", "system")

    def __init__(
        self,
        message: Any,
        adapter: MessageAdapter,
        ctx: MessageContext,
        meter: ConsumerMeter,
        system: str,
        skip: bool,
    ) -> None:
        self.message = message
        self.adapter = adapter
        self.ctx = ctx
        self.meter = meter
        self.system = system
        self.skip = skip


class _Run:
    """One handler call: a message, or a batch of them, under one span."""

    __slots__ = ("deliveries", "single", "span", "started", "token")

    def __init__(self, deliveries: list[_Delivery], span: Any, token: Any, single: bool) -> None:
        self.deliveries = deliveries
        self.single = single
        self.span = span
        self.token = token
        self.started = _clock()


class _DuplicateFilter:
    """Remembers the last ``size`` event ids that finished, to skip redeliveries."""

    __slots__ = ("_seen", "_size")

    def __init__(self, size: int) -> None:
        self._size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, event_id: str | None) -> bool:
        return event_id is not None and event_id in self._seen

    def remember(self, event_id: str | None) -> None:
        if event_id is None:
            return
        self._seen[event_id] = None
        self._seen.move_to_end(event_id)
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)


class _ConsumerCore:
    """Everything the wrapper does around the handler call, kept out of its frame."""

    def __init__(
        self,
        destination: str | None,
        group: str,
        system: str | None,
        max_attempts: int | None,
        deduplicate: int,
        headers: Callable[[Any], Any] | None,
    ) -> None:
        self.destination = destination
        self.group = group
        self.system = system
        self.max_attempts = max_attempts
        self.headers = headers
        self.duplicates = _DuplicateFilter(deduplicate) if deduplicate else None
        self._generation = -1
        self._tracer: trace.Tracer | None = None
        self._tracing = True
        self._meters: dict[tuple[str, str], ConsumerMeter] = {}

    def _bind(self) -> None:
        current = telemetry.current()
        if current.generation != self._generation:
            self._tracer = current.tracer
            self._tracing = current.tracing
            self._recorder = current.recorder
            self._meters = {}
            self._generation = current.generation

    def _meter(self, system: str, destination: str) -> ConsumerMeter:
        meter = self._meters.get((system, destination))
        if meter is None:
            meter = self._recorder.consumer(system, destination, self.group)
            self._meters[(system, destination)] = meter
        return meter

    def _delivery(self, message: Any, span: Any) -> tuple[_Delivery, Any]:
        adapter = adapter_for(message)
        raw = self.headers(message) if self.headers else adapter.headers(message)
        carrier = carrier_for(raw)
        incoming = extract(carrier)
        system = self.system or adapter.system or "unknown"
        destination = self.destination or adapter.destination(message) or "unknown"
        attempt = adapter.attempt(message) or _attempt_header(carrier.get(h.ATTEMPT))
        ctx = MessageContext(
            message,
            raw,
            incoming.event_id,
            attempt,
            incoming.published_at,
            destination,
            self.group,
            span,
        )
        skip = self.duplicates is not None and incoming.event_id in self.duplicates
        meter = self._meter(system, destination)
        return _Delivery(message, adapter, ctx, meter, system, skip), incoming

    def begin(self, message: Any) -> _Run:
        self._bind()
        delivery, incoming = self._delivery(message, INVALID_SPAN)
        ctx = delivery.ctx
        span = INVALID_SPAN
        token = None
        if self._tracing:
            attributes = {
                Attr.SYSTEM: delivery.system,
                Attr.DESTINATION: ctx.destination,
                Attr.CONSUMER_GROUP: self.group,
                Attr.OPERATION_NAME: PROCESS,
                Attr.OPERATION_TYPE: PROCESS,
                Attr.ATTEMPT: ctx.attempt,
            }
            if ctx.event_id is not None:
                attributes[Attr.MESSAGE_ID] = ctx.event_id
            extra = delivery.adapter.attributes(message)
            if extra:
                attributes.update(extra)
            span = self._tracer.start_span(  # type: ignore[union-attr]
                f"{PROCESS} {ctx.destination}", incoming.context, SpanKind.CONSUMER, attributes
            )
            ctx.span = span
            token = otel_context.attach(trace.set_span_in_context(span, incoming.context))
        delivery.meter.started(1)
        return _Run([delivery], span, token, True)

    def begin_batch(self, messages: Iterable[Any]) -> _Run:
        self._bind()
        deliveries: list[_Delivery] = []
        links: list[Link] = []
        for message in messages:
            delivery, incoming = self._delivery(message, INVALID_SPAN)
            deliveries.append(delivery)
            if incoming.span_context is not None:
                links.append(Link(incoming.span_context))
        span = INVALID_SPAN
        token = None
        if self._tracing:
            first = deliveries[0] if deliveries else None
            destination = first.ctx.destination if first else self.destination or "unknown"
            attributes = {
                Attr.SYSTEM: first.system if first else self.system or "unknown",
                Attr.DESTINATION: destination,
                Attr.CONSUMER_GROUP: self.group,
                Attr.OPERATION_NAME: PROCESS,
                Attr.OPERATION_TYPE: PROCESS,
                Attr.BATCH_COUNT: len(deliveries),
            }
            span = self._tracer.start_span(  # type: ignore[union-attr]
                f"{PROCESS} {destination}", None, SpanKind.CONSUMER, attributes, links
            )
            token = otel_context.attach(trace.set_span_in_context(span))
        for delivery in deliveries:
            delivery.ctx.span = span
            delivery.meter.started(1)
        return _Run(deliveries, span, token, False)

    def finish(self, run: _Run, exc: BaseException | None) -> bool:
        """Record the run's outcome; ``True`` if the handler's exception must propagate."""
        try:
            return self._finish(run, exc)
        except Exception:
            telemetry.swallowed("consumer.finish")
            return exc is not None
        finally:
            if run.token is not None:
                otel_context.detach(run.token)

    def _finish(self, run: _Run, exc: BaseException | None) -> bool:
        duration = _clock() - run.started
        now = _now()
        span = run.span
        propagate = False
        span_outcome = Outcome.OK
        error_type = None
        batch = not run.single
        for delivery in run.deliveries:
            ctx = delivery.ctx
            if delivery.skip:
                outcome, reason, err = Outcome.DUPLICATE, None, None
            elif ctx.outcome is not None:
                outcome, reason, err = ctx.outcome, ctx.reason, _outcome_error(ctx.outcome)
            elif exc is not None:
                outcome, reason = outcome_of_failure(exc, ctx.attempt, self.max_attempts)
                err = type(exc).__qualname__
            else:
                outcome, reason, err = Outcome.OK, None, None
            latency = None
            if outcome is Outcome.OK and ctx.published_at is not None:
                latency = max(0.0, now - ctx.published_at)
            meter = delivery.meter
            meter.finished(1, None if batch else duration, err)
            meter.outcome(outcome, latency, reason)
            if outcome in _SETTLED_BY_BROKER:
                settled = delivery.adapter.settle(delivery.message, outcome, reason)
                if exc is not None and not settled:
                    propagate = True
            elif outcome is Outcome.ERROR and exc is not None:
                propagate = True
            if self.duplicates is not None and outcome in (Outcome.OK, Outcome.DEAD_LETTER):
                self.duplicates.remember(ctx.event_id)
            if outcome is not Outcome.OK and span_outcome is Outcome.OK:
                span_outcome, error_type = outcome, err
        if batch and run.deliveries:
            # One process operation, however many messages it handled.
            run_error = type(exc).__qualname__ if exc is not None else None
            run.deliveries[0].meter.finished(0, duration, run_error)
        if span.is_recording():
            span.set_attribute(Attr.OUTCOME, span_outcome.value)
            if exc is not None:
                span.record_exception(exc)
            if span_outcome in _FAILED:
                span.set_attribute(Attr.ERROR_TYPE, error_type or span_outcome.value)
                span.set_status(Status(StatusCode.ERROR, error_type))
        span.end()
        return propagate

    def fallback_context(self, message: Any) -> MessageContext:
        """A context for the handler when eventscope itself failed to build one."""
        return MessageContext(
            message, None, None, 1, None, self.destination or "unknown", self.group, INVALID_SPAN
        )


def _outcome_error(outcome: Outcome) -> str | None:
    return outcome.value if outcome in _FAILED else None


def _attempt_header(value: str | None) -> int:
    if value is not None and value.isdigit() and len(value) < 7:
        return max(1, int(value))
    return 1


def _message_position(fn: Callable[..., Any]) -> tuple[int, str, str | None]:
    """Where the message is in the handler's parameters, and the ``ctx`` parameter."""
    params = list(inspect.signature(fn).parameters.values())
    index = 1 if params and params[0].name in ("self", "cls") else 0
    if len(params) <= index:
        raise TypeError(f"{fn.__qualname__} must take the message as a parameter")
    ctx_name = None
    for param in params[index + 1 :]:
        if param.name == "ctx" or param.annotation in (
            MessageContext,
            BatchContext,
            "MessageContext",
            "BatchContext",
        ):
            ctx_name = param.name
    return index, params[index].name, ctx_name


def consumer(
    destination: str | None = None,
    *,
    group: str | None = None,
    system: str | None = None,
    max_attempts: int | None = None,
    batch: bool = False,
    deduplicate: int = 0,
    headers: Callable[[Any], Any] | None = None,
) -> Callable[[F], F]:
    """Instrument a message handler (sync or async).

    ``destination`` and ``system`` default to what the message says (the in-memory
    bus and the broker adapters know); ``group`` defaults to the handler's name.
    ``max_attempts`` turns unexpected exceptions into ``retry`` outcomes and, on the
    last attempt, ``dead_letter``.  ``batch=True`` handles an iterable of messages
    under one span linked to every producer.  ``deduplicate=N`` skips messages whose
    event id was among the last N finished (outcome ``duplicate``).  ``headers``
    extracts the header container from a message type eventscope does not know.
    """
    if max_attempts is not None and max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    if batch and deduplicate:
        raise ValueError("deduplicate applies to single-message handlers, not batch=True")

    def decorate(fn: F) -> F:
        core = _ConsumerCore(
            destination, group or fn.__name__, system, max_attempts, deduplicate, headers
        )
        index, param_name, ctx_name = _message_position(fn)
        begin = core.begin_batch if batch else core.begin

        def start(args: tuple, kwargs: dict) -> tuple[_Run | None, tuple]:
            positional = len(args) > index
            message = args[index] if positional else kwargs[param_name]
            if batch and not isinstance(message, list | tuple):
                message = list(message)  # the handler must see what the span counted
                if positional:
                    args = (*args[:index], message, *args[index + 1 :])
                else:
                    kwargs[param_name] = message
            try:
                run = begin(message)
            except Exception:
                telemetry.swallowed("consumer.begin")
                run = None
            if ctx_name is not None:
                kwargs[ctx_name] = _context_for(run, message)
            return run, args

        def _context_for(run: _Run | None, message: Any) -> Any:
            if run is None:
                fallback = core.fallback_context
                return (
                    BatchContext([fallback(m) for m in message], INVALID_SPAN)
                    if batch
                    else fallback(message)
                )
            if batch:
                return BatchContext([d.ctx for d in run.deliveries], run.span)
            return run.deliveries[0].ctx

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                run, args = start(args, kwargs)
                if run is not None and not batch and run.deliveries[0].skip:
                    core.finish(run, None)
                    return None
                try:
                    result = await fn(*args, **kwargs)
                except BaseException as exc:
                    if run is None or core.finish(run, exc):
                        raise
                    return None
                if run is not None:
                    core.finish(run, None)
                return result

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            run, args = start(args, kwargs)
            if run is not None and not batch and run.deliveries[0].skip:
                core.finish(run, None)
                return None
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                if run is None or core.finish(run, exc):
                    raise
                return None
            if run is not None:
                core.finish(run, None)
            return result

        return wrapper  # type: ignore[return-value]

    return decorate
