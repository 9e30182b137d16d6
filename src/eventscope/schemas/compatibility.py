"""Compatibility verdicts with Confluent Schema Registry's meaning of each mode.

Every format module (found through the formats table, :mod:`.formats`) answers one
question: can consumers that use ``new`` read data written with ``old``
(``backward_incompatibilities(new, old)``)?  The seven modes are
combinations of that question, asked in one or both directions, against the latest
previous version only or against all of them — exactly how the registry composes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eventscope.schemas.errors import SchemaParseError
from eventscope.schemas.formats import FormatModule, format_module
from eventscope.schemas.verdicts import CompatibilityResult, Incompatibility, Mode

#: A schema as text, as parsed JSON, or as its format module's parsed form.
SchemaInput = str | Mapping[str, Any] | Any


def check_compatibility(
    candidate: SchemaInput,
    previous: Sequence[SchemaInput],
    *,
    format: str,
    mode: Mode | str = Mode.BACKWARD,
    references: Mapping[str, str] | None = None,
) -> CompatibilityResult:
    """Check ``candidate`` against ``previous`` (oldest first) under ``mode``.

    Schemas may be given as text or already parsed.  Raises
    :class:`~eventscope.schemas.errors.SchemaParseError` for a schema that is not valid
    in its format, naming the schema (``candidate`` or ``previous[i]``) and where.
    """
    mode = Mode(str(mode).upper())
    module = format_module(format)
    new = _parse(module, candidate, "candidate", references)
    if mode is Mode.NONE or not previous:
        return CompatibilityResult(mode, format)
    olds = [_parse(module, s, f"previous[{i}]", references) for i, s in enumerate(previous)]
    indexed = list(enumerate(olds, start=1))
    targets = indexed if mode.transitive else indexed[-1:]
    found: list[Incompatibility] = []
    for version, old in reversed(targets):
        if mode.checks_backward:
            found += _tag(module.backward_incompatibilities(new, old), "backward", version)
        if mode.checks_forward:
            found += _tag(module.backward_incompatibilities(old, new), "forward", version)
    return CompatibilityResult(mode, format, tuple(found))


def _parse(
    module: FormatModule, schema: SchemaInput, name: str, references: Mapping[str, str] | None
) -> Any:
    if module.is_parsed(schema):
        return schema
    try:
        return module.parse(schema, references=references)
    except SchemaParseError as exc:
        raise exc.within(name) from None


def _tag(items: list[Incompatibility], direction: str, version: int) -> list[Incompatibility]:
    return [Incompatibility(i.type, i.location, i.message, direction, version) for i in items]
