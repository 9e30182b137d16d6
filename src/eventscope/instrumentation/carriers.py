"""The carrier contract, the shared mapping carrier, and the shape-sniffing fallback.

A carrier reads and writes header text for propagation; nothing else needs to know
how brokers differ.  Each broker's message adapter names its own carrier (Kafka's
in :mod:`~eventscope.instrumentation.brokers.kafka_headers`, SQS's in
:mod:`~eventscope.instrumentation.brokers.sqs_attributes`, the mapping carrier here
for dicts, AMQP tables, NATS headers and Redis fields).  :func:`carrier_for` guesses
the carrier from a container's shape; it is only for headers nobody describes: raw
headers handed to ``@producer`` and plain dicts.  Writes replace an existing value
rather than adding a second one.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any, Protocol, runtime_checkable

from eventscope.instrumentation import headers as h
from eventscope.instrumentation.brokers.kafka_headers import KafkaHeadersCarrier
from eventscope.instrumentation.brokers.sqs_attributes import (
    SQS_MAX_ATTRIBUTES,
    SqsAttributesCarrier,
    looks_like_sqs_attributes,
)
from eventscope.instrumentation.header_text import clean_value, text_key

__all__ = [
    "SQS_MAX_ATTRIBUTES",
    "Carrier",
    "KafkaHeadersCarrier",
    "MappingCarrier",
    "SqsAttributesCarrier",
    "carrier_for",
    "clean_value",
]

_ENCODED = {
    name: name.encode()
    for name in (h.TRACEPARENT, h.TRACESTATE, h.BAGGAGE, h.EVENT_ID, h.PUBLISHED_AT, h.ATTEMPT)
}


@runtime_checkable
class Carrier(Protocol):
    """What propagation needs from a message's headers."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str) -> None: ...

    def keys(self) -> Iterator[str]: ...


class MappingCarrier:
    """Mappings of header name to value (``None``: no headers yet, an empty dict).

    Plain dicts, AMQP header tables (pika, aio-pika), NATS headers and Redis Streams
    entry fields are all mappings; they differ only in whether names and values are
    ``str`` or ``bytes`` (AMQP tables may also hold numbers and nested tables, which
    are never trace headers).  Reads accept either spelling; writes use ``str``, which
    every one of those clients encodes itself.
    """

    __slots__ = ("mapping",)

    def __init__(self, mapping: MutableMapping[Any, Any] | None) -> None:
        self.mapping = mapping if mapping is not None else {}

    def get(self, key: str) -> str | None:
        mapping = self.mapping
        value = mapping.get(key)
        if value is None:
            value = mapping.get(_ENCODED.get(key) or key.encode())
            if value is None:
                return None
        return clean_value(value)

    def set(self, key: str, value: str) -> None:
        self.mapping.pop(_ENCODED.get(key) or key.encode(), None)
        self.mapping[key] = value

    def keys(self) -> Iterator[str]:
        for key in self.mapping:
            text = text_key(key)
            if text is not None:
                yield text


def carrier_for(headers: Any) -> Carrier:
    """The carrier adapter for a header container, chosen by its shape.

    ``None`` and unknown shapes give an empty, writable mapping carrier so callers
    never need a special case for "no headers".
    """
    if type(headers) is dict or isinstance(headers, MutableMapping):
        if looks_like_sqs_attributes(headers):
            return SqsAttributesCarrier(headers)
        return MappingCarrier(headers)
    if isinstance(headers, list | tuple):
        return KafkaHeadersCarrier(headers)
    if isinstance(headers, Carrier):
        return headers
    return MappingCarrier({})
