"""The format registry: one public way to reach a format's parse and compare functions."""

from __future__ import annotations

import pytest

from eventscope.schemas import FORMATS, SchemaParseError, format_module
from eventscope.schemas.files import SchemaFileError, load_schema


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_has_the_three_functions_checks_are_built_from(fmt: str) -> None:
    module = format_module(fmt)
    schema = {
        "avro": '{"type": "record", "name": "A", "fields": []}',
        "json": '{"type": "object"}',
        "protobuf": 'syntax = "proto3";\nmessage A {}\n',
    }[fmt]
    parsed = module.parse(schema)
    assert module.is_parsed(parsed) and not module.is_parsed(schema)
    assert module.backward_incompatibilities(parsed, parsed) == []
    with pytest.raises(SchemaParseError):
        module.parse("{" if fmt != "protobuf" else "message {")


def test_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown schema format 'xml'"):
        format_module("xml")


def test_files_read_through_the_public_registry(tmp_path) -> None:
    path = tmp_path / "v1.avsc"
    path.write_text('{"type": "record", "name": "A", "fields": [{"name": "x"}]}')
    with pytest.raises(SchemaFileError, match=r"v1\.avsc: \$\.fields\[0\]: field 'x' has no"):
        load_schema(path)
