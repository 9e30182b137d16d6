"""Bookkeeping for one JSON Schema comparison: where it is, what it found, what it knows.

Kept apart from the rules so that the object/array rules and the dispatcher can share
it without importing each other: a :class:`Ctx` compares nested schemas through the
comparer its :class:`Run` was given.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from eventscope.schemas.json.changes import Change, all_compatible
from eventscope.schemas.json.nodes import Node

PairKey = tuple[int, int]
Comparer = Callable[["Ctx", Node | None, Node | None], None]
Judge = Callable[["Run", Node | None, Node | None], bool]


class Run:
    """State shared by every branch of one comparison pass.

    ``memo`` holds each compared pair's changes (relative to the pair) and ``verdicts``
    whether they are all compatible, ``in_progress``
    the pairs whose rules have run but which wait for pairs they depend on, ``seed``
    the pairs a previous pass found incompatible.  While one pair's rules run,
    ``missing`` collects the nested pairs not compared yet and ``assumed_here`` notes
    a cycle that was assumed compatible.
    """

    def __init__(
        self, seed: dict[PairKey, tuple[Change, ...]], comparer: Comparer, judge: Judge
    ) -> None:
        self.comparer = comparer
        self.judge = judge
        self.memo: dict[PairKey, tuple[Change, ...]] = {}
        self.verdicts: dict[PairKey, bool] = {}
        self.in_progress: set[PairKey] = set()
        self.seed = seed
        self.assumed_cycle_compatible = False
        self.missing: list[tuple[Node, Node]] = []
        self.assumed_here = False

    def incompatible_pairs(self) -> dict[PairKey, tuple[Change, ...]]:
        return {k: v for k, v in self.memo.items() if not all_compatible(v)}


class Ctx:
    """Where the comparison currently is (a JSON path) and what it has found there."""

    def __init__(self, run: Run, path: tuple[str, ...] = ()) -> None:
        self.run = run
        self.path = list(path)
        self.changes: list[Change] = []

    def sub(self) -> Ctx:
        """A scratch context at the same place, to try a comparison before keeping it."""
        return Ctx(self.run, tuple(self.path))

    @contextmanager
    def at(self, *segments: str) -> Iterator[None]:
        self.path.extend(segments)
        try:
            yield
        finally:
            del self.path[len(self.path) - len(segments) :]

    def where(self, *segments: str) -> str:
        return "#/" + "/".join([*self.path, *segments])

    def add(self, change_type: str, *segments: str) -> None:
        self.changes.append(Change(change_type, self.where(*segments)))

    def extend(self, changes: list[Change] | tuple[Change, ...]) -> None:
        self.changes.extend(changes)

    def compare(self, original: Node | None, update: Node | None) -> None:
        """Compare nested schemas here, adding what differs to this context."""
        self.run.comparer(self, original, update)

    def compatible_with(self, original: Node | None, update: Node | None) -> bool:
        """Whether :meth:`compare` would add only compatible changes, without adding them.

        A trial match (which union branch fits, does a catch-all cover a property)
        needs only this verdict, so it costs a lookup rather than a copy of changes.
        """
        return self.run.judge(self.run, original, update)

    @property
    def compatible(self) -> bool:
        return all_compatible(self.changes)


def canonical(value: Any) -> str:
    """JSON text that tells ``1`` from ``1.0`` and ``true`` from ``1``, as Java does."""
    return json.dumps(value, sort_keys=True, default=str)


_EXACT = (str, int, bool, type(None))


def same_value(left: Any, right: Any) -> bool:
    """``canonical(left) == canonical(right)``, without serialising the usual case (two
    absent defaults, two equal strings or integers: equal values of one exact type have
    one JSON text; floats are left to :func:`canonical`, as ``0.0 == -0.0``)."""
    if type(left) is type(right) and type(left) in _EXACT and left == right:
        return True
    return canonical(left) == canonical(right)


def compare_bound(ctx: Ctx, keyword: str, name: str, old: Any, new: Any) -> None:
    """``NAME_ADDED`` / ``_REMOVED`` / ``_INCREASED`` / ``_DECREASED`` for one limit."""
    if old is None and new is None:
        return
    if old is None:
        ctx.add(f"{name}_ADDED", keyword)
    elif new is None:
        ctx.add(f"{name}_REMOVED", keyword)
    elif old < new:
        ctx.add(f"{name}_INCREASED", keyword)
    elif old > new:
        ctx.add(f"{name}_DECREASED", keyword)
