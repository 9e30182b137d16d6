"""The caches that make repeated checks fast, and one switch to empty them all.

A compatibility run meets the same schemas again and again — every version of a subject
against the candidate, the same optional-field shapes in every version — so parsed
schemas and partial verdicts are kept for the life of the process (each cache bounded).
A long-lived process that wants the memory back, or a benchmark that wants to measure
a cold start, calls :func:`clear_caches`.
"""

from __future__ import annotations

from collections.abc import Callable

_CLEARERS: list[Callable[[], None]] = []


def register(clear: Callable[[], None]) -> Callable[[], None]:
    """Have :func:`clear_caches` call ``clear`` (a module does this at import)."""
    _CLEARERS.append(clear)
    return clear


def clear_caches() -> None:
    """Empty every cache of the schema checkers loaded so far.

    Only costs speed: the next checks parse and compare from scratch.
    """
    for clear in _CLEARERS:
        clear()
