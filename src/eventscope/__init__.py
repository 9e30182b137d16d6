"""eventscope: see every message, stop breaking each other, be told when it hurts.

The everyday surface is here: ``configure``, the ``producer`` and ``consumer``
decorators, the outcome signals and the in-memory bus.  Each area has its own
sub-package (``instrumentation``, ``schemas``, ``contracts``, ``dashboards``,
``alerts``) with the rest of its public API.
"""

from eventscope._version import __version__
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
