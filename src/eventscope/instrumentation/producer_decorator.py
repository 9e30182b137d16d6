"""The ``@producer`` decorator: a PRODUCER span and trace headers on every message.

The decorated function builds and sends a message; it takes the outgoing headers as
a parameter (``headers`` by default).  eventscope fills them — ``traceparent``,
``tracestate``, ``baggage``, an event id and the publish time — inside a ``send``
span, so the function passes them to its client and nothing else changes.  A call
without headers gets a fresh dict; a call with headers (a dict, a Kafka header list,
SQS attributes, ...) has them filled in place.

``system`` is required.  OpenTelemetry's messaging conventions make
``messaging.system`` a required attribute, and it is the ``messaging_system`` label
every dashboard panel and alert filters on: a default such as ``unknown`` would put a
service's messages in a series of their own, silently.  A decorator on a function
cannot see the client the function will use, so it asks at decoration time, where a
missing or misspelt value is an immediate, clear ``TypeError``/``ValueError`` rather
than a wrong label in production.  The client wrappers and instrumentors
(:mod:`eventscope.instrumentation.brokers`) know their client and set it themselves.
"""

from __future__ import annotations

import functools
import inspect
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import INVALID_SPAN, SpanKind, Status, StatusCode

from eventscope.catalog import SYSTEMS, Attr
from eventscope.instrumentation import telemetry
from eventscope.instrumentation.carriers import Carrier, MappingCarrier, carrier_for
from eventscope.instrumentation.contrib import adopt, enclosing
from eventscope.instrumentation.headers import EVENT_ID, PUBLISHED_AT
from eventscope.instrumentation.meters import SEND, ProducerMeter, Source
from eventscope.instrumentation.propagation import (
    inject,
    inject_context,
    new_event_id,
    published_now,
    stamp_event,
    stamp_new_event,
)

F = TypeVar("F", bound=Callable[..., Any])
_clock = time.perf_counter
_get_current = otel_context.get_current
_attach = otel_context.attach
_detach = otel_context.detach
_in_context = trace.set_span_in_context


class _Target:
    """What one (destination, source) shares across its sends, built on first use: the
    bound meter, the span name and the span's constant attributes."""

    __slots__ = ("attributes", "meter", "span_name")

    def __init__(
        self, meter: ProducerMeter, system: str, destination: str, source: Source
    ) -> None:
        self.meter = meter
        self.span_name = f"{SEND} {destination}"
        self.attributes = {
            Attr.SYSTEM: system,
            Attr.DESTINATION: destination,
            Attr.OPERATION_NAME: SEND,
            Attr.OPERATION_TYPE: SEND,
            **dict(source),
        }


# What ``begin`` hands ``finish``: the span, the context token, the meter and the
# start time (a tuple: a send is too short for an object of its own to be free).
_Send = tuple[Any, Any, ProducerMeter, float]


class _ProducerCore:
    def __init__(
        self,
        destination: str | Callable[..., str],
        system: str,
        position: int | None,
        headers_param: str,
        source: Source | Callable[..., Source] = (),
        span_destination: Callable[..., str] | None = None,
    ) -> None:
        self.destination = destination
        self.fixed = isinstance(destination, str)
        self.system = system
        self.position = position
        self.headers_param = headers_param
        self.source = source
        self.span_destination = span_destination
        self._generation = -1
        self._targets: dict[tuple[str, Source], _Target] = {}

    def _target(
        self, current: telemetry.Telemetry, destination: str, source: Source
    ) -> _Target:
        if current.generation != self._generation:
            self._targets = {}
            self._generation = current.generation
        target = self._targets.get((destination, source))
        if target is None:
            meter = current.recorder.producer(self.system, destination, source)
            target = _Target(meter, self.system, destination, source)
            self._targets[(destination, source)] = target
        return target

    def start(self, args: tuple, kwargs: dict) -> tuple[_Send | None, tuple]:
        """Find (or add) the call's headers and begin the send; the arguments to call with."""
        position = self.position
        if position is not None and len(args) > position:
            headers = args[position]
            if headers is None:
                headers = {}
                args = (*args[:position], headers, *args[position + 1 :])
        else:
            headers = kwargs.get(self.headers_param)
            if headers is None:
                headers = kwargs[self.headers_param] = {}
        try:
            return self._begin(headers, args, kwargs), args
        except Exception:
            telemetry.swallowed("producer.begin")
            return None, args

    def _begin(self, headers: Any, args: tuple, kwargs: dict) -> _Send:
        current = telemetry.current()
        destination = self.destination if self.fixed else self.destination(*args, **kwargs)  # type: ignore[operator]
        source = self.source if type(self.source) is tuple else self.source(*args, **kwargs)  # type: ignore[operator]
        target = self._targets.get((destination, source))
        if target is None or current.generation != self._generation:
            target = self._target(current, destination, source)
        # A new header dict (the usual send) has nothing to read or replace.
        fresh = type(headers) is dict and not headers
        carrier: Carrier = MappingCarrier(headers) if fresh else carrier_for(headers)
        existing = None if fresh else carrier.get(EVENT_ID)
        event_id = existing or new_event_id()
        context = _get_current()  # read once: the span's parent, and the baggage to send
        if current.tracing:
            attributes = target.attributes.copy()
            attributes[Attr.MESSAGE_ID] = event_id
            name = target.span_name
            if self.span_destination is not None:  # RabbitMQ: exchange and routing key
                attributes[Attr.DESTINATION] = named = self.span_destination(*args, **kwargs)
                name = f"{SEND} {named}"
            contrib_span = enclosing(SpanKind.PRODUCER) if context else None
            if contrib_span is not None:  # a contrib wrapper opened it: one span, ours
                span, token = adopt(contrib_span, name, attributes), None
                inject(carrier, contrib_span, context)
            else:
                span = current.tracer.start_span(name, context, SpanKind.PRODUCER, attributes)
                token = _attach(_in_context(span, context))
                inject(carrier, span, context)
        else:
            span, token = INVALID_SPAN, None
            inject_context(carrier, context)
        if fresh:  # still only str names of ours in it: plain stores
            headers[EVENT_ID] = event_id
            headers[PUBLISHED_AT] = published_now()
        elif existing is None:
            stamp_new_event(carrier, event_id)
        else:
            stamp_event(carrier)
        return span, token, target.meter, _clock()

    def finish(self, send: _Send, exc: BaseException | None) -> None:
        span, token, meter, started = send
        try:
            error_type = None if exc is None else type(exc).__qualname__
            meter.sent(_clock() - started, error_type)
            if span is not INVALID_SPAN:
                if exc is not None and span.is_recording():
                    span.record_exception(exc)
                    span.set_attribute(Attr.ERROR_TYPE, error_type)
                    span.set_status(Status(StatusCode.ERROR, error_type))
                span.end()
        except Exception:
            telemetry.swallowed("producer.finish")
        finally:
            if token is not None:
                _detach(token)


def _headers_position(fn: Callable[..., Any], name: str) -> int | None:
    params = list(inspect.signature(fn).parameters.values())
    for position, param in enumerate(params):
        if param.name == name:
            if param.kind is inspect.Parameter.KEYWORD_ONLY:
                return None
            return position
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        raise TypeError(
            f"{fn.__qualname__} must accept the outgoing headers as a parameter named {name!r}"
        )
    return None


_SYSTEM_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_KNOWN = ", ".join(s.name for s in SYSTEMS)


def checked_system(system: object, destination: object) -> str:
    """``system`` if it is a ``messaging.system`` value, else the error saying what to pass."""
    where = f"@producer({destination!r})"
    if system is None:
        raise TypeError(
            f"{where} needs system=..., the messaging.system of the broker it sends to "
            f"({_KNOWN}, or another OpenTelemetry name); the conventions require it, and "
            "the client instrumentors in eventscope.instrumentation.brokers set it for you"
        )
    if not isinstance(system, str):
        raise TypeError(f"{where}: system must be a string such as 'kafka', not {system!r}")
    if not _SYSTEM_NAME.fullmatch(system):
        raise ValueError(
            f"{where}: system={system!r} is not a messaging.system value "
            f"(lower case, digits and '_', e.g. {_KNOWN})"
        )
    return system


def producer(
    destination: str | Callable[..., str],
    *,
    system: str | None = None,
    headers_param: str = "headers",
    source: Source | Callable[..., Source] = (),
    span_destination: Callable[..., str] | None = None,
) -> Callable[[F], F]:
    """Instrument a function that publishes one message (sync or async).

    ``destination`` is the topic, queue or subject, or a function of the call's
    arguments that returns it.  ``system`` (required) is the semantic-conventions name
    of the broker (``kafka``, ``rabbitmq``, ``nats``, ``aws_sqs``, ``redis``,
    ``memory``, or another OpenTelemetry ``messaging.system`` value).

    The broker integrations also pass ``source``, the client's connection as attribute
    pairs (``server.address``, ``server.port``, ``messaging.client.id``), or a function
    of the call's arguments giving them (the same tuple per connection), and
    ``span_destination`` where the span names its destination otherwise than the
    metrics (RabbitMQ's ``{exchange}:{routing key}``).
    """
    system = checked_system(system, destination)

    def decorate(fn: F) -> F:
        core = _ProducerCore(
            destination,
            system,
            _headers_position(fn, headers_param),
            headers_param,
            source,
            span_destination,
        )
        start = core.start

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                send, args = start(args, kwargs)
                try:
                    result = await fn(*args, **kwargs)
                except BaseException as exc:
                    if send is not None:
                        core.finish(send, exc)
                    raise
                if send is not None:
                    core.finish(send, None)
                return result

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            send, args = start(args, kwargs)
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                if send is not None:
                    core.finish(send, exc)
                raise
            if send is not None:
                core.finish(send, None)
            return result

        return wrapper  # type: ignore[return-value]

    return decorate
