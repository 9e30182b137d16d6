"""Putting a generated set on disk, or comparing it with a committed copy (``--check``)."""

from __future__ import annotations

from pathlib import Path

from eventscope.generate.documents import SUFFIXES


def write_files(files: dict[str, bytes], out: Path) -> list[Path]:
    """Write ``files`` under ``out`` (creating folders); returns the paths changed."""
    changed = []
    for relative, content in files.items():
        path = out / relative
        if path.is_file() and path.read_bytes() == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        changed.append(path)
    return changed


def differences(files: dict[str, bytes], out: Path) -> list[str]:
    """Paths under ``out`` that are missing, differ, or were generated once but no more."""
    problems = [
        f"{relative}: {'differs' if (out / relative).exists() else 'missing'}"
        for relative, content in files.items()
        if not (out / relative).is_file() or (out / relative).read_bytes() != content
    ]
    for folder, suffix in SUFFIXES.items():
        for path in sorted((out / folder).glob(f"*{suffix}")):
            relative = path.relative_to(out).as_posix()
            if relative not in files:
                problems.append(f"{relative}: no longer generated")
    return problems
