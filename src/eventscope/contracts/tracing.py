"""Run producers during verification with tracing on, as they run in production.

``@producer`` writes ``traceparent`` from the span it opens; with no OpenTelemetry SDK
installed (the usual state of a test session) that span is a no-op, so the header is
never written and every contract that asks for it would fail for a reason production
does not have.  During verification eventscope therefore installs an SDK tracer that
records nothing and exports nothing, unless an SDK tracer is already in use, and puts
the previous telemetry back afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from opentelemetry import trace

from eventscope.instrumentation import telemetry


@contextlib.contextmanager
def producer_tracing() -> Iterator[None]:
    from opentelemetry.sdk.trace import Tracer, TracerProvider

    before = telemetry.current()
    tracer = before.tracer
    if isinstance(tracer, trace.ProxyTracer):
        tracer = trace.get_tracer_provider().get_tracer(telemetry.INSTRUMENTATION_NAME)
    if before.tracing and isinstance(tracer, Tracer):
        yield
        return
    provider = TracerProvider()
    telemetry.install(provider.get_tracer(telemetry.INSTRUMENTATION_NAME), before.recorder)
    try:
        yield
    finally:
        telemetry.install(before.tracer, before.recorder, tracing=before.tracing)
        provider.shutdown()
