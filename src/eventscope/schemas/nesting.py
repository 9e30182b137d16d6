"""How deeply a JSON schema document may nest, checked before anything recursive reads it.

The JSON decoder, the Avro parser and resolution, the JSON Schema meta-schema
validation and loaders all recurse once (or a few times) per level of nesting, so a
document nested thousands of levels deep would end in Python's ``RecursionError``
somewhere inside them.  Rather than raise the process-wide recursion limit (which
would change every other thread's behaviour while a check runs), a document deeper
than :data:`MAX_NESTING` is refused up front, with the place where it crosses the
limit, as a :class:`~eventscope.schemas.errors.SchemaParseError` like any other invalid
schema.

Depth counts JSON containers: ``{"type": "array", "items": "int"}`` is depth 1, and
each nested Avro record costs three levels (the record object, its ``fields`` list,
the field object).  The limit leaves the recursive code ample stack at Python's default
recursion limit of 1,000, even when the check runs deep inside a test framework.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from eventscope.schemas.errors import SchemaParseError

#: The deepest nesting of JSON objects and arrays a schema document may have.
MAX_NESTING = 100

# Strings first, so brackets inside them are skipped whole; then every bracket.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset("[{")
_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEPS = {"[": 1, "{": 1, "]": -1, "}": -1}


def check_text_nesting(text: str, source: str | None = None) -> None:
    """Raise :class:`SchemaParseError` at the first bracket nested deeper than the limit.

    Linear in the text; a document with fewer brackets than the limit is not scanned.
    Malformed JSON is left to the JSON decoder to report.
    """
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return
    brackets = _NOT_BRACKETS.sub("", _STRINGS.sub("", text))
    if max(accumulate(map(_STEPS.__getitem__, brackets)), default=0) <= MAX_NESTING:
        return  # the usual case, decided by C loops; the scan below finds the place
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in _OPENERS:
            depth += 1
            if depth > MAX_NESTING:
                raise _too_deep(_line_column(text, match.start()), source)
        elif token[0] != '"':
            depth -= 1


def check_value_nesting(value: Any, source: str | None = None) -> None:
    """The same limit for an already-decoded JSON value, walked without recursion.

    The error names the JSON path of the first container past the limit.
    """
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 0, ())]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, dict):
            children: Any = node.items()
        elif isinstance(node, list | tuple):
            children = enumerate(node)
        else:
            continue
        if depth + 1 > MAX_NESTING:
            raise _too_deep(_json_path(path), source)
        for key, child in children:
            if isinstance(child, dict | list | tuple):
                stack.append((child, depth + 1, (*path, key)))


def _too_deep(location: str, source: str | None) -> SchemaParseError:
    return SchemaParseError(
        f"nested deeper than {MAX_NESTING} levels of JSON objects and arrays, the "
        "checker's limit (see docs/schemas.md)",
        location=location,
        source=source,
    )


def _line_column(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return f"line {line}, column {column}"


def _json_path(path: tuple[str | int, ...]) -> str:
    out = "$"
    for segment in path:
        out += f"[{segment}]" if isinstance(segment, int) else f".{segment}"
    return out
