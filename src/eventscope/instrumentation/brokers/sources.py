"""Where a client's messages go to and come from: ``server.address`` and ``server.port``.

semconv 1.44 makes ``server.address`` conditionally required (when available) on the
messaging spans and metrics, with ``server.port``.  A client knows them from its
connection; the broker integrations read them once per connection (or connected URL)
and hand the decorators the same tuple for every message, which then binds a meter and
a span's constant attributes per source (see :class:`~eventscope.instrumentation.
messages.MessageAdapter.source`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Any

from eventscope.catalog import Attr

Source = tuple[tuple[str, Any], ...]
_KEPT = 256
"""Sources kept by key (or by identity) at most; then they are read again."""


def server(host: str | None, port: int | None) -> Source:
    """The ``server.address``/``server.port`` pairs of a connection (a meter's source)."""
    pairs: list[tuple[str, Any]] = []
    if host:
        pairs.append((Attr.SERVER_ADDRESS, host))
        if port:
            pairs.append((Attr.SERVER_PORT, int(port)))
    return tuple(pairs)


def _read_safely(read: Callable[[Any], Source], key: Any) -> Source:
    try:
        return read(key)
    except Exception:  # an unexpected client version: no source rather than no span
        return ()


class ConnectionSources:
    """Each connection's source pairs, read once (weakly keyed: a closed connection
    takes its entry with it)."""

    def __init__(self, read: Callable[[Any], Source]) -> None:
        self._read = read
        self._known: weakref.WeakKeyDictionary[Any, Source] = weakref.WeakKeyDictionary()
        self._by_id: dict[int, tuple[Any, Source]] = {}

    def __call__(self, connection: Any) -> Source:
        if connection is None:
            return ()
        kept = self._by_id.get(id(connection))
        if kept is not None and kept[0] is connection:
            return kept[1]
        try:
            return self._known[connection]
        except KeyError:
            found = self._known[connection] = _read_safely(self._read, connection)
            return found
        except TypeError:  # not weakly referenceable: by identity, kept alive, bounded
            if len(self._by_id) >= _KEPT:
                self._by_id.clear()
            found = _read_safely(self._read, connection)
            self._by_id[id(connection)] = (connection, found)
            return found


class SourcesByKey:
    """:class:`ConnectionSources` for keys that are values (a connected URL), bounded:
    a client that reconnects to another node reports that node from then on."""

    def __init__(self, read: Callable[[Any], Source], size: int = _KEPT) -> None:
        self._read = read
        self._size = size
        self._known: dict[Hashable, Source] = {}

    def __call__(self, key: Hashable) -> Source:
        found = self._known.get(key)
        if found is None:
            if len(self._known) >= self._size:
                self._known.clear()
            found = self._known[key] = _read_safely(self._read, key)
        return found
