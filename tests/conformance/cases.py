"""Loads the conformance corpus: Confluent Schema Registry's own test vectors as data.

Each ``<format>/*.json`` file holds ``{"source": ..., "cases": [...]}`` where a case is
``{"name", "mode", "candidate", "previous": [...], "compatible": bool}`` and may carry
``"references"`` (name → schema text) and ``"types"`` (incompatibility types Confluent
reports).  ``known_failures/<format>.json`` maps ``<format>/<file stem>/<case name>`` to
the reason a case is not passed yet; those run as strict xfails, so fixing one is
noticed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
FORMATS = ("avro", "json", "protobuf")


@dataclass(frozen=True)
class Case:
    id: str
    format: str
    mode: str
    candidate: Any
    previous: list[Any]
    compatible: bool
    references: dict[str, str] = field(default_factory=dict)
    types: list[str] = field(default_factory=list)


def load_cases(formats: tuple[str, ...] = FORMATS) -> list[Case]:
    cases: list[Case] = []
    for fmt in formats:
        for path in sorted((HERE / fmt).glob("*.json")):
            doc = json.loads(path.read_text())
            for raw in doc["cases"]:
                cases.append(
                    Case(
                        id=f"{fmt}/{path.stem}/{raw['name']}",
                        format=fmt,
                        mode=raw["mode"],
                        candidate=raw["candidate"],
                        previous=raw["previous"],
                        compatible=raw["compatible"],
                        references=raw.get("references", {}),
                        types=raw.get("types", []),
                    )
                )
    return cases


def known_failures(formats: tuple[str, ...] = FORMATS) -> dict[str, str]:
    known: dict[str, str] = {}
    for fmt in formats:
        path = HERE / "known_failures" / f"{fmt}.json"
        if path.exists():
            known.update(json.loads(path.read_text()))
    return known
