"""eventscope: see every message, stop breaking each other, be told when it hurts.

The everyday surface is here: ``configure``, the ``producer`` and ``consumer``
decorators, the outcome signals and the in-memory bus.  Each area has its own
sub-package (``instrumentation``, ``lag``, ``schemas``, ``registry``, ``contracts``,
``dashboards``, ``alerts``) with the rest of its public API.

The names below are resolved on first use (PEP 562), not when the package is imported:
pytest imports ``eventscope.pytest_plugin`` in every run of every project that installs
eventscope, and a submodule import runs this file first, so it must cost nothing.
``from eventscope import consumer`` works as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventscope._lazy import lazy_names
from eventscope._version import __version__

if TYPE_CHECKING:
    from eventscope.catalog import Outcome
    from eventscope.instrumentation import (
        BatchContext,
        Configuration,
        DeadLetter,
        MessageContext,
        Retry,
        configure,
        consumer,
        metrics_asgi_app,
        metrics_wsgi_app,
        producer,
    )
    from eventscope.memory_bus import InMemoryBus, Message

_HOMES = {
    "BatchContext": "eventscope.instrumentation",
    "Configuration": "eventscope.instrumentation",
    "DeadLetter": "eventscope.instrumentation",
    "InMemoryBus": "eventscope.memory_bus",
    "Message": "eventscope.memory_bus",
    "MessageContext": "eventscope.instrumentation",
    "Outcome": "eventscope.catalog",
    "Retry": "eventscope.instrumentation",
    "configure": "eventscope.instrumentation",
    "consumer": "eventscope.instrumentation",
    "metrics_asgi_app": "eventscope.instrumentation",
    "metrics_wsgi_app": "eventscope.instrumentation",
    "producer": "eventscope.instrumentation",
}

__all__ = [
    "BatchContext",
    "Configuration",
    "DeadLetter",
    "InMemoryBus",
    "Message",
    "MessageContext",
    "Outcome",
    "Retry",
    "__version__",
    "configure",
    "consumer",
    "metrics_asgi_app",
    "metrics_wsgi_app",
    "producer",
]

__getattr__ = lazy_names(__name__, _HOMES)


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
