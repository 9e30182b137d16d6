"""``configure()`` when the environment asks for OTLP and the ``otlp`` extra is missing.

A deployment that sets ``OTEL_EXPORTER_OTLP_ENDPOINT`` for every service must not stop
a service that was installed without the exporter: it starts, serves Prometheus, and
says once why nothing reaches the collector.  Asking for OTLP in code (``otlp=True``)
still fails at the call.  Each case runs in a fresh interpreter where the exporter
package cannot be imported, as in a venv without the extra.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

_RUN = textwrap.dedent(
    """
    import importlib.abc, logging, sys

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.startswith("opentelemetry.exporter"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
    from prometheus_client import CollectorRegistry, generate_latest
    from eventscope.instrumentation import configure
    from eventscope.errors import UsageError

    try:
        configuration = configure("payments", registry=CollectorRegistry(), **eval(sys.argv[1]))
    except UsageError as exc:
        print("UsageError:", exc)
        sys.exit(2)
    print("started; meter provider:", configuration.meter_provider)
    configuration.shutdown()
    """
)


def _configure(arguments: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}
    return subprocess.run(
        [sys.executable, "-c", _RUN, arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_an_endpoint_in_the_environment_without_the_extra_starts_and_warns() -> None:
    done = _configure("{}")
    assert done.returncode == 0, done.stderr
    assert "started; meter provider: None" in done.stdout
    warnings = [line for line in done.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 2  # traces and metrics, once each
    assert all("pip install 'eventscope[otlp]'" in line for line in warnings)


def test_otlp_asked_for_in_code_without_the_extra_fails_at_the_call() -> None:
    done = _configure("{'otlp': True}")
    assert done.returncode == 2
    assert "pip install 'eventscope[otlp]'" in done.stdout
