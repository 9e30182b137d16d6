"""eventscope's architecture rules, checked on the source so that breaking one fails CI.

The import rules read the code with ``ast`` (:mod:`tests.unit.import_graph`): nothing
is imported to build the graph.  What an import *loads* can only be seen by running it,
so those rules import in a fresh interpreter.  ``test_the_rules_can_fail`` plants each
violation in a throwaway tree, so a rule cannot pass because it looks at nothing.
"""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.unit.import_graph import (
    Graph,
    cycles,
    import_graph,
    imports_between,
    imports_within,
)

ROOT = Path(__file__).parents[2]
SRC = ROOT / "src"

HEAVY = ("opentelemetry.sdk", "prometheus_client", "http.server", "pact", "eventscope.registry")
"""What an application or a test run must not pay for by importing eventscope: the
OpenTelemetry SDK and prometheus_client are for ``configure()``, http.server for
serving metrics or a registry, pact-python for contract runs, the registry for its
command and the contract checks that use it."""


@cache
def eventscope_graph() -> Graph:
    return import_graph(SRC, "eventscope")


def test_no_import_cycle_among_eventscope_modules() -> None:
    """Modules form layers: a cycle means two modules can only be understood, tested and
    imported together, and the first to be imported sees the other half-initialised.

    Imports inside functions count.  Importing lazily is how a module defers a cost, not
    how it escapes its layer: an in-function import that closes a cycle is an upward
    import that merely fails later (and is a sign that the imported module holds two
    things, one of which belongs lower).  Only ``if TYPE_CHECKING:`` imports, which
    never run, are left out.
    """
    graph = eventscope_graph()
    found = cycles(graph)
    described = "\n".join(
        "cycle: " + "; ".join(str(edge) for edge in imports_within(graph, group)) for group in found
    )
    assert not found, described


LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(tier.split())
    for tier in (
        "_version _lazy errors",
        "catalog",
        "config lag schemas",
        "instrumentation monitoring registry",
        "memory_bus example outbox dashboards alerts",
        "contracts generate",
        "demo asyncapi",
        "pytest_plugin cli",
    )
)
"""eventscope's top-level modules and packages, lowest first (docs/architecture.md).
A unit imports only units of lower tiers; units of one tier never import each other."""


def test_every_import_points_down_the_layers() -> None:
    """The layers are the design: the catalog knows nobody, lag readings know only the
    catalog, the instrumentation knows no generator, the registry builds on the schema
    checkers, the renderers share ``monitoring`` and never each other, and only the
    command line and the demo see everything.  An import up or across a tier would let
    a low layer change because a high one did."""
    tier = {unit: level for level, units in enumerate(LAYERS) for unit in units}
    graph = eventscope_graph()
    units = {_unit(module) for module in graph} - {""}
    assert units == set(tier), f"units without a tier: {sorted(units - set(tier))}"
    wrong = [
        edge
        for edges in graph.values()
        for edge in edges
        if _unit(edge.importer) != _unit(edge.imported)
        and _unit(edge.importer)  # the package __init__ re-exports from above, lazily
        and tier[_unit(edge.imported)] >= tier[_unit(edge.importer)]
    ]
    assert not wrong, "\n".join(map(str, wrong))


def _unit(module: str) -> str:
    """``eventscope.lag.kafka`` -> ``lag``; the package itself -> ``""``."""
    return module.split(".")[1] if "." in module else ""


def test_dashboards_and_alerts_do_not_import_each_other() -> None:
    """Dashboards and alert rules are generated side by side from the catalog; either
    one must be usable, changed and released without the other."""
    graph = eventscope_graph()
    assert {"eventscope.dashboards", "eventscope.alerts"} <= graph.keys()
    crossing = imports_between(graph, "eventscope.dashboards", "eventscope.alerts")
    crossing += imports_between(graph, "eventscope.alerts", "eventscope.dashboards")
    assert not crossing, "\n".join(map(str, crossing))


def test_schemas_do_not_import_the_registry() -> None:
    """The schema checkers are the lower layer: the registry (server and client) stores
    schemas and uses the checkers, not the other way round.  Imports are read as
    written, so this holds whether or not ``eventscope.registry`` exists yet."""
    graph = eventscope_graph()
    assert "eventscope.schemas" in graph
    upward = imports_between(graph, "eventscope.schemas", "eventscope.registry")
    assert not upward, "\n".join(map(str, upward))


def test_importing_eventscope_loads_no_heavy_module() -> None:
    """``import eventscope`` is what every instrumented service and every test run pays;
    the telemetry SDKs and servers load when they are configured, not before."""
    loaded = _heavy_loaded_by("import eventscope")
    assert not loaded, f"import eventscope loads {', '.join(loaded)}"


def test_loading_the_pytest_plugin_loads_no_heavy_module() -> None:
    """pytest loads the plugin in every test run of every project that installs
    eventscope; a run without contracts must not pay for them (nor for telemetry)."""
    loaded = _heavy_loaded_by("import eventscope.pytest_plugin")
    assert not loaded, f"loading the plugin loads {', '.join(loaded)}"


def test_the_example_system_imports_without_the_demo() -> None:
    """The example is ordinary application code that the demo runs: it may use the
    decorators, but importing the demo back would make it unimportable on its own (the
    demo's ``__init__`` imports the example)."""
    demo = imports_between(eventscope_graph(), "eventscope.example", "eventscope.demo")
    assert not demo, "\n".join(map(str, demo))
    done = _python(
        "import eventscope.example; import sys; assert 'eventscope.demo' not in sys.modules"
    )
    assert done.returncode == 0, done.stderr


def test_the_rules_can_fail(tmp_path: Path) -> None:
    """Each import rule above finds its violation when one is planted: a cycle closed by
    a lazy import (and none through a ``TYPE_CHECKING`` import), dashboards importing
    alerts (directly, and through a ``lazy_names`` table), schemas importing a registry
    package that does not exist."""
    files = {
        "pkg/__init__.py": "",
        "pkg/low.py": "def use():\n    from pkg import high\n",
        "pkg/high.py": "from pkg import low, typed\n",
        "pkg/typed.py": "import typing\nif typing.TYPE_CHECKING:\n    import pkg.high\n",
        "pkg/dashboards/__init__.py": "from pkg.alerts.rules import Rule\n",
        "pkg/dashboards/lazy.py": "HOMES = {'Rule': 'pkg.alerts.rules'}\n"
        "__getattr__ = lazy_names(__name__, HOMES)\n",
        "pkg/alerts/__init__.py": "",
        "pkg/alerts/rules.py": "",
        "pkg/schemas/__init__.py": "from ..registry.client import Client\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = import_graph(tmp_path, "pkg")

    assert cycles(graph) == [["pkg.high", "pkg.low"]]
    assert [str(e) for e in imports_between(graph, "pkg.dashboards", "pkg.alerts")] == [
        "pkg.dashboards -> pkg.alerts.rules (__init__.py:1)",
        "pkg.dashboards.lazy -> pkg.alerts.rules (in a function, lazy.py:1)",
    ]
    assert [e.imported for e in imports_between(graph, "pkg.schemas", "pkg.registry")] == [
        "pkg.registry.client"
    ]
    assert "pkg.registry" not in graph


def _python(statement: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", statement], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def _heavy_loaded_by(statement: str) -> list[str]:
    probe = f"{statement}\nimport sys\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = _python(probe)
    if done.returncode != 0:
        pytest.fail(f"{statement!r} failed:\n{done.stderr}")
    return [name for name in done.stdout.strip().split(",") if name]


def test_the_top_level_names_are_the_lazy_table() -> None:
    """``eventscope/__init__`` resolves its names on first use; the static ``__all__``
    (for readers and type checkers) and the lookup table must list the same names, and
    each must resolve."""
    import eventscope

    assert set(eventscope.__all__) == {"__version__", *eventscope._HOMES}
    for name in eventscope.__all__:
        assert getattr(eventscope, name) is not None
