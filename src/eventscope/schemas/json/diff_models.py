"""Object and array rules: what adding or removing a property or tuple item means.

Whether a new property breaks old data depends on the *content model* of the schema
the data was written with:

* **open** (no ``additionalProperties``/``unevaluatedProperties`` restriction, no
  ``patternProperties``): old data may already hold *anything* under the new name, so
  only a property that accepts anything (``{}``) is safe to add, while removing one is
  always safe;
* **closed** (``additionalProperties: false``): old data cannot hold the new name, so
  adding is safe, but removing a property rejects old data that has it;
* **partially open** (a schema for extra properties, or a matching pattern): safe iff the
  new property's schema accepts what the old catch-all accepted (and vice versa for
  removal).

Tuple items of arrays (``items`` as a list / ``prefixItems``) follow the same logic with
``additionalItems`` / ``items`` / ``unevaluatedItems`` as the catch-all.
"""

from __future__ import annotations

import re

from eventscope.schemas.json.diff_context import Ctx, compare_bound
from eventscope.schemas.json.nodes import ArrayNode, EmptyNode, FalseNode, Node, ObjectNode


def compare_models(ctx: Ctx, original: Node, update: Node) -> None:
    if isinstance(original, ObjectNode) and isinstance(update, ObjectNode):
        _compare_required(ctx, original, update)
        _compare_properties(ctx, original, update)
        _compare_dependencies(ctx, original, update)
        _compare_extra(ctx, "additionalProperties", "ADDITIONAL_PROPERTIES", original, update)
        _compare_unevaluated(
            ctx,
            "unevaluatedProperties",
            "UNEVALUATED_PROPERTIES",
            original.unevaluated,
            update.unevaluated,
        )
        compare_bound(
            ctx, "maxProperties", "MAX_PROPERTIES", original.max_properties, update.max_properties
        )
        compare_bound(
            ctx, "minProperties", "MIN_PROPERTIES", original.min_properties, update.min_properties
        )
    elif isinstance(original, ArrayNode) and isinstance(update, ArrayNode):
        with ctx.at("items"):
            ctx.compare(original.all_items, update.all_items)
        _compare_tuple_items(ctx, original, update)
        _compare_extra(ctx, "additionalItems", "ADDITIONAL_ITEMS", original, update)
        _compare_unevaluated(
            ctx, "unevaluatedItems", "UNEVALUATED_ITEMS", original.unevaluated, update.unevaluated
        )
        _compare_array_limits(ctx, original, update)


def _is_catch_all(node: Node | None) -> bool:
    return node is None or isinstance(node, EmptyNode)


def is_open(model: ObjectNode | ArrayNode) -> bool:
    """True when anything may appear beyond the declared properties / tuple items."""
    if not model.additional_allowed or model.additional_schema is not None:
        return False
    if isinstance(model, ObjectNode) and model.pattern_properties:
        return False
    return _is_catch_all(model.unevaluated)


def partial_schema(model: ObjectNode | ArrayNode, name: str | None = None) -> Node | None:
    """The schema extra properties (named ``name``) or items must follow, if any."""
    if isinstance(model, ObjectNode) and name is not None:
        for pattern, schema in model.pattern_properties:
            if _matches(pattern, name):
                return schema
    if model.additional_schema is not None:
        return model.additional_schema
    uneval = model.unevaluated
    if model.additional_allowed and not _is_catch_all(uneval) and not isinstance(uneval, FalseNode):
        return uneval
    return None


def _matches(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return False


def _compare_required(ctx: Ctx, original: ObjectNode, update: ObjectNode) -> None:
    for name in original.properties:
        if name not in update.properties:
            continue
        was, now = name in original.required_names, name in update.required_names
        if was and not now:
            ctx.add("REQUIRED_ATTRIBUTE_REMOVED", "required", name)
        elif now and not was:
            ctx.add(
                "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"
                if update.properties[name].has_default
                else "REQUIRED_ATTRIBUTE_ADDED",
                "required",
                name,
            )


def _compare_properties(ctx: Ctx, original: ObjectNode, update: ObjectNode) -> None:
    names = list(original.properties) + [
        n for n in update.properties if n not in original.properties
    ]
    for name in names:
        with ctx.at("properties", name):
            old, new = original.properties.get(name), update.properties.get(name)
            if new is None:
                _property_removed(ctx, update, name, old)
            elif old is None:
                _property_added(ctx, original, update, name, new)
            else:
                ctx.compare(old, new)


def _property_removed(ctx: Ctx, update: ObjectNode, name: str, old: Node | None) -> None:
    if is_open(update):
        ctx.add("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL")
        return
    catch_all = partial_schema(update, name)
    if catch_all is not None:
        _covered(ctx, old, catch_all, "PROPERTY_REMOVED")
    elif isinstance(old, FalseNode):
        ctx.add("PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
    else:
        ctx.add("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL")


def _property_added(
    ctx: Ctx, original: ObjectNode, update: ObjectNode, name: str, new: Node
) -> None:
    required = name in update.required_names
    if is_open(original):
        if isinstance(new, EmptyNode):
            ctx.add("PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL")
        elif required and not new.has_default:
            ctx.add("REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
        elif required:
            ctx.add("REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL")
        else:
            ctx.add("OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
        return
    catch_all = partial_schema(original, name)
    if catch_all is not None:
        _covered(ctx, catch_all, new, "PROPERTY_ADDED")
    if not required:
        ctx.add("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")
    elif new.has_default:
        ctx.add("REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL")
    else:
        ctx.add("REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")


def _covered(ctx: Ctx, old: Node | None, new: Node | None, what: str) -> None:
    """Compare a declared schema with the catch-all that takes (or took) its place."""
    trial = ctx.sub()
    trial.compare(old, new)
    ctx.extend(trial.changes)
    coverage = "IS_COVERED" if trial.compatible else "NOT_COVERED"
    ctx.add(f"{what}_{coverage}_BY_PARTIALLY_OPEN_CONTENT_MODEL")


def _compare_dependencies(ctx: Ctx, original: ObjectNode, update: ObjectNode) -> None:
    old_deps, new_deps = original.property_dependencies, update.property_dependencies
    for name in list(old_deps) + [n for n in new_deps if n not in old_deps]:
        old, new = old_deps.get(name), new_deps.get(name)
        if new is None:
            ctx.add("DEPENDENCY_ARRAY_REMOVED", "dependencies", name)
        elif old is None:
            ctx.add("DEPENDENCY_ARRAY_ADDED", "dependencies", name)
        elif old != new:
            kind = "EXTENDED" if new > old else "NARROWED" if new < old else "CHANGED"
            ctx.add(f"DEPENDENCY_ARRAY_{kind}", "dependencies", name)
    old_schemas, new_schemas = original.schema_dependencies, update.schema_dependencies
    for name in list(old_schemas) + [n for n in new_schemas if n not in old_schemas]:
        old_schema, new_schema = old_schemas.get(name), new_schemas.get(name)
        if new_schema is None:
            ctx.add("DEPENDENCY_SCHEMA_REMOVED", "dependencies", name)
        elif old_schema is None:
            ctx.add("DEPENDENCY_SCHEMA_ADDED", "dependencies", name)
        else:
            with ctx.at("dependencies", name):
                ctx.compare(old_schema, new_schema)


def _compare_extra(
    ctx: Ctx,
    keyword: str,
    name: str,
    original: ObjectNode | ArrayNode,
    update: ObjectNode | ArrayNode,
) -> None:
    """``additionalProperties`` / ``additionalItems``: allowed, forbidden or a schema."""
    with ctx.at(keyword):
        if original.additional_allowed != update.additional_allowed:
            ctx.add(f"{name}_ADDED" if update.additional_allowed else f"{name}_REMOVED")
        elif original.additional_schema is None and update.additional_schema is not None:
            ctx.add(f"{name}_NARROWED")
        elif original.additional_schema is not None and update.additional_schema is None:
            ctx.add(f"{name}_EXTENDED")
        elif original.additional_schema is not None:
            ctx.compare(original.additional_schema, update.additional_schema)


def _compare_unevaluated(
    ctx: Ctx, keyword: str, name: str, old: Node | None, new: Node | None
) -> None:
    """``unevaluatedProperties`` / ``unevaluatedItems`` (2019-09 and later)."""
    if old is None and new is None:
        return
    with ctx.at(keyword):
        old_false, new_false = isinstance(old, FalseNode), isinstance(new, FalseNode)
        if old_false != new_false:
            ctx.add(f"{name}_REMOVED" if new_false else f"{name}_ADDED")
        elif old_false:
            return
        elif old is None:
            ctx.add(f"{name}_NARROWED")
        elif new is None:
            ctx.add(f"{name}_EXTENDED")
        elif isinstance(old, EmptyNode) != isinstance(new, EmptyNode):
            ctx.add(f"{name}_EXTENDED" if isinstance(new, EmptyNode) else f"{name}_NARROWED")
        else:
            ctx.compare(old, new)


def _compare_tuple_items(ctx: Ctx, original: ArrayNode, update: ArrayNode) -> None:
    olds, news = original.item_schemas, update.item_schemas
    for index in range(max(len(olds), len(news))):
        with ctx.at(f"items/{index}"):
            if index < len(olds) and index < len(news):
                ctx.compare(olds[index], news[index])
            elif index < len(olds):
                _item_removed(ctx, update, olds[index])
            else:
                _item_added(ctx, original, news[index])


def _item_removed(ctx: Ctx, update: ArrayNode, old: Node) -> None:
    if is_open(update):
        ctx.add("ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL")
        return
    catch_all = partial_schema(update)
    if catch_all is not None:
        _covered(ctx, old, catch_all, "ITEM_REMOVED")
    elif isinstance(old, FalseNode):
        ctx.add("ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
    else:
        ctx.add("ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL")


def _item_added(ctx: Ctx, original: ArrayNode, new: Node) -> None:
    if is_open(original):
        ctx.add(
            "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
            if isinstance(new, EmptyNode)
            else "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"
        )
        return
    catch_all = partial_schema(original)
    if catch_all is not None:
        _covered(ctx, catch_all, new, "ITEM_ADDED")
    else:
        ctx.add("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL")


def _compare_array_limits(ctx: Ctx, original: ArrayNode, update: ArrayNode) -> None:
    compare_bound(ctx, "maxItems", "MAX_ITEMS", original.max_items, update.max_items)
    compare_bound(ctx, "minItems", "MIN_ITEMS", original.min_items, update.min_items)
    if original.unique_items != update.unique_items:
        ctx.add(
            "UNIQUE_ITEMS_REMOVED" if original.unique_items else "UNIQUE_ITEMS_ADDED", "uniqueItems"
        )
    compare_bound(ctx, "maxContains", "MAX_CONTAINS", original.max_contains, update.max_contains)
    compare_bound(ctx, "minContains", "MIN_CONTAINS", original.min_contains, update.min_contains)
