"""The carrier for Kafka record headers, shared by confluent-kafka and aiokafka.

It imports no Kafka client, so the generic ``carrier_for`` fallback can use it for
raw header lists handed to ``@producer`` without loading one.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableSequence
from typing import Any

from eventscope.instrumentation.header_text import clean_value, text_key


class KafkaHeadersCarrier:
    """Kafka record headers: a list of ``(name, bytes)`` pairs, names may repeat.

    confluent-kafka and aiokafka both use this shape (confluent-kafka returns ``None``
    for a record without headers).  The last value of a repeated name wins, as in
    Kafka's own ``Headers.lastHeader``.  Writes replace an existing value.
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
            text = text_key(item[0]) if type(item) is tuple and len(item) == 2 else None
            if text is not None:
                yield text
