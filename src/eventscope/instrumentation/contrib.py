"""Sharing a process with OpenTelemetry's contrib instrumentations: one span per side.

Teams migrate service by service and library by library, so a process may run
``opentelemetry-instrumentation-pika`` (or aio-pika's, or confluent-kafka's) and
eventscope on the same client.  Left alone, each publish would make two or three
PRODUCER spans and each delivery two sibling CONSUMER spans, and both would inject
their own ``traceparent``.  eventscope's span wins, because it carries what the
contrib's does not (semconv 1.44 names and attributes, outcome, attempt) and is the one
its metrics and dashboards describe; the contrib's is never a second span:

- **Suppressed** where eventscope runs first.  eventscope calls the client inside its
  own span with OpenTelemetry's suppression key set (:func:`suppressed`), which the pika
  and aio-pika instrumentations honour (``is_instrumentation_enabled()``), so they add
  no span and inject nothing.  confluent-kafka's does not check the key; it works by
  subclassing the client, so eventscope calls the client through the first class after
  the contrib's subclasses (:class:`NativeView`).
- **Adopted** where the contrib runs first: its consumer callback wrappers open their
  span before eventscope sees the message, and cannot be told not to (pika's ends the
  span it was given even when it got none).  eventscope then takes that span over
  (:func:`adopt`): renames it ``process <destination>``, sets its own attributes on it,
  records its outcome, and leaves ending it to the contrib.  The contrib's legacy
  attributes (``messaging.operation``, ``messaging.destination``, ``net.peer.*``) stay
  beside them, since a span's attributes cannot be removed.

Metrics are eventscope's alone either way: the contrib packages for these clients
record none, and an adopted span changes nothing in what eventscope counts.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY
from opentelemetry.trace import INVALID_SPAN, SpanContext, SpanKind

CONTRIB_PREFIX = "opentelemetry.instrumentation."
"""The module (and tracer) names of OpenTelemetry's contrib instrumentations."""

_get_current_span = trace.get_current_span
_get_current = otel_context.get_current


def suppressed(call: Any, *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)`` with instrumentations told to stay out of it."""
    token = otel_context.attach(otel_context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
    try:
        return call(*args, **kwargs)
    finally:
        otel_context.detach(token)


async def suppressed_async(call: Any, *args: Any, **kwargs: Any) -> Any:
    """:func:`suppressed` for a coroutine function."""
    token = otel_context.attach(otel_context.set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))
    try:
        return await call(*args, **kwargs)
    finally:
        otel_context.detach(token)


def enclosing(kind: SpanKind, incoming: SpanContext | None = None) -> Any:
    """The contrib span of ``kind`` this code runs in, or ``None``.

    With ``incoming`` (the span context a delivery's headers carry) the contrib span
    must be about that message: its parent or one of its links is ``incoming``.  The
    usual case, an empty context, costs one context lookup.
    """
    current = _get_current()
    if not current:  # nothing in the context: no span, no check
        return None
    span = _get_current_span(current)
    if span is INVALID_SPAN or getattr(span, "kind", None) is not kind:
        return None
    scope = getattr(span, "instrumentation_scope", None)
    if scope is None or not scope.name.startswith(CONTRIB_PREFIX) or not span.is_recording():
        return None
    if incoming is not None and not _about(span, incoming):
        return None
    return span


def _about(span: Any, incoming: SpanContext) -> bool:
    parent = getattr(span, "parent", None)
    if parent is not None and parent.span_id == incoming.span_id:
        return True
    return any(link.context.span_id == incoming.span_id for link in getattr(span, "links", ()))


class Adopted:
    """eventscope's handle on a contrib span it took over: everything but ``end()``,
    which stays the contrib's (it ends the span when its own wrapper exits)."""

    __slots__ = ("span",)

    def __init__(self, span: Any) -> None:
        self.span = span

    def end(self, end_time: int | None = None) -> None:
        """The contrib ends the span."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.span, name)


def adopt(span: Any, name: str, attributes: dict[str, Any]) -> Adopted:
    """Make the contrib's ``span`` eventscope's: its name and attributes."""
    span.update_name(name)
    span.set_attributes(attributes)
    return Adopted(span)


def wrap_inside(callback: Any, wrap: Any) -> Any:
    """``wrap(callback)``, but inside a contrib consumer wrapper ``callback`` may be.

    When eventscope's instrumentor is installed before the contrib's, the contrib
    decorates the application's callback first and eventscope's wrapper would end up
    outside it, with the contrib's span a sibling of eventscope's.  aio-pika's contrib
    wrapper is a closure over the application's ``callback`` and its ``CallbackDecorator``
    (``self``): the wrapper is made again around eventscope's, so the contrib's span opens
    first and is adopted.  Any other shape is wrapped as it is.
    """
    code = getattr(callback, "__code__", None)
    if code is None or not getattr(callback, "__module__", "").startswith(CONTRIB_PREFIX):
        return wrap(callback)
    cells = dict(zip(code.co_freevars, callback.__closure__ or (), strict=True))
    inner, decorator = cells.get("callback"), cells.get("self")
    if inner is None or decorator is None or not hasattr(decorator.cell_contents, "decorate"):
        return wrap(callback)
    return decorator.cell_contents.decorate(wrap(inner.cell_contents))


def contrib_class(cls: type) -> type | None:
    """The last contrib subclass in ``cls``'s method resolution order, if any."""
    found = None
    for base in cls.__mro__:
        if base.__module__.startswith(CONTRIB_PREFIX):
            found = base
    return found


class NativeView:
    """A client seen through the methods of the class after ``cls`` in its MRO, and
    after any contrib subclass: the client library's own methods, not a wrapper's."""

    __slots__ = ("_view",)

    def __init__(self, client: Any, cls: type | None = None) -> None:
        skip = cls
        wrapper = contrib_class(type(client))
        mro = type(client).__mro__
        if wrapper is not None and (skip is None or mro.index(wrapper) > mro.index(skip)):
            skip = wrapper
        self._view = super(skip, client) if skip is not None else client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._view, name)

    def __len__(self) -> int:
        return self._view.__len__()


def native(client: Any) -> Any:
    """``client`` itself, or its :class:`NativeView` when a contrib subclass wraps it."""
    return client if contrib_class(type(client)) is None else NativeView(client)
