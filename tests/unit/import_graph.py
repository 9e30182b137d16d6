"""Who imports whom in a source tree, read with ``ast``: no module is executed.

Every ``import`` and ``from ... import`` statement counts, at module level or inside a
function (marked ``lazy``), except those under ``if TYPE_CHECKING:`` (they never run);
so does every module named in a ``lazy_names(__name__, {...})`` table (``lazy``: it is
imported when one of its names is first used).
``from package import name`` is an import of ``package.name`` when that is a module of
the tree, else of ``package``.  Names are kept as written even when no such module
exists, so a rule about a package that does not exist yet still sees imports of it.

A submodule import also runs its parent packages' ``__init__``; that is not counted as
an import of the parents, or every package whose ``__init__`` re-exports its own
submodules would be a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Import:
    importer: str
    imported: str
    path: Path
    line: int
    lazy: bool
    """Inside a function: runs when the function is first called, not on import."""

    def __str__(self) -> str:
        where = "in a function, " if self.lazy else ""
        return f"{self.importer} -> {self.imported} ({where}{self.path.name}:{self.line})"


Graph = dict[str, list[Import]]
"""Each module of the tree and its imports of modules named under ``prefix``."""


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path, prefix: str) -> Graph:
    """The imports among the modules under ``root`` (a ``src`` directory) whose names
    start with ``prefix``."""
    paths = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    return {
        name: list(  # one entry per statement and target, however many names it takes
            dict.fromkeys(
                found
                for found in _imports(name, path, set(paths))
                if _within(found.imported, prefix)
            )
        )
        for name, path in paths.items()
        if _within(name, prefix)
    }


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected groups of modules (each module can reach each other one
    through imports), and modules importing themselves; sorted for stable messages."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        index[module] = low[module] = len(index)
        stack.append(module)
        for edge in graph[module]:
            target = edge.imported
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1 or any(e.imported == module for e in graph[module]):
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def imports_within(graph: Graph, group: list[str]) -> list[Import]:
    """The imports that tie ``group`` (one of :func:`cycles`) together."""
    members = set(group)
    return [e for m in group for e in graph[m] if e.imported in members]


def imports_between(graph: Graph, importer: str, imported: str) -> list[Import]:
    """Imports by package ``importer`` (or its modules) of package ``imported`` (or its
    modules)."""
    return [
        edge
        for module, edges in graph.items()
        if _within(module, importer)
        for edge in edges
        if _within(edge.imported, imported)
    ]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _imports(name: str, path: Path, modules: set[str]) -> Iterator[Import]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    tables = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
        for target in node.targets
        if isinstance(target, ast.Name)
    }

    def walk(node: ast.AST, lazy: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for statement in child.orelse:
                    yield from walk_one(statement, lazy)
            else:
                yield from walk_one(child, lazy)

    def walk_one(node: ast.AST, lazy: bool) -> Iterator[Import]:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, path, node.lineno, lazy)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                yield Import(name, target if target in modules else base, path, node.lineno, lazy)
        elif _is_lazy_names(node):
            for argument in node.args:  # a table literal, or the name of one
                table = tables.get(argument.id) if isinstance(argument, ast.Name) else argument
                if isinstance(table, ast.Dict):
                    for home in table.values:
                        if isinstance(home, ast.Constant) and isinstance(home.value, str):
                            yield Import(name, home.value, path, home.lineno, True)
        else:
            inner = lazy or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            yield from walk(node, inner)

    yield from walk(tree, False)


def _is_lazy_names(node: ast.AST) -> bool:
    """A call of ``eventscope._lazy.lazy_names``: its table's modules are imports too,
    made on first use of a name."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "lazy_names") or (
        isinstance(func, ast.Attribute) and func.attr == "lazy_names"
    )


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
