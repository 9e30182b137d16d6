"""Finding Debian's promtool and prometheus binaries, and writing the generated set.

The tests fail (never skip) without them: CI installs them with .ci/prometheus.sh.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from eventscope.config import Config, load_config
from eventscope.generate import generated_files, write_files

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = REPO / "eventscope.toml"
INSTALL_HINT = "run .ci/prometheus.sh (installs Debian's prometheus package)"


def binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found on PATH: {INSTALL_HINT}", pytrace=False)
    return path


def promtool(*args: str, cwd: Path | None = None) -> str:
    """Run promtool; fail the test with its output unless it exits 0."""
    result = subprocess.run(
        [binary("promtool"), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"promtool {' '.join(args)} failed:\n{output}", pytrace=False)
    return output


def example_config() -> Config:
    return load_config(EXAMPLE_CONFIG)


def write_generated(config: Config, out: Path) -> dict[str, bytes]:
    files = generated_files(config)
    write_files(files, out)
    return files
