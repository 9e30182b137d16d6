"""Remembering Avro verdicts across comparisons, keyed by what resolution looks at.

A transitive check compares the newest schema with every older version, and versions
of one subject mostly repeat each other: the same ``Money`` record, the same
``["null", "string"]`` field type, hundreds of times.  Identity cannot see that (each
version is parsed into its own objects), so each type gets a *fingerprint*: a digest
of exactly the attributes schema resolution depends on — kind, full name, aliases,
field names, aliases and whether they have defaults, enum symbols and default, fixed
size, and the fingerprints of the types inside.  Documentation, field default values,
logical types and other properties are left out because resolution ignores them.

Two types with equal fingerprints resolve identically, so a reader/writer pair of
fingerprints once found compatible is compatible wherever it appears again.  Only
compatible verdicts are remembered: they carry no locations, while an incompatible
pair is recomputed where it is met so its problems are reported at their own place.
Recursive types get no fingerprint (their verdict can depend on what is being
compared around them) and are always compared afresh.
"""

from __future__ import annotations

import hashlib
import threading

from eventscope.schemas.avro.model import PRIMITIVES, AvroType

#: Stored for a type that is, or contains, a recursive named type.
_RECURSIVE = ""

#: Known-compatible (reader, writer) fingerprint pairs shared by every comparison in
#: the process; emptied when full, which only costs recomputation.  The checker's inner
#: loop tests ``(reader.fingerprint_cache, writer.fingerprint_cache)`` against it
#: directly: a pair with a missing fingerprint is simply not found.
COMPATIBLE_PAIRS: set[tuple[str, str]] = set()
_COMPATIBLE_LIMIT = 200_000
_LOCK = threading.Lock()


def fingerprint(node: AvroType) -> str | None:
    """The node's fingerprint, or ``None`` for a recursive type (computed once per node)."""
    known = node.fingerprint_cache
    if known is None:
        known = _compute(node, set())
    return known or None


def known_compatible(reader: AvroType, writer: AvroType) -> bool:
    """Whether this pair's fingerprints were already found compatible."""
    r, w = fingerprint(reader), fingerprint(writer)
    return r is not None and w is not None and (r, w) in COMPATIBLE_PAIRS


def remember_compatible(reader: AvroType, writer: AvroType) -> None:
    r, w = fingerprint(reader), fingerprint(writer)
    if r is None or w is None:
        return
    with _LOCK:
        if len(COMPATIBLE_PAIRS) >= _COMPATIBLE_LIMIT:
            COMPATIBLE_PAIRS.clear()
        COMPATIBLE_PAIRS.add((r, w))


def forget() -> None:
    """Drop every remembered verdict (fingerprints stay with their parsed schemas)."""
    with _LOCK:
        COMPATIBLE_PAIRS.clear()


def _compute(node: AvroType, open_names: set[int]) -> str:
    """Fingerprint ``node``; ``open_names`` holds the named types being fingerprinted.

    The digest is taken over a text whose separators cannot occur in the parts: names,
    aliases and symbols are Avro names (letters, digits, ``_`` and ``.``), and inner
    fingerprints are primitive names or hex digests.
    """
    known = node.fingerprint_cache
    if known is not None:
        return known
    kind = node.kind
    if kind in PRIMITIVES:
        node.fingerprint_cache = kind
        return kind
    if node.name is not None:
        if id(node) in open_names:
            return _RECURSIVE  # a use of a type from inside itself: not stored here
        open_names.add(id(node))
    parts = [kind, node.name or "", ",".join(sorted(node.aliases))]
    recursive = False
    if kind == "record":
        for f in node.fields:
            inner = _compute(f.type, open_names)
            if inner == _RECURSIVE:
                recursive = True
                break
            parts.append(f"{f.name}/{','.join(f.aliases)}/{int(f.has_default)}/{inner}")
    elif kind == "enum":
        parts += [",".join(node.symbols), node.enum_default or ""]
    elif kind == "fixed":
        parts.append(str(node.size))
    else:  # array, map, union
        children = node.branches if kind == "union" else (node.element,)
        for child in children:
            assert child is not None, "the parser sets element for arrays and maps"
            inner = _compute(child, open_names)
            if inner == _RECURSIVE:
                recursive = True
                break
            parts.append(inner)
    if node.name is not None:
        open_names.discard(id(node))
    result = _RECURSIVE if recursive else _digest("|".join(parts))
    node.fingerprint_cache = result
    return result


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
