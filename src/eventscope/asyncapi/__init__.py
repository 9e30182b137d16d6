"""AsyncAPI 3.0 documents of eventscope services: generated, and guarded against drift.

:func:`service_document` builds a service's document from its configuration
(``[asyncapi]`` in ``eventscope.toml``) and its schemas; :func:`to_yaml` writes it the
way ``eventscope asyncapi`` does; :func:`differences` says how a committed document
differs from what the code declares now (the pytest plugin's ``--eventscope-asyncapi``
and ``eventscope asyncapi --check`` use it).  See docs/asyncapi.md.

The names are re-exported lazily (PEP 562): the ``eventscope`` command imports
:mod:`eventscope.asyncapi.command` to register the sub-command, and that must not load
the contract machinery the document is built with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventscope._lazy import lazy_names

if TYPE_CHECKING:
    from eventscope.asyncapi.document import build_document
    from eventscope.asyncapi.drift import differences
    from eventscope.asyncapi.render import read_document, to_yaml
    from eventscope.asyncapi.service import schema_source, service_document

_LAZY = {
    "build_document": "eventscope.asyncapi.document",
    "differences": "eventscope.asyncapi.drift",
    "read_document": "eventscope.asyncapi.render",
    "to_yaml": "eventscope.asyncapi.render",
    "schema_source": "eventscope.asyncapi.service",
    "service_document": "eventscope.asyncapi.service",
}

__getattr__ = lazy_names(__name__, _LAZY)


__all__ = [
    "build_document",
    "differences",
    "read_document",
    "schema_source",
    "service_document",
    "to_yaml",
]
