"""Names a package re-exports without importing them until they are used (PEP 562).

Several packages offer a name whose module is costly or needs an optional extra (the
registry's HTTP server, the grafana-foundation-sdk renderers, the contract machinery),
and ``eventscope`` itself must cost nothing to import (pytest imports its plugin in
every run).  Each such package sets ``__getattr__ = lazy_names(__name__, {...})``: one
table from name to home module, read by the architecture test like any import.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``homes[name]`` when
    ``name`` is first asked for, and keeps the value so later lookups are plain."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
