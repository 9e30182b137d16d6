"""One-line instrumentation for nats-py: core NATS and JetStream.

```python
nc = nats.instrument(await nats_client.connect(url))
js = nc.jetstream()                                    # instrumented too
await js.publish("orders", body)                       # PRODUCER span, trace headers added

@nats.consumer("billing", max_attempts=3)              # push: js.subscribe(..., cb=on_order)
async def on_order(msg: Msg) -> None: ...

@nats.consumer("billing", batch=True)                  # pull: one span linked to every producer
async def on_orders(msgs: list[Msg]) -> None: ...
await on_orders(await pull_subscription.fetch(50))
```

After the handler, each JetStream message is settled on the server: ``ack()`` when
handled (or skipped as a duplicate), ``nak()`` for a retry — JetStream redelivers it and
counts the delivery (``num_delivered`` is the attempt) — and for a dead-letter a copy
is published to ``<subject>.dlq`` (a stream must capture it) before ``term()``.  Core
NATS has no redelivery: a retry calls the handler again in place, with the
``eventscope-attempt`` header counting, and a dead-letter is published to
``<subject>.dlq``.  A plain ``@consumer`` recognises ``Msg`` too (subject, stream,
consumer, attempt), but leaves a failing message to the subscription's own handling.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from nats.aio.msg import Msg
from opentelemetry import trace

from eventscope.catalog import NATS, Attr, Outcome
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import settlement, sources
from eventscope.instrumentation.brokers.sources import Source
from eventscope.instrumentation.carriers import MappingCarrier
from eventscope.instrumentation.header_text import ascii_count
from eventscope.instrumentation.messages import register_message_type
from eventscope.instrumentation.producer_decorator import producer

# semconv 1.44 defines no NATS attributes: the stream and its sequence are eventscope's.
STREAM = "eventscope.nats.stream.name"
SEQUENCE = "eventscope.nats.message.stream_sequence"
SUBSCRIPTION = Attr.SUBSCRIPTION
MSG_ID = "Nats-Msg-Id"
"""JetStream's de-duplication id, set by the publisher: the message's broker-level id."""
_JETSTREAM_ACK = "$JS.ACK."
_INSTRUMENTED = "__eventscope_instrumented__"
_publishing: ContextVar[bool] = ContextVar("eventscope_nats_publishing", default=False)


def publishing() -> bool:
    """Whether eventscope is publishing here already (a traced send, or a dead-letter
    copy that keeps its producer's trace headers): not to be traced again."""
    return _publishing.get()


def is_instrumented(callback: Any) -> bool:
    """Whether ``callback`` is already an instrumented consumer (not to be wrapped again)."""
    return bool(getattr(callback, _INSTRUMENTED, False))


def is_jetstream(msg: Msg) -> bool:
    return bool(msg.reply) and msg.reply.startswith(_JETSTREAM_ACK)


class _MsgAdapter:
    system = NATS.name
    carrier = MappingCarrier

    def headers(self, msg: Msg) -> Any:
        return msg.headers

    def destination(self, msg: Msg) -> str:
        return msg.subject

    def attempt(self, msg: Msg) -> int | None:
        return msg.metadata.num_delivered if is_jetstream(msg) else None

    def attributes(self, msg: Msg) -> dict[str, Any] | None:
        headers = msg.headers
        found = {Attr.MESSAGE_ID: headers[MSG_ID]} if headers and MSG_ID in headers else None
        if not is_jetstream(msg):
            return found
        metadata = msg.metadata
        return {
            **(found or {}),
            STREAM: metadata.stream,
            SUBSCRIPTION: metadata.consumer,
            SEQUENCE: metadata.sequence.stream,
        }

    def source(self, msg: Msg) -> Source:
        return client_source(msg._client)

    span_destination = None  # the topic / subject / stream / queue, as on the metrics

    def settle(self, msg: Msg, outcome: Outcome, reason: str | None) -> bool:
        return settlement.record(msg, outcome, reason)


def _read_url(url: Any) -> Source:
    return sources.server(url.hostname, url.port)


_by_url = sources.SourcesByKey(_read_url)


def client_source(client: Any) -> Source:
    """``server.address``/``server.port`` of the server a NATS client (or a JetStream
    context) is connected to now: after a reconnect, the new one."""
    url = getattr(getattr(client, "_nc", client), "connected_url", None)
    return () if url is None else _by_url(url)


register_message_type(Msg, _MsgAdapter())


def dead_letter_headers(msg: Msg, reason: str | None) -> dict[str, str]:
    """The message's own headers (trace context included) plus why and where from.

    ``Nats-`` headers are server instructions for the original publish (a
    ``Nats-Msg-Id`` would make the dead-letter stream drop the second group's copy as a
    duplicate), so they are not carried over.
    """
    headers = {k: v for k, v in (msg.headers or {}).items() if not k.startswith("Nats-")}
    headers[h.DEAD_LETTER_REASON] = reason or "unspecified"
    headers[h.ORIGINAL_DESTINATION] = msg.subject
    return headers


async def carry_out(
    msg: Msg, decision: settlement.Decision | None, *, retry_delay: float | None = None
) -> None:
    """Settle ``msg`` on the server (JetStream) or dead-letter it (core NATS)."""
    outcome = decision.outcome if decision is not None else Outcome.OK
    jetstream = is_jetstream(msg)
    if jetstream and msg.is_acked:
        return  # the handler settled it itself
    if outcome is Outcome.RETRY and jetstream:
        await msg.nak(delay=retry_delay)
    elif outcome in settlement.SETTLED_BY_BROKER:
        # A dead-letter; or a core NATS retry in a batch, which cannot be redelivered.
        reason = decision.reason if decision is not None else None
        subject = NATS.dead_letter_destination(msg.subject)
        # Msg keeps its client privately; nats-py offers no public accessor for it.
        client = msg._client
        token = _publishing.set(True)
        try:
            if jetstream:
                await client.jetstream().publish(
                    subject, msg.data, headers=dead_letter_headers(msg, reason)
                )
            else:
                await client.publish(subject, msg.data, headers=dead_letter_headers(msg, reason))
        finally:
            _publishing.reset(token)
        if jetstream:
            await msg.term()
    elif jetstream:
        await msg.ack()


Handler = Callable[..., Awaitable[Any]]


def consumer(
    group: str | None = None,
    *,
    max_attempts: int | None = None,
    deduplicate: int = 0,
    batch: bool = False,
    retry_delay: float | None = None,
) -> Callable[[Handler], Callable[[Any], Awaitable[None]]]:
    """Instrument ``async def fn(msg[, ctx])`` (or ``fn(msgs[, ctx])`` with ``batch=True``).

    ``retry_delay`` asks JetStream to wait that many seconds before redelivering.
    """

    def decorate(fn: Handler) -> Callable[[Any], Awaitable[None]]:
        handle = settlement.handler(
            fn,
            group=group,
            system=NATS.name,
            max_attempts=max_attempts,
            deduplicate=deduplicate,
            batch=batch,
        )

        async def on_message(msg: Msg) -> None:
            while True:
                with settlement.delivering() as ledger:
                    await handle(msg)
                decision = ledger.decision(msg, max_attempts)
                if decision is None or decision.outcome is not Outcome.RETRY or is_jetstream(msg):
                    await carry_out(msg, decision, retry_delay=retry_delay)
                    return
                _count_attempt(msg)  # core NATS: deliver again, here

        async def on_batch(msgs: Any) -> None:
            msgs = list(msgs)
            with settlement.delivering() as ledger:
                await handle(msgs)
            for msg in msgs:
                await carry_out(msg, ledger.decision(msg, max_attempts), retry_delay=retry_delay)

        wrapper = on_batch if batch else on_message
        wrapper.__name__ = fn.__name__
        wrapper.__qualname__ = fn.__qualname__
        wrapper.__doc__ = fn.__doc__
        setattr(wrapper, _INSTRUMENTED, True)
        return wrapper

    return decorate


def _count_attempt(msg: Msg) -> None:
    headers = msg.headers if msg.headers is not None else {}
    current = ascii_count(headers.get(h.ATTEMPT)) or 1
    headers[h.ATTEMPT] = str(current + 1)
    msg.headers = headers


def _subject(client: Any, subject: str, *args: Any, **kwargs: Any) -> str:
    return subject


def _source(client: Any, *args: Any, **kwargs: Any) -> Source:
    return client_source(client)


@producer(_subject, system=NATS.name, source=_source)
async def _publish(client: Any, subject: str, payload: bytes, headers: dict, **kwargs: Any) -> Any:
    if MSG_ID in headers:  # the publisher's JetStream id is the message's id
        trace.get_current_span().set_attributes(
            {Attr.MESSAGE_ID: headers[MSG_ID], Attr.EVENT_ID: headers[h.EVENT_ID]}
        )
    token = _publishing.set(True)
    try:
        return await client.publish(subject, payload, headers=headers, **kwargs)
    finally:
        _publishing.reset(token)


class InstrumentedJetStream:
    """A JetStream context whose ``publish()`` is traced; the rest is the context's."""

    def __init__(self, js: Any) -> None:
        self.js = js

    async def publish(
        self,
        subject: str,
        payload: bytes = b"",
        timeout: float | None = None,
        stream: str | None = None,
        headers: dict | None = None,
        **kwargs: Any,
    ) -> Any:
        return await _publish(
            self.js, subject, payload, dict(headers or {}), timeout=timeout, stream=stream, **kwargs
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.js, name)


class InstrumentedClient:
    """A NATS connection whose core ``publish()`` is traced and whose JetStream is too."""

    def __init__(self, nc: Any) -> None:
        self.nc = nc

    async def publish(
        self, subject: str, payload: bytes = b"", reply: str = "", headers: dict | None = None
    ) -> Any:
        return await _publish(self.nc, subject, payload, dict(headers or {}), reply=reply)

    def jetstream(self, **kwargs: Any) -> InstrumentedJetStream:
        return InstrumentedJetStream(self.nc.jetstream(**kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.nc, name)


def instrument(nc: Any) -> InstrumentedClient:
    """Wrap a connected ``nats.aio.client.Client``: the one line to add."""
    return InstrumentedClient(nc)


def instrument_jetstream(js: Any) -> InstrumentedJetStream:
    """Wrap a JetStream context when the application holds one already."""
    return InstrumentedJetStream(js)
