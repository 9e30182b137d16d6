"""Amazon SQS through boto3, instrumented in one line.

.. code-block:: python

    sqs = instrument_client(boto3.client("sqs"))
    sqs.send_message(QueueUrl=url, MessageBody=body)         # trace context in attributes

    @eventscope.consumer(group="billing", max_attempts=3)
    def bill(message): ...                                   # the received message dict

    for message in sqs.receive_message(QueueUrl=url).get("Messages", []):
        bill(message)
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

The trace context, event id and publish time travel as message attributes (SQS
allows ten per message; when the application uses them all, eventscope's are left
out rather than fail the send).  ``receive_message`` asks for them and for
``ApproximateReceiveCount`` (the attempt) on the caller's behalf, and returns the
messages as :class:`SqsMessage` dicts, which the consumer decorator recognises.

Settling: a retry makes the message visible again at once (``VisibilityTimeout``
``retry_delay``), so SQS delivers it again and counts the attempt; a dead letter
sends it, with its attributes plus the reason and the source queue, to the queue's
redrive-policy dead-letter queue (SQS's own), or else ``<queue>-dlq``, and deletes
it from the source.  The client's ``delete_message``/``delete_message_batch`` then
skip such messages, so a loop that deletes every handled message cannot delete one
that is waiting for its retry.
"""

from __future__ import annotations

import functools
import json
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar
from urllib.parse import urlsplit

from opentelemetry import trace

from eventscope.catalog import AWS_SQS, Attr, Outcome
from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers import sources
from eventscope.instrumentation.brokers.dead_letter_span import note_dead_letter
from eventscope.instrumentation.brokers.sources import Source
from eventscope.instrumentation.brokers.sqs_attributes import SqsAttributesCarrier
from eventscope.instrumentation.header_text import ascii_count
from eventscope.instrumentation.messages import register_message_type
from eventscope.instrumentation.producer_decorator import producer as _producer

RECEIVE_COUNT = "ApproximateReceiveCount"
MESSAGE_GROUP = "MessageGroupId"
_TRACE_ATTRIBUTES = (h.TRACEPARENT, h.TRACESTATE, h.BAGGAGE, h.EVENT_ID, h.PUBLISHED_AT)
_REMEMBERED_SETTLEMENTS = 10_000


_delegating: ContextVar[bool] = ContextVar("eventscope_sqs_delegating", default=False)
_Method = TypeVar("_Method", bound=Callable[..., Any])


def delegating() -> bool:
    """Whether an instrumented client is calling its wrapped client here (that call
    must not be instrumented a second time)."""
    return _delegating.get()


def _delegates(method: _Method) -> _Method:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        token = _delegating.set(True)
        try:
            return method(*args, **kwargs)
        finally:
            _delegating.reset(token)

    return call  # type: ignore[return-value]


def queue_name(queue_url: str) -> str:
    """The queue's name: the last segment of its URL (or ARN)."""
    return queue_url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


class SqsMessage(dict):
    """A received message (the boto3 dict) that knows its queue and its client."""

    __slots__ = ("client", "queue_url")

    def __init__(self, message: dict, queue_url: str, client: InstrumentedClient) -> None:
        super().__init__(message)
        self.queue_url = queue_url
        self.client = client


class SqsMessageAdapter:
    """How the ``@consumer`` decorator reads and settles an :class:`SqsMessage`."""

    system = AWS_SQS.name
    carrier = SqsAttributesCarrier

    def headers(self, message: SqsMessage) -> Any:
        return message.get("MessageAttributes")

    def destination(self, message: SqsMessage) -> str:
        return queue_name(message.queue_url)

    def attempt(self, message: SqsMessage) -> int | None:
        count = message.get("Attributes", {}).get(RECEIVE_COUNT)
        return ascii_count(count, max_digits=9)

    def attributes(self, message: SqsMessage) -> dict[str, Any] | None:
        found: dict[str, Any] = {}
        if "MessageId" in message:
            found[Attr.MESSAGE_ID] = message["MessageId"]
        body = message.get("Body")
        if isinstance(body, str):
            found[Attr.BODY_SIZE] = len(body.encode())
        return found

    def source(self, message: SqsMessage) -> Source:
        return message.client.source

    span_destination = None  # the topic / subject / stream / queue, as on the metrics

    def settle(self, message: SqsMessage, outcome: Outcome, reason: str | None) -> bool:
        return message.client.settle(message, outcome, reason)


def _endpoint_source(client: Any) -> Source:
    """``server.address``/``server.port`` of the client's endpoint (the regional SQS
    endpoint, or the URL it was given), read once per client."""
    url = urlsplit(getattr(getattr(client, "meta", None), "endpoint_url", None) or "")
    if not url.hostname:
        return ()
    return sources.server(url.hostname, url.port or (443 if url.scheme == "https" else 80))


register_message_type(SqsMessage, SqsMessageAdapter())


def _queue(queue_url: str, *_: Any, **__: Any) -> str:
    return queue_name(queue_url)


class InstrumentedClient:
    """A boto3 SQS client whose sends carry trace context and whose receives settle.

    ``send_message`` runs in a PRODUCER span ``send <queue>``.  ``send_message_batch``
    gives each entry its own PRODUCER span (its own trace context and event id),
    ended before the one batch request.  Everything else is the wrapped client's.
    """

    def __init__(self, client: Any, *, retry_delay: int = 0) -> None:
        self.wrapped = client
        self.retry_delay = retry_delay
        self.source = _endpoint_source(client)
        self._send = _producer(_queue, system=AWS_SQS.name, source=self.source)(
            self._send_message
        )
        self._stamp = _producer(_queue, system=AWS_SQS.name, source=self.source)(
            self._stamp_entry
        )
        self._dead_letter_urls: dict[str, str] = {}
        self._settled: OrderedDict[str, None] = OrderedDict()

    # --- sending (parameter names are boto3's: keyword-only, CamelCase) ---------------

    @_delegates
    def send_message(self, *, QueueUrl: str, **kwargs: Any) -> dict:
        attributes = kwargs.pop("MessageAttributes", None) or {}
        return self._send(QueueUrl, kwargs, SqsAttributesCarrier(attributes))

    def _send_message(self, queue_url: str, kwargs: dict, headers: SqsAttributesCarrier) -> dict:
        response = self.wrapped.send_message(
            QueueUrl=queue_url, MessageAttributes=headers.attributes, **kwargs
        )
        if isinstance(response, dict) and "MessageId" in response:
            # SQS's id is the message's id from now on, on both sides.
            trace.get_current_span().set_attributes(
                {Attr.MESSAGE_ID: response["MessageId"], Attr.EVENT_ID: headers.get(h.EVENT_ID)}
            )
        return response

    @_delegates
    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict], **kwargs: Any) -> dict:
        entries = []
        for entry in Entries:
            attributes = dict(entry.get("MessageAttributes") or {})
            self._stamp(QueueUrl, SqsAttributesCarrier(attributes))
            entries.append({**entry, "MessageAttributes": attributes})
        return self.wrapped.send_message_batch(QueueUrl=QueueUrl, Entries=entries, **kwargs)

    def _stamp_entry(self, queue_url: str, headers: SqsAttributesCarrier) -> None:
        """Nothing to do: the decorator fills ``headers`` inside the entry's span."""

    # --- receiving ------------------------------------------------------------------

    @_delegates
    def receive_message(self, *, QueueUrl: str, **kwargs: Any) -> dict:
        names = kwargs.get("MessageAttributeNames")
        if names is None:
            kwargs["MessageAttributeNames"] = ["All"]
        elif not {"All", ".*"} & set(names):
            kwargs["MessageAttributeNames"] = [*names, *_TRACE_ATTRIBUTES]
        system_key = (
            "AttributeNames" if "AttributeNames" in kwargs else "MessageSystemAttributeNames"
        )
        wanted = list(kwargs.get(system_key) or [])
        if "All" not in wanted:
            kwargs[system_key] = [*wanted, RECEIVE_COUNT, MESSAGE_GROUP]
        response = self.wrapped.receive_message(QueueUrl=QueueUrl, **kwargs)
        if "Messages" in response:
            response["Messages"] = [SqsMessage(m, QueueUrl, self) for m in response["Messages"]]
        return response

    # --- settling (called by the message adapter) ---------------------------------------

    def settle(self, message: SqsMessage, outcome: Outcome, reason: str | None) -> bool:
        receipt = message["ReceiptHandle"]
        if outcome is Outcome.RETRY:
            self.wrapped.change_message_visibility(
                QueueUrl=message.queue_url,
                ReceiptHandle=receipt,
                VisibilityTimeout=self.retry_delay,
            )
        elif outcome is Outcome.DEAD_LETTER:
            self._dead_letter(message, reason)
        else:
            return False
        self._settled[receipt] = None
        if len(self._settled) > _REMEMBERED_SETTLEMENTS:
            self._settled.popitem(last=False)
        return True

    def _dead_letter(self, message: SqsMessage, reason: str | None) -> None:
        source = queue_name(message.queue_url)
        target = self.dead_letter_url(message.queue_url)
        attributes = dict(message.get("MessageAttributes") or {})
        carrier = SqsAttributesCarrier(attributes)
        carrier.set(h.DEAD_LETTER_REASON, reason or "unspecified")
        carrier.set(h.ORIGINAL_DESTINATION, source)
        send: dict[str, Any] = {
            "QueueUrl": target,
            "MessageBody": message["Body"],
            "MessageAttributes": attributes,
        }
        group = message.get("Attributes", {}).get(MESSAGE_GROUP)
        if target.endswith(".fifo") and group is not None:
            send["MessageGroupId"] = group
            send["MessageDeduplicationId"] = message["MessageId"]
        self.wrapped.send_message(**send)
        self.wrapped.delete_message(
            QueueUrl=message.queue_url, ReceiptHandle=message["ReceiptHandle"]
        )
        note_dead_letter(queue_name(target), reason)

    def dead_letter_url(self, queue_url: str) -> str:
        """The queue's redrive-policy dead-letter queue, else ``<queue>-dlq`` (cached)."""
        url = self._dead_letter_urls.get(queue_url)
        if url is None:
            attributes = self.wrapped.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]
            ).get("Attributes", {})
            policy = attributes.get("RedrivePolicy")
            if policy:
                arn = json.loads(policy)["deadLetterTargetArn"]
                account = arn.split(":")[4]
                url = self.wrapped.get_queue_url(
                    QueueName=queue_name(arn), QueueOwnerAWSAccountId=account
                )["QueueUrl"]
            else:
                url = self.wrapped.get_queue_url(
                    QueueName=AWS_SQS.dead_letter_destination(queue_name(queue_url))
                )["QueueUrl"]
            self._dead_letter_urls[queue_url] = url
        return url

    # --- deleting -------------------------------------------------------------------

    @_delegates
    def delete_message(self, *, QueueUrl: str, ReceiptHandle: str, **kwargs: Any) -> dict:
        """Delete a handled message; one settled by a retry or dead letter is left alone."""
        if ReceiptHandle in self._settled:
            del self._settled[ReceiptHandle]
            return {}
        return self.wrapped.delete_message(QueueUrl=QueueUrl, ReceiptHandle=ReceiptHandle, **kwargs)

    @_delegates
    def delete_message_batch(self, *, QueueUrl: str, Entries: list[dict], **kwargs: Any) -> dict:
        skipped = [e for e in Entries if e["ReceiptHandle"] in self._settled]
        for entry in skipped:
            self._settled.pop(entry["ReceiptHandle"], None)
        rest = [e for e in Entries if e not in skipped]
        response: dict[str, Any] = {"Successful": [], "Failed": []}
        if rest:
            response = self.wrapped.delete_message_batch(QueueUrl=QueueUrl, Entries=rest, **kwargs)
            response.setdefault("Successful", [])
        response["Successful"] = [*response["Successful"], *({"Id": e["Id"]} for e in skipped)]
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


def instrument_client(client: Any, *, retry_delay: int = 0) -> InstrumentedClient:
    """Wrap a boto3 SQS client (``boto3.client("sqs")``)."""
    return InstrumentedClient(client, retry_delay=retry_delay)
