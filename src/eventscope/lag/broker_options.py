"""Checking the options every broker's ``from_options()`` shares.

They come from ``lag.yaml`` (lists, numbers) or from command-line flags (strings), so
both spellings are accepted; anything else is a :class:`UsageError` naming the key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventscope.errors import UsageError
from eventscope.lag.deadline import checked_seconds


def check_known(broker: str, options: dict[str, Any], known: Iterable[str]) -> None:
    known = set(known)
    unknown = sorted(set(options) - known)
    if unknown:
        raise UsageError(
            f"unknown {broker} option {unknown[0]!r} (expected one of {', '.join(sorted(known))})"
        )


def names_option(options: dict[str, Any], key: str) -> list[str] | None:
    """A list of names, or ``None`` (meaning: all); ``"a,b"`` from a flag works too."""
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        value = [v for v in value.split(",") if v]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise UsageError(f"{key}: expected a list of names, got {value!r}")
    return value


def timeout_option(options: dict[str, Any]) -> float:
    """Seconds one collection may take (default 5): finite, above 0, at most an hour."""
    return checked_seconds(options.get("timeout", 5.0), "timeout")
