"""One small adapter per header format, so nothing else knows how brokers differ.

Every carrier reads and writes text.  Reads are defensive: a value that is not text
(or UTF-8 bytes), is longer than :data:`~eventscope.instrumentation.headers.MAX_VALUE_LENGTH`
or contains CR, LF or NUL is treated as absent, so a hostile header can at worst
start a new trace.  Writes replace an existing value rather than adding a second one.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, MutableSequence
from typing import Any, Protocol, runtime_checkable

from eventscope.instrumentation import headers as h
from eventscope.instrumentation.headers import MAX_VALUE_LENGTH

_FORBIDDEN = ("\r", "\n", "\x00")
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


def clean_value(value: Any) -> str | None:
    """The header value as safe text, or ``None`` if it cannot be trusted."""
    if type(value) is str:  # the common case, checked without a loop or a call
        if (
            len(value) <= MAX_VALUE_LENGTH
            and "\n" not in value
            and "\r" not in value
            and "\x00" not in value
        ):
            return value
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
    elif not isinstance(value, str):
        return None
    if len(value) > MAX_VALUE_LENGTH or any(c in value for c in _FORBIDDEN):
        return None
    return value


def _text_key(key: Any) -> str | None:
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        try:
            return key.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


class MappingCarrier:
    """Mappings of header name to value.

    Plain dicts, AMQP header tables (pika, aio-pika), NATS headers and Redis Streams
    entry fields are all mappings; they differ only in whether names and values are
    ``str`` or ``bytes`` (AMQP tables may also hold numbers and nested tables, which
    are never trace headers).  Reads accept either spelling; writes use ``str``, which
    every one of those clients encodes itself.
    """

    __slots__ = ("mapping",)

    def __init__(self, mapping: MutableMapping[Any, Any]) -> None:
        self.mapping = mapping

    def get(self, key: str) -> str | None:
        mapping = self.mapping
        value = mapping.get(key)
        if value is None:
            value = mapping.get(_ENCODED.get(key) or key.encode())
            if value is None:
                return None
        return clean_value(value)

    def set(self, key: str, value: str) -> None:
        self.mapping.pop(key.encode(), None)
        self.mapping[key] = value

    def keys(self) -> Iterator[str]:
        for key in self.mapping:
            text = _text_key(key)
            if text is not None:
                yield text


class KafkaHeadersCarrier:
    """Kafka record headers: a list of ``(name, bytes)`` pairs, names may repeat.

    confluent-kafka and aiokafka both use this shape (confluent-kafka returns ``None``
    for a record without headers).  The last value of a repeated name wins, as in
    Kafka's own ``Headers.lastHeader``.
    """

    __slots__ = ("headers",)

    def __init__(self, headers: MutableSequence[tuple[str, Any]] | tuple | None) -> None:
        self.headers = headers if headers is not None else []

    def get(self, key: str) -> str | None:
        found = None
        raw_key = key.encode()
        for item in self.headers:
            if type(item) is tuple and len(item) == 2 and item[0] in (key, raw_key):
                found = item[1]
        return None if found is None else clean_value(found)

    def set(self, key: str, value: str) -> None:
        headers = self.headers
        if not isinstance(headers, MutableSequence):
            raise TypeError("Kafka headers given as a tuple cannot be written; pass a list")
        headers[:] = [(n, v) for n, v in headers if n != key]
        headers.append((key, value.encode("utf-8")))

    def keys(self) -> Iterator[str]:
        for item in self.headers:
            text = _text_key(item[0]) if type(item) is tuple and len(item) == 2 else None
            if text is not None:
                yield text


SQS_MAX_ATTRIBUTES = 10
"""SQS rejects a message with more than ten message attributes."""


class SqsAttributesCarrier:
    """SQS message attributes: ``{name: {"DataType": "String", "StringValue": ...}}``.

    Received attributes use the same shape (boto3) or lower-case keys (Lambda event
    records).  SQS allows ten attributes per message: when the application already
    uses them all, eventscope skips the header rather than make the send fail.
    """

    __slots__ = ("attributes",)

    def __init__(self, attributes: MutableMapping[str, Any] | None) -> None:
        self.attributes = attributes if attributes is not None else {}

    def get(self, key: str) -> str | None:
        attribute = self.attributes.get(key)
        if not isinstance(attribute, dict):
            return None
        value = attribute.get("StringValue", attribute.get("stringValue"))
        return None if value is None else clean_value(value)

    def set(self, key: str, value: str) -> None:
        if key not in self.attributes and len(self.attributes) >= SQS_MAX_ATTRIBUTES:
            return
        self.attributes[key] = {"DataType": "String", "StringValue": value}

    def keys(self) -> Iterator[str]:
        return iter(list(self.attributes))


def _is_sqs_attributes(mapping: MutableMapping[Any, Any]) -> bool:
    for value in mapping.values():
        return isinstance(value, dict) and ("DataType" in value or "dataType" in value)
    return False


def carrier_for(headers: Any) -> Carrier:
    """The carrier adapter for a header container, chosen by its shape.

    ``None`` and unknown shapes give an empty, writable mapping carrier so callers
    never need a special case for "no headers".
    """
    if type(headers) is dict or isinstance(headers, MutableMapping):
        if _is_sqs_attributes(headers):
            return SqsAttributesCarrier(headers)
        return MappingCarrier(headers)
    if isinstance(headers, list | tuple):
        return KafkaHeadersCarrier(headers)
    if isinstance(headers, Carrier):
        return headers
    return MappingCarrier({})
