"""JSON Schema for :func:`eventscope.schemas.check_compatibility`, with the registry's verdicts.

What the formats table needs from a format: :func:`parse`, :func:`is_parsed` and
:func:`backward_incompatibilities` (in :mod:`.checker`), plus the parsed type and the
draft detection the registry applies.  Behind them: loading documents into comparison
trees (:mod:`.loader`, :mod:`.loader_legacy`, :mod:`.loader_modern`, :mod:`.nodes`) and
the structural diff (:mod:`.diff`, :mod:`.diff_models`, :mod:`.diff_context`,
:mod:`.changes`).

The package shares its name with the standard library's :mod:`json`; every import in
eventscope is absolute, so ``import json`` anywhere (this package included) still means
the standard library.
"""

from eventscope.schemas.json.checker import (
    JsonSchema,
    backward_incompatibilities,
    detect_draft,
    is_parsed,
    parse,
)

__all__ = ["JsonSchema", "backward_incompatibilities", "detect_draft", "is_parsed", "parse"]
