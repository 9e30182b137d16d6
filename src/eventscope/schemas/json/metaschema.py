"""Is a document a valid schema of its draft?  Fast when it is, worded as before when not.

:mod:`jsonschema` is the reference here: its first error is what a user sees.  But it
validates a large schema slowly — a 10 MB document of 68,500 property schemas took
about 20 s, nearly all of it descending the meta-schema — so a valid document (the
usual case) is first confirmed by ``jsonschema-rs``, a compiled validator of the same
specifications, in milliseconds.  Only when that says "invalid", or when a ``pattern``
would not compile as a Python regular expression (the one format :mod:`jsonschema`
checks in the meta-schemas, which the fast check leaves out), does :mod:`jsonschema`
run, so every verdict on an invalid schema and every message stay exactly its own.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jsonschema_rs
from jsonschema import (
    Draft4Validator,
    Draft6Validator,
    Draft7Validator,
    Draft201909Validator,
    Draft202012Validator,
)
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from eventscope.schemas.errors import SchemaParseError
from eventscope.schemas.json.loader import json_path

# Chosen by the registry's URL list rather than jsonschema's ``validator_for``: the two
# disagree on some URLs (``https://json-schema.org/draft-07/schema``, draft 3), and the
# draft that decides how the schema is *compared* must also decide how it is validated.
VALIDATORS = {
    "draft4": Draft4Validator,
    "draft6": Draft6Validator,
    "draft7": Draft7Validator,
    "draft2019-09": Draft201909Validator,
    "draft2020-12": Draft202012Validator,
}


def check_against_metaschema(raw: Any, draft: str) -> None:
    """What ``Validator.check_schema`` does, with one meta-schema validator per draft.

    The first error is reported, as ``check_schema`` reports it.
    """
    if _fast_validator(draft).is_valid(raw) and _patterns_compile(raw):
        return
    error = next(_reference_validator(draft).iter_errors(raw), None)
    if error is not None:
        raise SchemaParseError(
            f"not a valid {draft} schema: {error.message}",
            location=json_path(tuple(error.absolute_path)),
        )


def reference_verdict(raw: Any, draft: str) -> bool:
    """:mod:`jsonschema`'s verdict alone (for tests that hold the fast path to it)."""
    return _reference_validator(draft).is_valid(raw)


@cache
def _reference_validator(draft: str) -> Validator:
    """The validator ``check_schema`` would build for ``draft``'s meta-schema, built once."""
    meta_schema = VALIDATORS[draft].META_SCHEMA
    checker_class = validator_for(meta_schema, default=VALIDATORS[draft])
    return checker_class(meta_schema, format_checker=checker_class.FORMAT_CHECKER)


@cache
def _fast_validator(draft: str) -> Any:
    return jsonschema_rs.validator_for(VALIDATORS[draft].META_SCHEMA, validate_formats=False)


def _patterns_compile(raw: Any) -> bool:
    """Whether every ``pattern`` and ``patternProperties`` key compiles in Python.

    Looks at every object, keyword or not: a false alarm (a property called
    ``pattern``) only sends the document to the reference validator.
    """
    stack, seen = [raw], set()
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(node.values())
        patterns = node.get("patternProperties")
        candidates = [node.get("pattern"), *(patterns if isinstance(patterns, dict) else ())]
        for pattern in candidates:
            if isinstance(pattern, str) and pattern not in seen:
                try:
                    re.compile(pattern)
                except (re.error, RecursionError, OverflowError):
                    return False
                seen.add(pattern)
    return True
