"""npm packages for the tests that run a JavaScript tool, installed by the tests themselves.

Each set of packages goes into its own directory of a cache (``$EVENTSCOPE_NODE_CACHE``,
default ``~/.cache/eventscope/node``), named after the exact versions, so a second run
installs nothing and a version bump installs afresh beside the old one.  A file lock
keeps parallel test runs from installing into the same directory at once; an
installation is complete only once its marker file is written.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

NODE_MAJOR = 20
"""The Node the tests are written against (what CI has)."""


def cache_root() -> Path:
    default = Path.home() / ".cache" / "eventscope" / "node"
    return Path(os.environ.get("EVENTSCOPE_NODE_CACHE", default))


def node() -> str:
    """The ``node`` executable; a missing or older Node is a test failure that says so."""
    found = shutil.which("node")
    if found is None:
        raise RuntimeError(f"these tests need Node {NODE_MAJOR} on PATH (apt install nodejs)")
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True)
    major = int(version.stdout.strip().lstrip("v").split(".")[0])
    if major < NODE_MAJOR:
        raise RuntimeError(f"these tests need Node ≥ {NODE_MAJOR}, found {version.stdout.strip()}")
    return found


def installed(name: str, packages: Mapping[str, str]) -> Path:
    """A directory whose ``node_modules`` holds ``packages`` (name → exact version)."""
    node()
    label = "-".join(f"{p.replace('/', '+').lstrip('@')}@{v}" for p, v in sorted(packages.items()))
    directory = cache_root() / f"{name}-{label}"
    marker = directory / ".installed"
    if marker.is_file():
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    with (directory.parent / f"{directory.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file():  # another run installed it while this one waited
            return directory
        (directory / "package.json").write_text(
            json.dumps({"private": True, "dependencies": dict(packages)}, indent=2)
        )
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not on PATH (it comes with Node)")
        result = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            raise RuntimeError(f"npm install in {directory} failed:\n{result.stderr[-4000:]}")
        marker.write_text("ok\n")
    return directory


def run_node(directory: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (CommonJS, its ``require`` resolving in ``directory``)."""
    path = directory / f"script-{hashlib.sha256(script.encode()).hexdigest()[:16]}.js"
    if not path.is_file():  # written whole, then renamed: a parallel run never sees half
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(script)
        partial.replace(path)
    return subprocess.run(
        [node(), str(path), *args], cwd=directory, capture_output=True, text=True, timeout=300
    )
