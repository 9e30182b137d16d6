"""The carrier for SQS message attributes.

It imports no AWS client, so the generic ``carrier_for`` fallback can use it for raw
attribute dicts handed to ``@producer`` without loading one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from eventscope.instrumentation.header_text import clean_value

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


def looks_like_sqs_attributes(mapping: Mapping[Any, Any]) -> bool:
    """Whether a mapping's first value has the ``DataType`` of an SQS attribute."""
    for value in mapping.values():
        return isinstance(value, dict) and ("DataType" in value or "dataType" in value)
    return False
