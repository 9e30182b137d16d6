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
from eventscope.instrumentation.carriers import carrier_for
from eventscope.instrumentation.contrib import adopt, enclosing
from eventscope.instrumentation.headers import EVENT_ID
from eventscope.instrumentation.meters import SEND, ProducerMeter, Source
from eventscope.instrumentation.propagation import inject, new_event_id, stamp_event

F = TypeVar("F", bound=Callable[..., Any])
_clock = time.perf_counter


class _Send:
    __slots__ = ("meter", "span", "started", "token")

    def __init__(self, span: Any, token: Any, meter: ProducerMeter) -> None:
        self.span = span
        self.token = token
        self.meter = meter
        self.started = _clock()


class _Target:
    """What one (destination, source) shares across its sends: the bound meter, the
    span name and the span's constant attributes."""

    __slots__ = ("attributes", "meter", "span_name")

    def __init__(self, meter: ProducerMeter, system: str, destination: str, source: Source):
        self.meter = meter
        self.span_name = f"{SEND} {destination}"
        self.attributes = {
            Attr.SYSTEM: system,
            Attr.DESTINATION: destination,
            Attr.OPERATION_NAME: SEND,
            Attr.OPERATION_TYPE: SEND,
            **dict(source),
        }


class _ProducerCore:
    def __init__(
        self,
        destination: str | Callable[..., str],
        system: str,
        source: Source | Callable[..., Source] = (),
        span_destination: Callable[..., str] | None = None,
    ) -> None:
        self.destination = destination
        self.system = system
        self.source = source
        self.span_destination = span_destination
        self._generation = -1
        self._targets: dict[tuple[str, Source], _Target] = {}

    def _bind(self) -> telemetry.Telemetry:
        current = telemetry.current()
        if current.generation != self._generation:
            self._targets = {}
            self._generation = current.generation
        return current

    def begin(self, headers: Any, args: tuple, kwargs: dict) -> _Send:
        current = self._bind()
        destination = (
            self.destination
            if isinstance(self.destination, str)
            else self.destination(*args, **kwargs)
        )
        source = self.source if type(self.source) is tuple else self.source(*args, **kwargs)
        target = self._targets.get((destination, source))
        if target is None:
            meter = current.recorder.producer(self.system, destination, source)
            target = _Target(meter, self.system, destination, source)
            self._targets[(destination, source)] = target
        carrier = carrier_for(headers)
        event_id = carrier.get(EVENT_ID) or new_event_id()
        span, token = INVALID_SPAN, None
        if current.tracing:
            attributes = target.attributes.copy()
            attributes[Attr.MESSAGE_ID] = event_id
            name = target.span_name
            if self.span_destination is not None:  # RabbitMQ: exchange and routing key
                attributes[Attr.DESTINATION] = named = self.span_destination(*args, **kwargs)
                name = f"{SEND} {named}"
            contrib_span = enclosing(SpanKind.PRODUCER)
            if contrib_span is not None:  # a contrib wrapper opened it: one span, ours
                span = adopt(contrib_span, name, attributes)
                inject(carrier, contrib_span)
            else:
                span = current.tracer.start_span(
                    name, kind=SpanKind.PRODUCER, attributes=attributes
                )
                token = otel_context.attach(trace.set_span_in_context(span))
                inject(carrier, span)
        else:
            inject(carrier, trace.get_current_span())
        stamp_event(carrier, event_id)
        return _Send(span, token, target.meter)

    def finish(self, send: _Send, exc: BaseException | None) -> None:
        try:
            error_type = None if exc is None else type(exc).__qualname__
            send.meter.sent(_clock() - send.started, error_type)
            span = send.span
            if exc is not None and span.is_recording():
                span.record_exception(exc)
                span.set_attribute(Attr.ERROR_TYPE, error_type)
                span.set_status(Status(StatusCode.ERROR, error_type))
            span.end()
        except Exception:
            telemetry.swallowed("producer.finish")
        finally:
            if send.token is not None:
                otel_context.detach(send.token)


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
        core = _ProducerCore(destination, system, source, span_destination)
        position = _headers_position(fn, headers_param)

        def start(args: tuple, kwargs: dict) -> tuple[_Send | None, tuple]:
            if position is not None and len(args) > position:
                headers = args[position]
                if headers is None:
                    headers = {}
                    args = (*args[:position], headers, *args[position + 1 :])
            else:
                headers = kwargs.get(headers_param)
                if headers is None:
                    headers = kwargs[headers_param] = {}
            try:
                return core.begin(headers, args, kwargs), args
            except Exception:
                telemetry.swallowed("producer.begin")
                return None, args

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
