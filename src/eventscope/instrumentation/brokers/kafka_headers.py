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

    __slots__ = ("_index", "headers")

    def __init__(self, headers: MutableSequence[tuple[str, Any]] | tuple | None) -> None:
        self.headers = headers if headers is not None else []
        self._index: dict[str, Any] | None = None

    def get(self, key: str) -> str | None:
        # A consumer reads five or six headers of each record: one pass over the list
        # serves them all (writes through this carrier keep it up to date).
        index = self._index
        if index is None:
            index = self._index = _last_values(self.headers)
        found = index.get(key)
        return None if found is None else clean_value(found)

    def set(self, key: str, value: str) -> None:
        headers = self.headers
        if not isinstance(headers, MutableSequence):
            raise TypeError("Kafka headers given as a tuple cannot be written; pass a list")
        encoded = value.encode("utf-8")
        headers[:] = [(n, v) for n, v in headers if n != key]
        headers.append((key, encoded))
        if self._index is not None:
            self._index[key] = encoded  # the last value of that name now

    def keys(self) -> Iterator[str]:
        for item in self.headers:
            text = text_key(item[0]) if type(item) is tuple and len(item) == 2 else None
            if text is not None:
                yield text


def _last_values(headers: Any) -> dict[str, Any]:
    """Each text-named header's last value; a name given as UTF-8 bytes counts as text."""
    index: dict[str, Any] = {}
    for item in headers:
        if type(item) is tuple and len(item) == 2:
            name = item[0]
            if not isinstance(name, str):
                binary = isinstance(name, bytes | bytearray | memoryview)
                name = text_key(bytes(name)) if binary else None
                if name is None:
                    continue
            index[name] = item[1]
    return index
