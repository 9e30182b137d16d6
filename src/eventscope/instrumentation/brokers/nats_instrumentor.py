"""Instrument nats-py once for the whole process, and take it back.

The one-call counterpart of :func:`eventscope.instrumentation.brokers.nats.instrument`::

    from eventscope.instrumentation.brokers.nats_instrumentor import NatsInstrumentor

    NatsInstrumentor().instrument(max_attempts=3, retry_delay=1.0)
    nc = await nats.connect(url)
    await nc.jetstream().publish("orders", body)              # PRODUCER span
    await nc.jetstream().subscribe("orders", durable="billing", cb=on_order)  # settled
    ...
    NatsInstrumentor().uninstrument()

``instrument()`` replaces ``publish`` and ``subscribe`` on nats-py's ``Client`` and
``JetStreamContext`` classes, so every connection of the process (nats-py's own objects,
made before or after) publishes trace headers, and every subscription callback runs
under ``@nats.consumer`` with the given options (group: the durable consumer, else the
queue group, else the subject).  Publishes to system subjects (``$JS...``: acks, API
calls) and to the connection's reply inboxes are left alone — they are protocol, not
messages, and one label per inbox would flood the metrics.  Pull subscriptions call no
callback: decorate their handler with ``nats.consumer(...)``.  A connection or callback
also instrumented by hand is traced once.
"""

from __future__ import annotations

import functools
import threading
from contextvars import ContextVar
from typing import Any

from nats.aio.client import Client
from nats.js.client import JetStreamContext

from eventscope.instrumentation.brokers import nats as wrappers
from eventscope.instrumentation.brokers.patching import ClassPatches, OriginalMethods

_subscribing: ContextVar[bool] = ContextVar("eventscope_nats_subscribing", default=False)
"""Set while an instrumented ``subscribe`` runs: a JetStream subscription registers
through the connection's own, whose callback must not be wrapped a second time."""


def _protocol(client: Any, subject: str) -> bool:
    """Whether ``subject`` is protocol traffic rather than an application message."""
    inbox = getattr(client, "_inbox_prefix", None)  # nats-py keeps it as a bytearray
    if isinstance(inbox, bytes | bytearray):
        inbox = bytes(inbox).decode("ascii", "replace")
    if not isinstance(inbox, str) or not inbox:
        inbox = "_INBOX"
    return not isinstance(subject, str) or subject.startswith(("$", inbox + "."))


def _traced_publish(publish: Any, jetstream: bool) -> Any:
    @functools.wraps(publish)
    async def traced(target: Any, subject: str, payload: bytes = b"", *args: Any, **kw: Any):
        client = target._nc if jetstream else target
        if wrappers.publishing() or _protocol(client, subject):
            return await publish(target, subject, payload, *args, **kw)
        original = OriginalMethods(target, {"publish": publish})
        if jetstream:
            return await wrappers.InstrumentedJetStream(original).publish(
                subject, payload, *args, **kw
            )
        return await wrappers.InstrumentedClient(original).publish(subject, payload, *args, **kw)

    return traced


def _traced_subscribe(subscribe: Any, options: dict[str, Any], jetstream: bool) -> Any:
    @functools.wraps(subscribe)
    async def traced(target: Any, subject: str, *args: Any, **kw: Any) -> Any:
        if _subscribing.get():
            return await subscribe(target, subject, *args, **kw)
        callback = kw.get("cb")
        if callback is not None and not wrappers.is_instrumented(callback):
            group = (kw.get("durable") if jetstream else None) or kw.get("queue") or subject
            kw["cb"] = wrappers.consumer(group, **options)(callback)
        token = _subscribing.set(True)
        try:
            return await subscribe(target, subject, *args, **kw)
        finally:
            _subscribing.reset(token)

    return traced


class NatsInstrumentor:
    """``instrument()`` / ``uninstrument()`` for every nats-py connection; one
    process-wide state whichever instance is used, and ``instrument()`` twice is
    harmless."""

    _lock = threading.Lock()
    _patches: ClassPatches | None = None

    @property
    def is_instrumented(self) -> bool:
        return NatsInstrumentor._patches is not None

    def instrument(
        self,
        *,
        max_attempts: int | None = None,
        deduplicate: int = 0,
        retry_delay: float | None = None,
    ) -> None:
        """Trace every publish and subscription callback of the process from now on;
        the options are :func:`~eventscope.instrumentation.brokers.nats.consumer`'s."""
        options = {
            "max_attempts": max_attempts,
            "deduplicate": deduplicate,
            "retry_delay": retry_delay,
        }
        with self._lock:
            if NatsInstrumentor._patches is not None:
                return
            patches = ClassPatches()
            for cls in (Client, JetStreamContext):
                jetstream = cls is JetStreamContext
                patches.replace(cls, "publish", _traced_publish(cls.publish, jetstream))
                patches.replace(
                    cls, "subscribe", _traced_subscribe(cls.subscribe, options, jetstream)
                )
            NatsInstrumentor._patches = patches

    def uninstrument(self) -> None:
        """Put nats-py's own methods back; subscriptions made meanwhile stay traced."""
        with self._lock:
            patches = NatsInstrumentor._patches
            if patches is None:
                return
            patches.restore()
            NatsInstrumentor._patches = None
