"""The package layout's promises: lazy formats, a registry schemas never needs, one table."""

from __future__ import annotations

import subprocess
import sys

import pytest

from eventscope.schemas.formats import FORMATS, SCHEMA_TYPES, SUFFIX_FORMATS, TABLE, format_module


def _loaded_after(code: str) -> set[str]:
    """The eventscope modules a fresh interpreter holds after running ``code``."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(*sorted(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {name for name in out.split() if name.startswith("eventscope.")}


def test_importing_schemas_loads_neither_the_registry_nor_any_format() -> None:
    loaded = _loaded_after("import eventscope.schemas")
    assert not {m for m in loaded if m.startswith("eventscope.registry")}
    assert not {m for m in loaded if m.startswith(tuple(row.module for row in TABLE))}


def test_checking_avro_does_not_load_the_other_formats() -> None:
    pytest.importorskip("fastavro")
    loaded = _loaded_after("from eventscope.schemas import format_module; format_module('avro')")
    assert "eventscope.schemas.avro" in loaded
    assert "eventscope.schemas.json" not in loaded
    assert "eventscope.schemas.protobuf" not in loaded


def test_the_client_does_not_load_the_server() -> None:
    assert "eventscope.registry.server" not in _loaded_after("import eventscope.registry")


def test_the_table_gives_the_lists_and_message_the_old_constants_gave() -> None:
    """Order matters: messages and ``GET /schemas/types`` list formats in table order."""
    assert FORMATS == ("avro", "json", "protobuf")
    assert list(SUFFIX_FORMATS.items()) == [
        (".avsc", "avro"),
        (".avro", "avro"),
        (".json", "json"),
        (".proto", "protobuf"),
    ]
    assert list(SCHEMA_TYPES) == ["AVRO", "JSON", "PROTOBUF"]
    assert list(SCHEMA_TYPES.values()) == list(FORMATS)
    with pytest.raises(ValueError, match=r"expected 'avro', 'json' or 'protobuf'$"):
        format_module("xml")
