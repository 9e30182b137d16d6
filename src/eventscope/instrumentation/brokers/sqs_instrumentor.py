"""Instrument every boto3 SQS client once for the whole process, and take it back.

The one-call counterpart of :func:`eventscope.instrumentation.brokers.sqs.instrument_client`::

    from eventscope.instrumentation.brokers.sqs_instrumentor import SqsInstrumentor

    SqsInstrumentor().instrument(retry_delay=30)
    client = boto3.client("sqs")
    client.send_message(QueueUrl=url, MessageBody=body)      # PRODUCER span
    for message in client.receive_message(QueueUrl=url).get("Messages", []):
        bill(message)                                        # a @consumer: settles
        client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    ...
    SqsInstrumentor().uninstrument()

boto3 makes each client's class at run time, so — as OpenTelemetry's botocore
instrumentation does — ``instrument()`` replaces ``_make_api_call`` on botocore's
``BaseClient``, through which every operation of every client passes.  Only the SQS
operations the wrapper instruments (``SendMessage``, ``SendMessageBatch``,
``ReceiveMessage``, ``DeleteMessage``, ``DeleteMessageBatch``) are routed through it,
per client (each keeps its own settled-message memory); every other call, and every
call of another service, goes straight to botocore.  A client also wrapped by hand is
instrumented once.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from botocore.client import BaseClient

from eventscope.instrumentation.brokers import sqs

_OPERATIONS = {
    "SendMessage": "send_message",
    "SendMessageBatch": "send_message_batch",
    "ReceiveMessage": "receive_message",
    "DeleteMessage": "delete_message",
    "DeleteMessageBatch": "delete_message_batch",
}


class _Original:
    """A client whose operations go to botocore's own ``_make_api_call``."""

    def __init__(self, client: Any, make_api_call: Any) -> None:
        self._client = client
        self._make_api_call = make_api_call

    def __getattr__(self, name: str) -> Any:
        operation = self._client.meta.method_to_api_mapping.get(name)
        if operation is None:
            return getattr(self._client, name)

        def call(**params: Any) -> Any:
            return self._make_api_call(self._client, operation, params)

        return call


class SqsInstrumentor:
    """``instrument()`` / ``uninstrument()`` for every boto3 SQS client; one
    process-wide state whichever instance is used, and ``instrument()`` twice is
    harmless."""

    _lock = threading.Lock()
    _original: Any = None

    @property
    def is_instrumented(self) -> bool:
        return SqsInstrumentor._original is not None

    def instrument(self, *, retry_delay: int = 0) -> None:
        """Instrument every SQS client's sends, receives and deletes from now on;
        ``retry_delay`` is :func:`~eventscope.instrumentation.brokers.sqs.instrument_client`'s."""
        with self._lock:
            if SqsInstrumentor._original is not None:
                return
            original = BaseClient._make_api_call
            clients: weakref.WeakKeyDictionary[Any, sqs.InstrumentedClient] = (
                weakref.WeakKeyDictionary()
            )

            def _make_api_call(client: Any, operation_name: str, api_params: dict) -> Any:
                method = _OPERATIONS.get(operation_name)
                if (
                    method is None
                    or sqs.delegating()
                    or client.meta.service_model.service_name != "sqs"
                ):
                    return original(client, operation_name, api_params)
                instrumented = clients.get(client)
                if instrumented is None:
                    instrumented = clients[client] = sqs.InstrumentedClient(
                        _Original(client, original), retry_delay=retry_delay
                    )
                return getattr(instrumented, method)(**api_params)

            BaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]
            SqsInstrumentor._original = original

    def uninstrument(self) -> None:
        """Give botocore its own ``_make_api_call`` back."""
        with self._lock:
            original = SqsInstrumentor._original
            if original is None:
                return
            BaseClient._make_api_call = original  # type: ignore[method-assign]
            SqsInstrumentor._original = None
