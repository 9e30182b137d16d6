"""Protobuf schemas as Confluent's serializers send and read them: base64 descriptors.

confluent-kafka's ``ProtobufSerializer`` registers the base64 of the
``FileDescriptorProto`` its generated class carries (and each imported file under a
subject of its own, as a reference), and its deserialiser asks for every schema with
``?format=serialized``, expecting that form back.  The registry therefore accepts a
Protobuf schema either as .proto text or as a base64 descriptor, judges both with the
same checker (a descriptor is what the checker compiles text into anyway), and answers
``format=serialized`` with the descriptor of a schema registered as text.

A descriptor's imports resolve from its references (text or descriptors themselves) and,
for the files every protoc knows (``google/protobuf/*.proto``), from protoc's own copies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping

from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError

from eventscope.schemas.errors import SchemaParseError
from eventscope.schemas.protobuf.compile import CompiledSchema, compile_schema

_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def is_descriptor(schema: str) -> bool:
    """Whether ``schema`` is a base64 descriptor rather than .proto text (which always
    holds a character base64 never uses: a space, ``;``, ``{``, a quote)."""
    return bool(_BASE64.fullmatch(schema.strip()))


def decode(schema: str) -> descriptor_pb2.FileDescriptorProto:
    """The descriptor a base64 schema holds; :class:`SchemaParseError` if it holds none."""
    try:
        raw = base64.b64decode(schema.strip(), validate=True)
        return descriptor_pb2.FileDescriptorProto.FromString(raw)
    except (binascii.Error, DecodeError) as exc:
        raise SchemaParseError(
            f"not .proto text nor a base64 FileDescriptorProto ({exc})"
        ) from None


def from_descriptor(schema: str, references: Mapping[str, str] | None = None) -> CompiledSchema:
    """A base64 descriptor as the checker's compiled form, its imports resolved."""
    main = decode(schema)
    imports = _imports(main, dict(references or {}), set())
    origins = {
        file.name: hashlib.sha256(file.SerializeToString(deterministic=True)).hexdigest()
        for file in imports
    }
    return CompiledSchema(text=schema.strip(), main=main, imports=tuple(imports), origins=origins)


def serialized(schema: str, references: Mapping[str, str] | None = None) -> str:
    """``schema`` as a base64 descriptor (``format=serialized``)."""
    if is_descriptor(schema):
        return schema.strip()
    compiled = compile_schema(schema, _texts(references or {}))
    return base64.b64encode(compiled.main.SerializeToString()).decode("ascii")


def _imports(
    file: descriptor_pb2.FileDescriptorProto, references: dict[str, str], seen: set[str]
) -> list[descriptor_pb2.FileDescriptorProto]:
    """Every file ``file`` imports, transitively, each once."""
    found: list[descriptor_pb2.FileDescriptorProto] = []
    builtin: list[str] = []
    for name in file.dependency:
        if name in seen:
            continue
        seen.add(name)
        text = references.get(name)
        if text is None:
            builtin.append(name)
        elif is_descriptor(text):
            imported = decode(text)
            found += [*_imports(imported, references, seen), imported]
        else:
            compiled = compile_schema(text, _texts(references))
            found += [file for file in compiled.imports if file.name not in seen]
            seen.update(file.name for file in compiled.imports)
            found.append(_renamed(compiled.main, name))
    if builtin:
        found += _builtin(builtin, seen)
    return found


def _builtin(names: list[str], seen: set[str]) -> list[descriptor_pb2.FileDescriptorProto]:
    """Files no reference provides, from protoc's include path (or a clear error)."""
    stub = 'syntax = "proto3";\n' + "".join(f'import "{name}";\n' for name in names)
    try:
        compiled = compile_schema(stub)
    except SchemaParseError as exc:
        raise SchemaParseError(
            f"imports {', '.join(names)}, which no reference provides: {exc.reason}"
        ) from None
    return [file for file in compiled.imports if file.name in names or file.name not in seen]


def _renamed(
    file: descriptor_pb2.FileDescriptorProto, name: str
) -> descriptor_pb2.FileDescriptorProto:
    copy = descriptor_pb2.FileDescriptorProto()
    copy.CopyFrom(file)
    copy.name = name
    return copy


def _texts(references: Mapping[str, str]) -> dict[str, str]:
    """The references protoc can read: the .proto texts (descriptors it cannot)."""
    return {name: text for name, text in references.items() if not is_descriptor(text)}
