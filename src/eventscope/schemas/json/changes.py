"""The vocabulary of JSON Schema changes, named as Confluent Schema Registry names them.

A comparison produces a list of :class:`Change` (a ``Difference.Type`` name plus the JSON
path where it happened).  Whether a change breaks readers is not a property of the
comparison but of the policy: the registry's default (``STRICT``) policy treats exactly
the changes in :data:`COMPATIBLE_CHANGES` as safe and every other one as breaking, so
keeping that set in one place keeps the verdicts aligned with the registry's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Changes that cannot break a reader that uses the new schema on data written with the
#: old one, under the registry's default STRICT policy.
COMPATIBLE_CHANGES: frozenset[str] = frozenset(
    {
        "ID_CHANGED",
        "DESCRIPTION_CHANGED",
        "TITLE_CHANGED",
        "DEFAULT_CHANGED",
        "SCHEMA_REMOVED",
        "TYPE_EXTENDED",
        "MAX_LENGTH_INCREASED",
        "MAX_LENGTH_REMOVED",
        "MIN_LENGTH_DECREASED",
        "MIN_LENGTH_REMOVED",
        "PATTERN_REMOVED",
        "MAXIMUM_INCREASED",
        "MAXIMUM_REMOVED",
        "MINIMUM_DECREASED",
        "MINIMUM_REMOVED",
        "EXCLUSIVE_MAXIMUM_INCREASED",
        "EXCLUSIVE_MAXIMUM_REMOVED",
        "EXCLUSIVE_MINIMUM_DECREASED",
        "EXCLUSIVE_MINIMUM_REMOVED",
        "MULTIPLE_OF_REDUCED",
        "MULTIPLE_OF_REMOVED",
        "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED",
        "REQUIRED_ATTRIBUTE_REMOVED",
        "DEPENDENCY_ARRAY_NARROWED",
        "DEPENDENCY_ARRAY_REMOVED",
        "DEPENDENCY_SCHEMA_REMOVED",
        "MAX_PROPERTIES_INCREASED",
        "MAX_PROPERTIES_REMOVED",
        "MIN_PROPERTIES_DECREASED",
        "MIN_PROPERTIES_REMOVED",
        "ADDITIONAL_PROPERTIES_ADDED",
        "ADDITIONAL_PROPERTIES_EXTENDED",
        "UNEVALUATED_PROPERTIES_ADDED",
        "UNEVALUATED_PROPERTIES_EXTENDED",
        "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
        "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "MAX_ITEMS_INCREASED",
        "MAX_ITEMS_REMOVED",
        "MIN_ITEMS_DECREASED",
        "MIN_ITEMS_REMOVED",
        "MAX_CONTAINS_INCREASED",
        "MAX_CONTAINS_REMOVED",
        "MIN_CONTAINS_DECREASED",
        "MIN_CONTAINS_REMOVED",
        "UNIQUE_ITEMS_REMOVED",
        "ADDITIONAL_ITEMS_ADDED",
        "ADDITIONAL_ITEMS_EXTENDED",
        "UNEVALUATED_ITEMS_ADDED",
        "UNEVALUATED_ITEMS_EXTENDED",
        "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL",
        "ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL",
        "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL",
        "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
        "ENUM_ARRAY_EXTENDED",
        "COMBINED_TYPE_EXTENDED",
        "PRODUCT_TYPE_NARROWED",
        "SUM_TYPE_EXTENDED",
        "NOT_TYPE_NARROWED",
    }
)


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two schemas: what changed (``type``) and where (``path``)."""

    type: str
    path: str

    @property
    def compatible(self) -> bool:
        return self.type in COMPATIBLE_CHANGES

    def rebased(self, prefix: str) -> Change:
        """The same change seen from a schema that embeds this one at ``prefix``."""
        if self.path == "#/":
            return Change(self.type, prefix)
        return Change(self.type, f"{prefix}/{self.path[2:]}" if prefix != "#/" else self.path)


def all_compatible(changes: Iterable[Change]) -> bool:
    return all(c.compatible for c in changes)


_KEYWORD_GAINED = {
    "ADDITIONAL_ITEMS_REMOVED",
    "ADDITIONAL_PROPERTIES_REMOVED",
    "UNEVALUATED_PROPERTIES_REMOVED",
    "UNEVALUATED_ITEMS_REMOVED",
}
_NARROWED = {
    "ADDITIONAL_ITEMS_NARROWED",
    "ENUM_ARRAY_NARROWED",
    "SUM_TYPE_NARROWED",
    "ADDITIONAL_PROPERTIES_NARROWED",
    "UNEVALUATED_PROPERTIES_NARROWED",
    "UNEVALUATED_ITEMS_NARROWED",
}
_EXTENDED = {"DEPENDENCY_ARRAY_EXTENDED", "PRODUCT_TYPE_EXTENDED", "NOT_TYPE_EXTENDED"}
_TYPE_CHANGED = {
    "TYPE_CHANGED",
    "TYPE_NARROWED",
    "COMBINED_TYPE_CHANGED",
    "COMBINED_TYPE_SUBSCHEMAS_CHANGED",
    "ENUM_ARRAY_CHANGED",
}
_SPECIFIC = {
    "SCHEMA_ADDED": "a schema was added at {path}, so old data may no longer match it",
    "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL": (
        "required property {path} was added without a default; old data lacks it"
    ),
    "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL": (
        "property {path} was added to an open content model, where old data may already hold "
        "a value of another type under that name"
    ),
    "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL": (
        "property {path} was added to an open content model, where old data may already hold "
        "a value of another type under that name"
    ),
    "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL": (
        "required property {path} was added without a default; old data lacks it"
    ),
    "REQUIRED_ATTRIBUTE_ADDED": (
        "property {path} became required without a default; old data may lack it"
    ),
    "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL": (
        "property {path} was removed from a closed content model, so old data that has it is "
        "rejected"
    ),
    "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL": (
        "property {path} was removed and the new additional/pattern properties schema does "
        "not accept its old values"
    ),
    "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL": (
        "property {path} was added with a schema narrower than the old additional/pattern "
        "properties schema that old data under that name followed"
    ),
    "ITEM_ADDED_TO_OPEN_CONTENT_MODEL": (
        "tuple item {path} was added to an array whose old items were unconstrained"
    ),
    "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL": (
        "tuple item {path} was removed from an array that no longer allows extra items"
    ),
    "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL": (
        "tuple item {path} was removed and the new additional items schema does not accept "
        "its old values"
    ),
    "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL": (
        "tuple item {path} was added with a schema narrower than the old additional items schema"
    ),
    "SUM_TYPE_NARROWED": "{path} offers fewer alternatives (oneOf/anyOf) than before",
    "ENUM_ARRAY_NARROWED": "{path} allows fewer values than before",
    "NOT_TYPE_EXTENDED": "the schema under 'not' at {path} excludes more values than before",
}


def describe(change: Change) -> str:
    """A sentence saying why ``change`` can break readers of old data."""
    path, kind = change.path, change.type
    if kind in _SPECIFIC:
        text = _SPECIFIC[kind].format(path=path)
        return f"{text[0].upper()}{text[1:]}."
    if kind in _NARROWED:
        return f"{path} accepts fewer values or alternatives than before."
    if kind in _EXTENDED:
        return f"{path} has more elements than before, which old data may not satisfy."
    if kind in _TYPE_CHANGED:
        return f"The type at {path} differs from the old schema's, so old data may not match."
    if kind.endswith("_ADDED") or kind in _KEYWORD_GAINED:
        return f"The new schema adds the constraint at {path}, which old data may violate."
    if kind.endswith(("_INCREASED", "_DECREASED", "_EXPANDED")):
        return f"The limit at {path} is tighter than before, so old data may violate it."
    return f"The value at {path} differs from the old schema's, so old data may violate it."
