"""Importing eventscope and using its decorators loads neither the SDK nor prometheus-client.

OpenTelemetry's rule for instrumentation libraries: only ``configure()`` may pull in
the SDK.  Each check runs in a fresh interpreter, since this test session has
already imported everything.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

HEAVY = ("opentelemetry.sdk", "prometheus_client", "http.server")


def _loaded_after(code: str) -> list[str]:
    script = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import sys
        print(",".join(m for m in {HEAVY!r} if m in sys.modules))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return [m for m in result.stdout.strip().split(",") if m]


def test_import_eventscope_is_light() -> None:
    assert _loaded_after("import eventscope, eventscope.lag") == []


def test_decorators_without_configure_are_light() -> None:
    code = """
        from eventscope import InMemoryBus, consumer, producer

        bus = InMemoryBus()
        bus.subscribe("orders", "billing", consumer(group="billing")(lambda message: None))

        @producer("orders", system="memory")
        def publish(payload, headers=None):
            bus.publish("orders", payload, headers=headers)

        @producer("orders", system="kafka")
        def raw(payload, headers=None):
            return headers

        publish({"id": 1}, headers={})
        raw({"id": 2}, headers=[])
    """
    assert _loaded_after(code) == []


def test_configure_loads_what_it_needs() -> None:
    code = """
        from prometheus_client import CollectorRegistry
        import eventscope

        eventscope.configure("svc", registry=CollectorRegistry(), otlp=False)
    """
    assert set(_loaded_after(code)) >= {"opentelemetry.sdk", "prometheus_client"}
