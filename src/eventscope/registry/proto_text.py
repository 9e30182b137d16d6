"""A ``FileDescriptorProto`` written back as ``.proto`` text.

confluent-kafka's serializer registers schemas as base64 descriptors; Confluent's
registry shows them as ``.proto`` text, and so does this one (``GET`` without
``format=serialized``), so people and ``eventscope schema pull`` read a schema, not a
blob.  The text compiles back to the same descriptor (the tests check that round trip):
messages, nested types, enums, ``map<>`` fields, oneofs, proto3 ``optional``, proto2
labels and defaults, reserved ranges and names, the standard options, services.  What
it cannot write faithfully (groups, editions, custom options) raises
:class:`NotRenderable`, and the registry then shows the descriptor as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from google.protobuf import descriptor_pb2
from google.protobuf.unknown_fields import UnknownFieldSet

FIELD = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    FIELD.TYPE_DOUBLE: "double",
    FIELD.TYPE_FLOAT: "float",
    FIELD.TYPE_INT64: "int64",
    FIELD.TYPE_UINT64: "uint64",
    FIELD.TYPE_INT32: "int32",
    FIELD.TYPE_FIXED64: "fixed64",
    FIELD.TYPE_FIXED32: "fixed32",
    FIELD.TYPE_BOOL: "bool",
    FIELD.TYPE_STRING: "string",
    FIELD.TYPE_BYTES: "bytes",
    FIELD.TYPE_UINT32: "uint32",
    FIELD.TYPE_SFIXED32: "sfixed32",
    FIELD.TYPE_SFIXED64: "sfixed64",
    FIELD.TYPE_SINT32: "sint32",
    FIELD.TYPE_SINT64: "sint64",
}
_MAX_FIELD = 536870911  # 2^29 - 1: "max" in a reserved or extensions range


class NotRenderable(ValueError):
    """A descriptor using something this writer does not render faithfully."""


def render(file: descriptor_pb2.FileDescriptorProto) -> str:
    syntax = file.syntax or "proto2"
    if syntax not in ("proto2", "proto3"):
        raise NotRenderable(f"syntax {syntax!r}")
    lines = [f'syntax = "{syntax}";']
    if file.package:
        lines.append(f"package {file.package};")
    public, weak = set(file.public_dependency), set(file.weak_dependency)
    for index, name in enumerate(file.dependency):
        kind = "public " if index in public else "weak " if index in weak else ""
        lines.append(f'import {kind}"{name}";')
    lines += [f"option {text};" for text in _options(file.options)]
    for message in file.message_type:
        lines += _message(message, syntax, 0)
    for enum in file.enum_type:
        lines += _enum(enum, 0)
    for service in file.service:
        lines += _service(service)
    if file.extension:
        raise NotRenderable("extensions")
    return "\n".join(lines) + "\n"


def _options(options: object) -> list[str]:
    """``name = value`` for each standard option set; custom options are not rendered."""
    if len(UnknownFieldSet(options)):  # type: ignore[arg-type]
        raise NotRenderable("custom options")
    found = []
    for field, value in options.ListFields():  # type: ignore[attr-defined]
        repeated = getattr(field, "is_repeated", None)
        if repeated is None:  # protobuf before 6 says it with a label
            repeated = field.label == field.LABEL_REPEATED
        if field.is_extension or repeated:
            raise NotRenderable(f"option {field.name}")
        found.append(f"{field.name} = {_literal(field, value)}")
    return found


def _literal(field: object, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if field.enum_type is not None:  # type: ignore[attr-defined]
        return field.enum_type.values_by_number[value].name  # type: ignore[attr-defined]
    return str(value)


def _message(message: descriptor_pb2.DescriptorProto, syntax: str, depth: int) -> list[str]:
    pad = "  " * depth
    lines = [f"{pad}message {message.name} {{"]
    inner = "  " * (depth + 1)
    lines += [f"{inner}option {text};" for text in _options(message.options)]
    maps = {nested.name: nested for nested in message.nested_type if nested.options.map_entry}
    real_oneofs = {
        field.oneof_index
        for field in message.field
        if field.HasField("oneof_index") and not field.proto3_optional
    }
    written_oneofs: set[int] = set()
    fields = list(message.field)
    done = 0  # fields written so far

    def write_fields(upto: int) -> None:
        """Write the fields before index ``upto`` not written yet, oneofs as blocks."""
        nonlocal done
        for field in fields[done:upto]:
            if field.HasField("oneof_index") and field.oneof_index in real_oneofs:
                if field.oneof_index in written_oneofs:
                    continue
                written_oneofs.add(field.oneof_index)
                oneof = message.oneof_decl[field.oneof_index]
                lines.append(f"{inner}oneof {oneof.name} {{")
                lines.extend(f"{inner}  option {text};" for text in _options(oneof.options))
                for member in fields:
                    if member.HasField("oneof_index") and member.oneof_index == field.oneof_index:
                        lines.append(f"{inner}  {_field(member, syntax, maps, in_oneof=True)}")
                lines.append(f"{inner}}}")
            else:
                lines.append(f"{inner}{_field(field, syntax, maps, in_oneof=False)}")
        done = max(done, upto)

    # protoc lists nested types in the order it meets them, a map field making its entry
    # type where it stands: write each nested message, and each map field, in that order.
    for nested in message.nested_type:
        if nested.name in maps:
            position = next(
                index
                for index, field in enumerate(fields)
                if field.type_name.rsplit(".", 1)[-1] == nested.name
            )
            write_fields(position + 1)
        else:
            lines += _message(nested, syntax, depth + 1)
    write_fields(len(fields))
    for enum in message.enum_type:
        lines += _enum(enum, depth + 1)
    if message.extension:
        raise NotRenderable("extensions")
    lines += _ranges("extensions", message.extension_range, inner)
    lines += _ranges("reserved", message.reserved_range, inner)
    if message.reserved_name:
        names = ", ".join(json.dumps(name) for name in message.reserved_name)
        lines.append(f"{inner}reserved {names};")
    lines.append(f"{pad}}}")
    return lines


def _field(
    field: descriptor_pb2.FieldDescriptorProto,
    syntax: str,
    maps: dict[str, descriptor_pb2.DescriptorProto],
    *,
    in_oneof: bool,
) -> str:
    if field.type == FIELD.TYPE_GROUP:
        raise NotRenderable("groups")
    entry = maps.get(field.type_name.rsplit(".", 1)[-1]) if field.type_name else None
    if entry is not None and field.label == FIELD.LABEL_REPEATED:
        key, value = entry.field[0], entry.field[1]
        kind = f"map<{_type(key)}, {_type(value)}>"
        label = ""
    else:
        kind = _type(field)
        label = _label(field, syntax, in_oneof)
    options = []
    if field.HasField("default_value"):
        options.append(f"default = {_default(field)}")
    if field.HasField("json_name") and field.json_name != _camel(field.name):
        options.append(f"json_name = {json.dumps(field.json_name)}")
    options += _options(field.options)
    suffix = f" [{', '.join(options)}]" if options else ""
    return f"{label}{kind} {field.name} = {field.number}{suffix};"


def _label(field: descriptor_pb2.FieldDescriptorProto, syntax: str, in_oneof: bool) -> str:
    if in_oneof:
        return ""
    if field.label == FIELD.LABEL_REPEATED:
        return "repeated "
    if field.label == FIELD.LABEL_REQUIRED:
        return "required "
    if syntax == "proto2" or field.proto3_optional:
        return "optional "
    return ""


def _type(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.type in _SCALARS:
        return _SCALARS[field.type]
    return field.type_name  # fully qualified, with its leading dot: valid .proto


def _default(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.type == FIELD.TYPE_STRING:
        return json.dumps(field.default_value)
    if field.type == FIELD.TYPE_BYTES:
        raise NotRenderable("bytes defaults")  # C-escaped in the descriptor
    return field.default_value  # numbers, true/false and enum value names as written


def _camel(name: str) -> str:
    parts = name.split("_")
    return parts[0] + "".join(part[:1].upper() + part[1:] for part in parts[1:])


def _enum(enum: descriptor_pb2.EnumDescriptorProto, depth: int) -> list[str]:
    pad, inner = "  " * depth, "  " * (depth + 1)
    lines = [f"{pad}enum {enum.name} {{"]
    lines += [f"{inner}option {text};" for text in _options(enum.options)]
    for value in enum.value:
        options = _options(value.options)
        suffix = f" [{', '.join(options)}]" if options else ""
        lines.append(f"{inner}{value.name} = {value.number}{suffix};")
    for reserved in enum.reserved_range:  # inclusive end, unlike a message's
        end = "max" if reserved.end >= 2**31 - 1 else str(reserved.end)
        span = (
            str(reserved.start) if reserved.start == reserved.end else f"{reserved.start} to {end}"
        )
        lines.append(f"{inner}reserved {span};")
    if enum.reserved_name:
        lines.append(f"{inner}reserved {', '.join(json.dumps(n) for n in enum.reserved_name)};")
    lines.append(f"{pad}}}")
    return lines


def _ranges(keyword: str, ranges: Iterable[object], pad: str) -> list[str]:
    lines = []
    for span in ranges:
        start, end = span.start, span.end - 1  # type: ignore[attr-defined]
        if keyword == "extensions" and span.options.ListFields():  # type: ignore[attr-defined]
            raise NotRenderable("extension range options")
        text = str(start) if start == end else f"{start} to {'max' if end >= _MAX_FIELD else end}"
        lines.append(f"{pad}{keyword} {text};")
    return lines


def _service(service: descriptor_pb2.ServiceDescriptorProto) -> list[str]:
    lines = [f"service {service.name} {{"]
    lines += [f"  option {text};" for text in _options(service.options)]
    for method in service.method:
        request = ("stream " if method.client_streaming else "") + method.input_type
        reply = ("stream " if method.server_streaming else "") + method.output_type
        options = _options(method.options)
        body = " {\n" + "".join(f"    option {o};\n" for o in options) + "  }" if options else ";"
        lines.append(f"  rpc {method.name}({request}) returns ({reply}){body}")
    lines.append("}")
    return lines
