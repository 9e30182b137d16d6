"""The differences between two compiled .proto schemas, as Confluent Schema Registry sees them.

The registry decides Protobuf compatibility by listing every difference between the
previous schema (the "original") and the new one (the "update"), each tagged with a
``Difference.Type`` and a path such as ``#/Order/2`` (message ``Order``, field number 2)
or ``#/Order/choice/3`` (field 3 inside oneof ``choice``); the change is compatible when
every difference is in :data:`COMPATIBLE_CHANGES`.  This module reproduces that list from
protoc descriptors.  The rules, in short:

* fields are matched by number, never by name: a rename is harmless, a new number is a
  removal plus an addition (removing a proto2 ``required`` field, or adding one, is not);
* a field's *kind* (scalar / message / map) must stay the same; scalars may move within
  one wire-compatible group (int32/int64/uint32/uint64/bool/enum, sint32/sint64,
  fixed32/sfixed32, fixed64/sfixed64, string/bytes, float, double);
* a numeric field may not switch between written labels (``optional`` ↔ ``repeated``)
  because packed and unpacked encodings differ; strings, bytes and messages may;
* message-typed fields must keep the same type name, relative to the package that
  declares it; a type from an imported file that changed is compared member by member;
* oneofs may be added, removed or renamed, fields may leave a oneof, but fields that were
  independent may not become mutually exclusive, and a oneof may not lose a member;
* messages may be added or reordered but not removed; enums may change freely;
  a package change is incompatible.

What the registry compares is the schema *as written*: protoc's synthetic oneofs for
proto3 ``optional`` and its generated ``...Entry`` messages for ``map<K, V>`` fields are
invisible here, and a proto3 field without a label has no label to compare.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from google.protobuf import descriptor_pb2

from eventscope.schemas.protobuf.compile import CompiledSchema

FieldProto = descriptor_pb2.FieldDescriptorProto
MessageProto = descriptor_pb2.DescriptorProto
EnumProto = descriptor_pb2.EnumDescriptorProto

#: Difference types the registry accepts under BACKWARD compatibility.
COMPATIBLE_CHANGES = frozenset(
    {
        "MESSAGE_ADDED",
        "MESSAGE_MOVED",
        "ENUM_ADDED",
        "ENUM_REMOVED",
        "ENUM_CONST_ADDED",
        "ENUM_CONST_CHANGED",
        "ENUM_CONST_REMOVED",
        "FIELD_ADDED",
        "FIELD_REMOVED",
        "FIELD_NAME_CHANGED",
        "FIELD_STRING_OR_BYTES_LABEL_CHANGED",
        "ONEOF_ADDED",
        "ONEOF_REMOVED",
        "ONEOF_FIELD_ADDED",
        "ONEOF_FIELD_MOVED_TO_TOP_LEVEL",
    }
)

_T = FieldProto.Type
#: Wire-compatible groups of scalar types ("Updating a message type" in the protobuf
#: language guide, as the registry groups them); enums travel as varints.
_SCALAR_GROUPS = {
    _T.TYPE_INT32: "GENERAL_NUMBER",
    _T.TYPE_INT64: "GENERAL_NUMBER",
    _T.TYPE_UINT32: "GENERAL_NUMBER",
    _T.TYPE_UINT64: "GENERAL_NUMBER",
    _T.TYPE_BOOL: "GENERAL_NUMBER",
    _T.TYPE_ENUM: "GENERAL_NUMBER",
    _T.TYPE_SINT32: "SIGNED_NUMBER",
    _T.TYPE_SINT64: "SIGNED_NUMBER",
    _T.TYPE_STRING: "STRING_OR_BYTES",
    _T.TYPE_BYTES: "STRING_OR_BYTES",
    _T.TYPE_FIXED32: "FIXED32",
    _T.TYPE_SFIXED32: "FIXED32",
    _T.TYPE_FIXED64: "FIXED64",
    _T.TYPE_SFIXED64: "FIXED64",
    _T.TYPE_FLOAT: "FLOAT",
    _T.TYPE_DOUBLE: "DOUBLE",
}


@dataclass(frozen=True, slots=True)
class Difference:
    """One change between two schemas: registry type name, registry path, explanation."""

    type: str
    path: str
    message: str

    @property
    def compatible(self) -> bool:
        return self.type in COMPATIBLE_CHANGES


@dataclass(frozen=True, slots=True)
class _MessageInfo:
    """A message visible to a schema, with the file it was declared in."""

    message: MessageProto
    package: str
    #: ``None`` for the schema's own file, else the imported file's name and fingerprint.
    origin: str | None

    def local_name(self, full_name: str) -> str:
        """The name without its package: what the registry compares for a field's type."""
        return full_name.removeprefix(f"{self.package}.") if self.package else full_name


@dataclass(frozen=True, slots=True)
class _FieldType:
    """What a field carries: a scalar group, a message type, or a map of two types."""

    kind: str  # SCALAR | MESSAGE | MAP
    name: str  # scalar type name, message full name, or "map<K, V>"
    group: str | None = None
    key: _FieldType | None = None
    value: _FieldType | None = None


class _Types:
    """Every message one schema can see (in its file and its imports), by full name."""

    def __init__(self, schema: CompiledSchema) -> None:
        self.by_name: dict[str, _MessageInfo] = {}
        #: id(message) → syntax of its file: proto2 spells ``optional``, proto3 need not.
        self.syntax_of: dict[int, str] = {}
        for file in (*schema.imports, schema.main):
            origin = None if file is schema.main else f"{file.name}@{schema.origins[file.name]}"
            self._add(file.package, file.message_type, file, origin)

    def _add(
        self,
        prefix: str,
        messages: Sequence[MessageProto],
        file: descriptor_pb2.FileDescriptorProto,
        origin: str | None,
    ) -> None:
        syntax = file.syntax or "proto2"
        for message in messages:
            name = _join(prefix, message.name)
            self.by_name[name] = _MessageInfo(message, file.package, origin)
            self.syntax_of[id(message)] = syntax
            self._add(name, message.nested_type, file, origin)

    def field_type(self, field: FieldProto) -> _FieldType:
        if field.type in _SCALAR_GROUPS:
            name = field.type_name.lstrip(".") or _scalar_name(field.type)
            return _FieldType("SCALAR", name, group=_SCALAR_GROUPS[field.type])
        name = field.type_name.lstrip(".")
        entry = self.by_name[name].message
        if entry.options.map_entry:
            key, value = (self.field_type(f) for f in entry.field)
            return _FieldType("MAP", f"map<{key.name}, {value.name}>", key=key, value=value)
        return _FieldType("MESSAGE", name)


def compare(original: CompiledSchema, update: CompiledSchema) -> list[Difference]:
    """Every difference from ``original`` (the previous version) to ``update`` (the new one)."""
    differ = _Differ(_Types(original), _Types(update))
    if original.main.package != update.main.package:
        differ.note(
            "PACKAGE_CHANGED",
            f"the package changed from {original.main.package or '(none)'!r} "
            f"to {update.main.package or '(none)'!r}",
        )
    differ.compare_scope(
        (original.main.package, original.main.message_type, original.main.enum_type),
        (update.main.package, update.main.message_type, update.main.enum_type),
    )
    return differ.found


_Scope = tuple[str, Sequence[MessageProto], Sequence[EnumProto]]


@dataclass(frozen=True, slots=True)
class _Slot:
    """One side of a field number: the field there (if any), its oneof, its file's syntax."""

    field: FieldProto | None
    oneof: str | None
    syntax: str

    def written_label(self, field_type: _FieldType) -> str | None:
        """The label as the schema text spells it, or ``None`` where it spells none.

        oneof members and map fields take no label; proto3 (and editions) fields have one
        only with an explicit ``optional`` or ``repeated``.
        """
        assert self.field is not None
        if self.oneof is not None or field_type.kind == "MAP":
            return None
        if self.field.label == FieldProto.LABEL_REPEATED:
            return "repeated"
        if self.field.label == FieldProto.LABEL_REQUIRED:
            return "required"
        if self.field.proto3_optional or self.syntax == "proto2":
            return "optional"
        return None


class _Differ:
    """Walks both schemas side by side, keeping the registry-style path of where it is."""

    def __init__(
        self,
        old: _Types,
        new: _Types,
        path: Sequence[str] = (),
        in_progress: set[int] | None = None,
    ) -> None:
        self.old, self.new = old, new
        self.path = list(path)
        self.found: list[Difference] = []
        # Messages whose fields are being compared further up the stack: recursive
        # types (a message holding itself, via an import that changed) stop here.
        self.in_progress = in_progress if in_progress is not None else set()

    @contextlib.contextmanager
    def at(self, *parts: str) -> Iterator[None]:
        self.path.extend(parts)
        try:
            yield
        finally:
            del self.path[len(self.path) - len(parts) :]

    @property
    def where(self) -> str:
        return "#/" + "/".join(self.path)

    def note(self, kind: str, message: str) -> None:
        """Record a difference at the current path; ``message`` is a sentence fragment."""
        self.found.append(Difference(kind, self.where, f"{message[0].upper()}{message[1:]}."))

    # -- messages and enums -------------------------------------------------------------

    def compare_scope(self, old: _Scope, new: _Scope) -> None:
        """Messages and enums declared side by side (in a file or inside one message)."""
        old_prefix, old_messages, old_enums = old
        new_prefix, new_messages, new_enums = new
        old_by_name = _declared_messages(old_messages)
        new_by_name = _declared_messages(new_messages)
        for name in _union(old_by_name, new_by_name):
            with self.at(name):
                if name not in new_by_name:
                    self.note("MESSAGE_REMOVED", f"message {name!r} was removed")
                elif name not in old_by_name:
                    self.note("MESSAGE_ADDED", f"message {name!r} was added")
                else:
                    old_index, old_message = old_by_name[name]
                    new_index, new_message = new_by_name[name]
                    self.compare_message(
                        (_join(old_prefix, name), old_message),
                        (_join(new_prefix, name), new_message),
                    )
                    if old_index != new_index:
                        self.note("MESSAGE_MOVED", f"message {name!r} changed position")
        old_enum_by_name = {e.name: e for e in old_enums}
        new_enum_by_name = {e.name: e for e in new_enums}
        for name in _union(old_enum_by_name, new_enum_by_name):
            with self.at(name):
                if name not in new_enum_by_name:
                    self.note("ENUM_REMOVED", f"enum {name!r} was removed")
                elif name not in old_enum_by_name:
                    self.note("ENUM_ADDED", f"enum {name!r} was added")
                else:
                    self.compare_enum(old_enum_by_name[name], new_enum_by_name[name])

    def compare_enum(self, old: EnumProto, new: EnumProto) -> None:
        # With allow_alias several names share a number; the last one declared stands.
        old_names = {v.number: v.name for v in old.value}
        new_names = {v.number: v.name for v in new.value}
        for number in sorted(old_names.keys() | new_names.keys()):
            with self.at(str(number)):
                if number not in new_names:
                    self.note("ENUM_CONST_REMOVED", f"enum value {old_names[number]} was removed")
                elif number not in old_names:
                    self.note("ENUM_CONST_ADDED", f"enum value {new_names[number]} was added")
                elif old_names[number] != new_names[number]:
                    self.note(
                        "ENUM_CONST_CHANGED",
                        f"enum value {number} was renamed from {old_names[number]} "
                        f"to {new_names[number]}",
                    )

    def compare_message(self, old: tuple[str, MessageProto], new: tuple[str, MessageProto]) -> None:
        old_name, old_message = old
        new_name, new_message = new
        if id(old_message) not in self.in_progress:
            self.in_progress.add(id(old_message))
            try:
                self.compare_fields(old_message, new_message)
            finally:
                self.in_progress.discard(id(old_message))
        self.compare_scope(
            (old_name, old_message.nested_type, old_message.enum_type),
            (new_name, new_message.nested_type, new_message.enum_type),
        )

    # -- fields and oneofs --------------------------------------------------------------

    def compare_fields(self, old: MessageProto, new: MessageProto) -> None:
        old_fields, old_oneof_of = {f.number: f for f in old.field}, _oneof_members(old)
        new_fields, new_oneof_of = {f.number: f for f in new.field}, _oneof_members(new)
        old_oneofs, new_oneofs = set(old_oneof_of.values()), set(new_oneof_of.values())
        self._check_new_exclusivity(old_fields, old_oneof_of, new_oneof_of)
        for name in sorted(old_oneofs | new_oneofs):
            with self.at(name):
                if name not in new_oneofs:
                    self.note("ONEOF_REMOVED", f"oneof {name!r} was removed")
                elif name not in old_oneofs:
                    self.note("ONEOF_ADDED", f"oneof {name!r} was added")
        # A oneof that disappears together with all its members is a clean deletion;
        # losing some members while others live on elsewhere loses data.
        surviving = {old_oneof_of[n] for n in old_oneof_of if n in new_fields}
        deleted = old_oneofs - new_oneofs - surviving
        old_syntax, new_syntax = self.old.syntax_of[id(old)], self.new.syntax_of[id(new)]
        for number in sorted(old_fields.keys() | new_fields.keys()):
            self._compare_field_number(
                number,
                _Slot(old_fields.get(number), old_oneof_of.get(number), old_syntax),
                _Slot(new_fields.get(number), new_oneof_of.get(number), new_syntax),
                deleted,
            )

    def _check_new_exclusivity(
        self,
        old_fields: dict[int, FieldProto],
        old_oneof_of: dict[int, str],
        new_oneof_of: dict[int, str],
    ) -> None:
        """Fields that old data may carry together must not end up in one oneof.

        Members of one old oneof were exclusive already and brand-new fields carry no old
        data; anything else gathered into a oneof makes old messages ambiguous.
        """
        for name in dict.fromkeys(new_oneof_of.values()):
            members = [n for n, oneof in new_oneof_of.items() if oneof == name]
            origins: set[str] = set()
            moved_from_top_level = 0
            for number in members:
                if number in old_oneof_of:
                    origins.add(f"oneof {old_oneof_of[number]}")
                elif number in old_fields:
                    origins.add(f"field {number}")
                    moved_from_top_level += 1
            if len(origins) < 2:
                continue
            with self.at(name):
                if moved_from_top_level > 1:
                    self.note(
                        "MULTIPLE_FIELDS_MOVED_TO_ONEOF",
                        f"several fields that could be set together were moved into oneof {name!r}",
                    )
                else:
                    self.note(
                        "FIELD_MOVED_TO_EXISTING_ONEOF",
                        f"oneof {name!r} now joins fields from {', '.join(sorted(origins))}, "
                        "which could be set together before",
                    )

    def _compare_field_number(
        self, number: int, old: _Slot, new: _Slot, deleted_oneofs: set[str]
    ) -> None:
        """What happened to field ``number``: removed, added, moved, or changed."""
        old_field, old_oneof = old.field, old.oneof
        new_field, new_oneof = new.field, new.oneof
        tag = str(number)
        if new_field is None and old_field is not None:
            if old_oneof is not None:
                if old_oneof not in deleted_oneofs:
                    with self.at(old_oneof, tag):
                        self.note(
                            "ONEOF_FIELD_REMOVED",
                            f"field {old_field.name!r} was removed from oneof {old_oneof!r}",
                        )
                return
            required = old_field.label == FieldProto.LABEL_REQUIRED
            with self.at(tag):
                if required:
                    self.note(
                        "REQUIRED_FIELD_REMOVED", f"required field {old_field.name!r} was removed"
                    )
                else:
                    self.note("FIELD_REMOVED", f"field {old_field.name!r} was removed")
            return
        if old_field is None and new_field is not None:
            if new_oneof is not None:
                with self.at(new_oneof, tag):
                    self.note(
                        "ONEOF_FIELD_ADDED",
                        f"field {new_field.name!r} was added to oneof {new_oneof!r}",
                    )
                return
            with self.at(tag):
                if new_field.label == FieldProto.LABEL_REQUIRED:
                    self.note(
                        "REQUIRED_FIELD_ADDED", f"required field {new_field.name!r} was added"
                    )
                else:
                    self.note("FIELD_ADDED", f"field {new_field.name!r} was added")
            return
        if old_oneof is not None and new_oneof is None:
            with self.at(tag):
                self.note(
                    "ONEOF_FIELD_MOVED_TO_TOP_LEVEL",
                    f"field {new_field.name!r} moved out of oneof {old_oneof!r}",
                )
        with self.at(*((new_oneof,) if new_oneof else ()), tag):
            self.compare_field(old, new)

    def compare_field(self, old: _Slot, new: _Slot) -> None:
        old_field, new_field = old.field, new.field
        assert old_field is not None and new_field is not None
        if old_field.name != new_field.name:
            self.note(
                "FIELD_NAME_CHANGED",
                f"field {old_field.name!r} was renamed to {new_field.name!r}",
            )
        old_type, new_type = self.old.field_type(old_field), self.new.field_type(new_field)
        self.compare_types(
            f"field {new_field.name!r}",
            (old.written_label(old_type), old_type),
            (new.written_label(new_type), new_type),
        )

    def compare_types(
        self, what: str, old: tuple[str | None, _FieldType], new: tuple[str | None, _FieldType]
    ) -> None:
        """Compare what a field (or a map's key or value: ``what``) carries, and its label."""
        (old_label, old_type), (new_label, new_type) = old, new
        if old_type.kind != new_type.kind:
            self.note(
                "FIELD_KIND_CHANGED",
                f"{what} changed from {old_type.kind.lower()} {old_type.name} "
                f"to {new_type.kind.lower()} {new_type.name}",
            )
        elif old_type.kind == "MAP":
            assert old_type.key and new_type.key and old_type.value and new_type.value
            self.compare_types(f"the key of {what}", (None, old_type.key), (None, new_type.key))
            self.compare_types(
                f"the value of {what}", (None, old_type.value), (None, new_type.value)
            )
        elif old_type.kind == "MESSAGE":
            self.compare_message_types(what, old_type.name, new_type.name)
        elif old_type.group != new_type.group:
            self.note(
                "FIELD_SCALAR_KIND_CHANGED",
                f"{what} changed type from {old_type.name} to {new_type.name}, "
                "which is not wire-compatible",
            )
        elif old_label and new_label and old_label != new_label:
            if old_type.group == "STRING_OR_BYTES":
                self.note(
                    "FIELD_STRING_OR_BYTES_LABEL_CHANGED",
                    f"{what} changed label from {old_label} to {new_label}",
                )
            else:
                self.note(
                    "FIELD_NUMERIC_LABEL_CHANGED",
                    f"numeric {what} changed label from {old_label} to {new_label}; "
                    "packed and unpacked encodings differ",
                )

    def compare_message_types(self, what: str, old_name: str, new_name: str) -> None:
        """Same type name relative to its package; a changed import is compared in depth."""
        old_info, new_info = self.old.by_name[old_name], self.new.by_name[new_name]
        old_local, new_local = old_info.local_name(old_name), new_info.local_name(new_name)
        if old_local != new_local:
            self.note(
                "FIELD_NAMED_TYPE_CHANGED", f"{what} changed type from {old_name} to {new_name}"
            )
            return
        if old_info.origin == new_info.origin:
            # Both local (compared where the schema declares them) or both from the same
            # imported file with the same content: nothing to compare here.
            return
        inner = _Differ(self.old, self.new, old_local.split("."), self.in_progress)
        inner.compare_message((old_name, old_info.message), (new_name, new_info.message))
        self.found.extend(inner.found)
        if any(not d.compatible for d in inner.found):
            self.note(
                "FIELD_NAMED_TYPE_CHANGED",
                f"{what} has type {new_name}, imported from a file whose {new_local} "
                "changed incompatibly",
            )


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _union(first: dict[str, object], second: dict[str, object]) -> list[str]:
    """Names from both sides, in declaration order, for a stable report."""
    return [*first, *(n for n in second if n not in first)]


def _declared_messages(messages: Sequence[MessageProto]) -> dict[str, tuple[int, MessageProto]]:
    """Messages by name with their position, leaving out protoc's generated map entries."""
    declared = [m for m in messages if not m.options.map_entry]
    return {m.name: (i, m) for i, m in enumerate(declared)}


def _oneof_members(message: MessageProto) -> dict[int, str]:
    """Field number → name of its oneof, for oneofs written in the schema.

    proto3 ``optional`` fields sit in synthetic oneofs that protoc adds; they are not
    part of the schema as written, so they are left out.
    """
    return {
        f.number: message.oneof_decl[f.oneof_index].name
        for f in message.field
        if f.HasField("oneof_index") and not f.proto3_optional
    }


def _scalar_name(kind: int) -> str:
    return FieldProto.Type.Name(kind).removeprefix("TYPE_").lower()
