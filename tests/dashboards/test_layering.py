"""Package boundaries: dashboards and alerts are siblings over the monitoring core.

Both renderers import :mod:`eventscope.monitoring`, :mod:`eventscope.config` and the
catalog; neither imports the other (directly, or through one of its modules), and the
shared core imports neither.  Read from the source with :mod:`ast`, so a lazy import
inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import eventscope

SRC = Path(eventscope.__file__).parent
FORBIDDEN = {
    "dashboards": {"eventscope.alerts", "eventscope.generate"},
    "alerts": {"eventscope.dashboards", "eventscope.generate"},
    "monitoring": {"eventscope.dashboards", "eventscope.alerts", "eventscope.generate"},
    "config.py": {"eventscope.dashboards", "eventscope.alerts", "eventscope.monitoring"},
}


def imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` in ``path`` names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; eventscope imports absolutely")
    return names


def _files(area: str) -> list[Path]:
    root = SRC / area
    return [root] if root.is_file() else sorted(root.rglob("*.py"))


@pytest.mark.parametrize("area", sorted(FORBIDDEN))
def test_area_does_not_import_its_siblings(area: str) -> None:
    files = _files(area)
    assert files, area
    offences = [
        f"{path.relative_to(SRC)}: imports {name}"
        for path in files
        for name in sorted(imported_modules(path))
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[area])
    ]
    assert not offences, "\n".join(offences)


def test_the_scanner_sees_every_import_form(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "import eventscope.alerts.model\n"
        "from eventscope import alerts\n"
        "def later():\n"
        "    from eventscope.alerts.grafana import grafana_alert_provisioning\n"
    )
    names = imported_modules(source)
    assert {"eventscope.alerts.model", "eventscope.alerts", "eventscope.alerts.grafana"} <= names
