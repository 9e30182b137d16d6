"""Compare two JSON Schema trees the way Confluent Schema Registry does.

``differences(original, update)`` lists every :class:`~.changes.Change` between the
schema data was written with (``original``) and the one it will be read with
(``update``); the change is backward compatible iff each one is in
:data:`~.changes.COMPATIBLE_CHANGES`.  This module holds the dispatch — references,
type changes, unions and intersections, ``not``, ``enum``/``const`` and the scalar
bounds — while :mod:`~.diff_models` handles objects and arrays, whose verdicts
hinge on open, closed and partially open content models.

Recursive schemas make the comparison a graph walk.  Each (original, update) pair of
nodes is compared once and remembered; meeting a pair again while it is still being
compared is a cycle, which is first assumed compatible.  Because that assumption can be
wrong, the whole comparison is repeated with the pairs found incompatible fed back in,
until a pass confirms its own assumptions (a greatest fixed point) — otherwise a cached
"compatible" could hide a real break deep inside a recursive ``oneOf``.

The walk keeps its own stack instead of Python's: comparing a pair runs the rules for
that pair alone, and a nested pair not compared yet is noted as a dependency (taken as
compatible for the moment) and compared first; then the pair's rules run again with
every answer known.  So a schema nested or recursive to any depth is compared at
Python's default recursion limit, and nothing process-wide is changed.
"""

from __future__ import annotations

from decimal import Decimal

from eventscope.schemas.json import diff_models
from eventscope.schemas.json.changes import Change, all_compatible
from eventscope.schemas.json.diff_context import (
    Ctx,
    PairKey,
    Run,
    canonical,
    compare_bound,
    same_value,
)
from eventscope.schemas.json.nodes import (
    CombinedNode,
    ConstNode,
    EmptyNode,
    EnumNode,
    FalseNode,
    Node,
    NotNode,
    NumberNode,
    RefNode,
    StringNode,
    resolve,
)


def differences(original: Node, update: Node) -> list[Change]:
    """Every change from ``original`` to ``update``, iterated to a sound fixed point."""
    original, update = resolve(original), resolve(update)
    seed: dict[PairKey, tuple[Change, ...]] = {}
    while True:
        run = Run(seed, compare, _pair_compatible)
        changes = _evaluate(run, original, update)
        found = run.incompatible_pairs()
        if not run.assumed_cycle_compatible or found.keys() == seed.keys():
            return list(changes)
        seed = found


def compare(ctx: Ctx, original: Node | None, update: Node | None) -> None:
    """Compare two (possibly absent) subschemas at ``ctx``'s path, following ``$ref``."""
    if original is None or update is None:
        if original is not None:
            ctx.add("SCHEMA_REMOVED")
        elif update is not None:
            ctx.add("SCHEMA_ADDED")
        return
    prefix = ctx.where()
    ctx.extend([c.rebased(prefix) for c in _pair_changes(ctx.run, original, update)])


def _pair_changes(run: Run, original: Node, update: Node) -> tuple[Change, ...]:
    """Changes for one pair of nodes, relative to the pair (paths start at ``#/``).

    Called while another pair's rules run: an answer not known yet is a dependency
    of that pair, noted for :func:`_evaluate` and taken as "no changes" meanwhile.
    """
    if type(original) is RefNode:
        original = resolve(original)
    if type(update) is RefNode:
        update = resolve(update)
    key = (id(original), id(update))
    known = run.memo.get(key)
    if known is not None:
        return known
    if key in run.in_progress:
        if key in run.seed:
            return run.seed[key]
        run.assumed_here = True
        return ()
    run.missing.append((original, update))
    return ()


def _pair_compatible(run: Run, original: Node | None, update: Node | None) -> bool:
    """Whether comparing the pair adds only compatible changes (see :func:`compare`)."""
    if original is None or update is None:
        return update is None  # nothing, or a removed schema: compatible; an added one not
    if type(original) is RefNode:
        original = resolve(original)
    if type(update) is RefNode:
        update = resolve(update)
    key = (id(original), id(update))
    known = run.verdicts.get(key)
    if known is not None:
        return known
    if key in run.in_progress:  # a cycle: as _pair_changes would answer (seeds break)
        if key in run.seed:
            return False
        run.assumed_here = True
        return True
    run.missing.append((original, update))
    return True


def _evaluate(run: Run, original: Node, update: Node) -> tuple[Change, ...]:
    """Compare a pair and, first, every pair it depends on, with an explicit stack.

    A pair on the stack is "in progress" once its rules have run: meeting it again from
    a pair above it is a cycle.  Pairs it depends on are pushed above it; when they are
    all known its rules run again and their result is final.
    """
    stack = [(original, update)]
    while stack:
        old, new = stack[-1]
        key = (id(old), id(new))
        if key in run.memo:
            stack.pop()
            continue
        run.in_progress.add(key)
        run.missing, run.assumed_here = [], False
        ctx = Ctx(run)
        _compare_nodes(ctx, old, new)
        waiting = [
            pair for pair in run.missing if (id(pair[0]), id(pair[1])) not in run.in_progress
        ]
        if waiting:
            stack.extend(reversed(waiting))
            continue
        stack.pop()
        run.in_progress.discard(key)
        run.memo[key] = changes = tuple(ctx.changes)
        run.verdicts[key] = all_compatible(changes)
        run.assumed_cycle_compatible |= run.assumed_here
    return run.memo[(id(original), id(update))]


def _compare_nodes(ctx: Ctx, original: Node, update: Node) -> None:
    if _compare_against_union(ctx, original, update):
        return
    if not _same_kind(original, update):
        if isinstance(original, FalseNode) or isinstance(update, EmptyNode):
            return
        if original.connect_type == "bytes" == update.connect_type:
            # Kafka Connect decimals moved between string and number encodings; the
            # registry accepts that move for schemas it marks as bytes.
            return
        ctx.add("TYPE_CHANGED")
        return
    for attribute, change_type in (
        ("id", "ID_CHANGED"),
        ("title", "TITLE_CHANGED"),
        ("description", "DESCRIPTION_CHANGED"),
    ):
        if getattr(original, attribute) != getattr(update, attribute):
            ctx.add(change_type)
    if original.has_default != update.has_default or not same_value(
        original.default, update.default
    ):
        ctx.add("DEFAULT_CHANGED")
    _compare_same_kind(ctx, original, update)


def _compare_same_kind(ctx: Ctx, original: Node, update: Node) -> None:
    if isinstance(original, StringNode) and isinstance(update, StringNode):
        _compare_strings(ctx, original, update)
    elif isinstance(original, NumberNode) and isinstance(update, NumberNode):
        _compare_numbers(ctx, original, update)
    elif isinstance(original, ConstNode) and isinstance(update, ConstNode):
        if not same_value(original.value, update.value):
            ctx.add("ENUM_ARRAY_CHANGED", "const")
    elif isinstance(original, EnumNode) and isinstance(update, EnumNode):
        _compare_enums(ctx, original, update)
    elif isinstance(original, CombinedNode) and isinstance(update, CombinedNode):
        _compare_combined(ctx, original, update)
    elif isinstance(original, NotNode) and isinstance(update, NotNode):
        with ctx.at("not"):
            # Whatever the old 'not' excluded must still be excluded: compare reversed.
            narrowed = ctx.compatible_with(update.inner, original.inner)
            ctx.add("NOT_TYPE_NARROWED" if narrowed else "NOT_TYPE_EXTENDED")
    else:
        diff_models.compare_models(ctx, original, update)


def _same_kind(original: Node, update: Node) -> bool:
    return type(original) is type(update) or (
        isinstance(original, CombinedNode) and isinstance(update, CombinedNode)
    )


def _compare_against_union(ctx: Ctx, original: Node, update: Node) -> bool:
    """A plain schema that became (or came from) a union: is one branch enough?

    Widening to an ``anyOf``/``oneOf`` is fine if the old schema fits one branch; an
    old ``allOf`` can become one of its parts; a single-branch union is that branch.
    """
    if isinstance(update, CombinedNode) and not isinstance(original, CombinedNode):
        trials = [(original, branch) for branch in update.subschemas]
        widening, marker = update.criterion in ("anyOf", "oneOf"), "SUM_TYPE_EXTENDED"
    elif isinstance(original, CombinedNode) and not isinstance(update, CombinedNode):
        trials = [(branch, update) for branch in original.subschemas]
        widening, marker = original.criterion == "allOf", "PRODUCT_TYPE_NARROWED"
    else:
        return False
    if len(trials) != 1 and not widening:
        return False
    for old, new in trials:
        if ctx.compatible_with(old, new):
            ctx.compare(old, new)
            if len(trials) != 1:
                ctx.add(marker)
            return True
    return False


def _compare_combined(ctx: Ctx, original: CombinedNode, update: CombinedNode) -> None:
    criterion_change = _criterion_change(original, update)
    if criterion_change:
        ctx.add(criterion_change)
        if criterion_change == "COMBINED_TYPE_CHANGED":
            return
    olds, news = _distinct(original.subschemas), _distinct(update.subschemas)
    if len(olds) < len(news):
        ctx.add("PRODUCT_TYPE_EXTENDED" if update.criterion == "allOf" else "SUM_TYPE_EXTENDED")
    elif len(olds) > len(news):
        ctx.add("PRODUCT_TYPE_NARROWED" if original.criterion == "allOf" else "SUM_TYPE_NARROWED")
    olds, news = [resolve(n) for n in olds], [resolve(n) for n in news]
    matching = max_matching(_compatible_edges(ctx, olds, news), len(olds))
    for i, j in matching:
        with ctx.at(f"{original.criterion}/{i}"):
            ctx.compare(olds[i], news[j])
    if len(matching) < min(len(olds), len(news)):
        ctx.add("COMBINED_TYPE_SUBSCHEMAS_CHANGED")


def _compatible_edges(ctx: Ctx, olds: list[Node], news: list[Node]) -> list[tuple[int, int]]:
    """Which old subschema each new one could stand in for (resolved nodes).

    Every old/new pair is tried, so recursive unions make this the hottest loop of a
    comparison: answers already known are read straight from the run's verdicts.
    """
    verdicts = ctx.run.verdicts
    edges = []
    for i, old in enumerate(olds):
        old_id = id(old)
        for j, new in enumerate(news):
            fits = verdicts.get((old_id, id(new)))
            if fits is None:
                fits = ctx.compatible_with(old, new)
            if fits:
                edges.append((i, j))
    return edges


def _criterion_change(original: CombinedNode, update: CombinedNode) -> str | None:
    old, new = original.criterion, update.criterion
    if old == new:
        return None
    single_old, single_new = len(original.subschemas) == 1, len(update.subschemas) == 1
    if (
        new == "anyOf"
        or (single_old and (single_new or new == "oneOf"))
        or (single_new and old == "allOf")
    ):
        return "COMBINED_TYPE_EXTENDED"
    return "COMBINED_TYPE_CHANGED"


def _distinct(nodes: list[Node]) -> list[Node]:
    seen: dict[str, Node] = {}
    for node in nodes:
        seen.setdefault(node.key, node)
    return list(seen.values())


def max_matching(edges: list[tuple[int, int]], left_size: int) -> list[tuple[int, int]]:
    """A maximum-cardinality matching of a bipartite graph (augmenting paths).

    Each augmenting path is searched depth first with an explicit stack, so a
    ``oneOf`` of thousands of branches does not exhaust Python's recursion limit.
    """
    neighbours: dict[int, list[int]] = {i: [] for i in range(left_size)}
    for i, j in edges:
        neighbours[i].append(j)
    owner: dict[int, int] = {}
    for root in range(left_size):
        visited: set[int] = set()
        stack = [(root, iter(neighbours[root]))]
        path: list[tuple[int, int]] = []  # the (left, right) edges leading to stack[-1]
        while stack:
            i, options = stack[-1]
            for j in options:
                if j in visited:
                    continue
                visited.add(j)
                if j not in owner:  # a free right vertex: flip the path onto it
                    for left, right in (*path, (i, j)):
                        owner[right] = left
                    stack.clear()
                else:
                    path.append((i, j))
                    stack.append((owner[j], iter(neighbours[owner[j]])))
                break
            else:
                stack.pop()
                if path:
                    path.pop()
    return sorted((i, j) for j, i in owner.items())


def _compare_enums(ctx: Ctx, original: EnumNode, update: EnumNode) -> None:
    old = {canonical(v) for v in original.values}
    new = {canonical(v) for v in update.values}
    if old == new:
        return
    if new >= old:
        ctx.add("ENUM_ARRAY_EXTENDED", "enum")
    elif old >= new:
        ctx.add("ENUM_ARRAY_NARROWED", "enum")
    else:
        ctx.add("ENUM_ARRAY_CHANGED", "enum")


def _compare_strings(ctx: Ctx, original: StringNode, update: StringNode) -> None:
    compare_bound(ctx, "maxLength", "MAX_LENGTH", original.max_length, update.max_length)
    compare_bound(ctx, "minLength", "MIN_LENGTH", original.min_length, update.min_length)
    if original.pattern is None and update.pattern is not None:
        ctx.add("PATTERN_ADDED", "pattern")
    elif original.pattern is not None and update.pattern is None:
        ctx.add("PATTERN_REMOVED", "pattern")
    elif original.pattern != update.pattern:
        ctx.add("PATTERN_CHANGED", "pattern")


def _compare_numbers(ctx: Ctx, original: NumberNode, update: NumberNode) -> None:
    for keyword, name, attribute in (
        ("maximum", "MAXIMUM", "maximum"),
        ("minimum", "MINIMUM", "minimum"),
        ("exclusiveMaximum", "EXCLUSIVE_MAXIMUM", "exclusive_maximum"),
        ("exclusiveMinimum", "EXCLUSIVE_MINIMUM", "exclusive_minimum"),
    ):
        compare_bound(ctx, keyword, name, getattr(original, attribute), getattr(update, attribute))
    _compare_multiple_of(ctx, original.multiple_of, update.multiple_of)
    if original.integer != update.integer:
        ctx.add("TYPE_EXTENDED" if original.integer else "TYPE_NARROWED")


def _compare_multiple_of(ctx: Ctx, old: Decimal | None, new: Decimal | None) -> None:
    if old == new:
        return
    if old is None:
        ctx.add("MULTIPLE_OF_ADDED", "multipleOf")
    elif new is None:
        ctx.add("MULTIPLE_OF_REMOVED", "multipleOf")
    elif old != 0 and new % old == 0:
        ctx.add("MULTIPLE_OF_EXPANDED", "multipleOf")
    elif new != 0 and old % new == 0:
        ctx.add("MULTIPLE_OF_REDUCED", "multipleOf")
    else:
        ctx.add("MULTIPLE_OF_CHANGED", "multipleOf")
