"""What every process-wide instrumentor does to a client library's classes.

``instrument()`` replaces a few methods on the client's own classes, so the
application keeps the client's types; ``uninstrument()`` must leave the classes as they
were — an inherited method inherited again, not a copy left behind on the subclass.
The wrappers the patched methods hand a client to must call the client's own methods,
not the patched ones, or every call would be traced twice.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

_INHERITED = object()


class ClassPatches:
    """The class attributes an instrumentor replaced, and what to put back."""

    def __init__(self) -> None:
        self._saved: dict[tuple[type, str], Any] = {}

    def replace(self, cls: type, name: str, value: Any) -> None:
        self._saved.setdefault((cls, name), cls.__dict__.get(name, _INHERITED))
        setattr(cls, name, value)

    def restore(self) -> None:
        for (cls, name), own in self._saved.items():
            if own is _INHERITED:
                delattr(cls, name)
            else:
                setattr(cls, name, own)
        self._saved.clear()


class OriginalMethods:
    """A client seen through the methods its class had before instrumenting (what the
    wrappers call); everything else is the client's own."""

    def __init__(self, client: Any, originals: Mapping[str, Any]) -> None:
        self._client = client
        for name, original in originals.items():
            setattr(self, name, functools.partial(original, client))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
