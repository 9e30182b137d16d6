"""Header names and values as safe text, whatever a broker's client hands over.

Every carrier reads through these: a value that is not text (or UTF-8 bytes), is
longer than :data:`~eventscope.instrumentation.headers.MAX_VALUE_LENGTH` or contains
CR, LF or NUL is treated as absent, so a hostile header can at worst start a new
trace.  Numbers are read strictly (:func:`ascii_count`): ``str.isdigit()`` accepts
``²`` and ``①``, which ``int()`` then refuses.
"""

from __future__ import annotations

from typing import Any

from eventscope.instrumentation.headers import MAX_VALUE_LENGTH


def clean_value(value: Any) -> str | None:
    """The header value as safe text, or ``None`` if it cannot be trusted."""
    if type(value) is not str:
        if isinstance(value, bytes | bytearray | memoryview):  # Kafka's values
            try:
                value = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                return None
        elif not isinstance(value, str):
            return None
    # Three substring tests, not a loop: this runs for every header read.
    if (
        len(value) <= MAX_VALUE_LENGTH
        and "\n" not in value
        and "\r" not in value
        and "\x00" not in value
    ):
        return value
    return None


def text_key(key: Any) -> str | None:
    """A header name as text (``str`` or UTF-8 ``bytes``), else ``None``."""
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        try:
            return key.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def ascii_count(value: Any, max_digits: int = 6) -> int | None:
    """A count written in ASCII digits (at most ``max_digits``), else ``None``."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if (
        isinstance(value, str)
        and 0 < len(value) <= max_digits
        and value.isascii()
        and value.isdigit()
    ):
        return int(value)
    return None
