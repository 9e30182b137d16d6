"""Does the message the provider really sent fit the schema of its destination?

A pact says what consumers ask for; the destination's schema says what the provider
may send.  Provider verification checks the first; this module checks the second, on
the very message the real ``@producer`` sent during verification, so a provider that
adds a field its registered schema forbids fails even though every consumer is happy.

Each format is checked the way its serializer would: JSON Schema with ``jsonschema``
(the draft its ``$schema`` names); Avro by encoding the record with ``fastavro`` against
the subject's writer schema, strictly (an unknown field is an error, as it is for a
serializer that would silently drop it); Protobuf by parsing the message into the
schema's message type (a JSON body with ``json_format``, which refuses unknown fields;
a binary body from the wire).  A binary Avro body is decoded with the writer schema,
after the Confluent wire-format header if it has one.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventscope.contracts.capture import CapturedMessage
from eventscope.contracts.schema_source import ResolvedSchema, SchemaSource, SchemaUnavailable
from eventscope.contracts.subject_names import SubjectNameStrategy

_CONFLUENT_MAGIC = 0
_NO_FIELD = re.compile(
    r'Message type "(?P<type>[\w.]+)" has no field named "(?P<field>\w+)" at "(?P<at>[\w.]+)"'
)
_FAILED_FIELD = re.compile(r"Failed to parse (?P<field>\w+) field: (?P<reason>.*?)\.?$")


@dataclass(frozen=True, slots=True)
class SentVerdict:
    """The sent message against every candidate schema: it fits if ``problems`` of at
    least one candidate are empty.  ``unavailable`` says why no schema could be read."""

    destination: str
    results: tuple[tuple[ResolvedSchema, tuple[str, ...]], ...] = ()
    unavailable: str | None = None

    @property
    def fits(self) -> bool:
        return self.unavailable is None and any(not problems for _, problems in self.results)


def check_sent(
    sent: CapturedMessage,
    source: SchemaSource,
    strategy: SubjectNameStrategy = SubjectNameStrategy.TOPIC,
) -> SentVerdict:
    """Validate ``sent`` against the newest schema(s) of its destination."""
    try:
        schemas = source.resolve(sent.destination, strategy)
    except SchemaUnavailable as exc:
        return SentVerdict(sent.destination, unavailable=str(exc))
    results = []
    for schema in schemas:
        results.append((schema, tuple(problems_of(sent.body, schema))))
        if not results[-1][1]:
            break
    return SentVerdict(sent.destination, tuple(results))


def problems_of(body: Any, schema: ResolvedSchema) -> list[str]:
    """What is wrong with ``body`` for ``schema``, each problem led by its field path."""
    if schema.format == "protobuf":
        return _protobuf_problems(body, schema)
    if schema.format == "avro" and isinstance(body, bytes | bytearray):
        return _avro_binary_problems(bytes(body), schema)
    try:
        value = _json_value(body)
    except ValueError as exc:
        return [f"$: the body is not JSON: {exc}"]
    try:
        parsed = json.loads(schema.text)
        references = {name: json.loads(text) for name, text in schema.references.items()}
    except json.JSONDecodeError as exc:
        return [f"the schema {schema.label} is not JSON: {exc}"]
    if schema.format == "avro":
        return _avro_problems(value, parsed, references)
    from eventscope.contracts.schema_check import json_schema_problems

    return json_schema_problems(value, parsed, references)


def _json_value(body: Any) -> Any:
    if isinstance(body, bytes | bytearray):
        body = bytes(body).decode("utf-8")
    if isinstance(body, str):
        return json.loads(body)
    return body


# --- Avro ---------------------------------------------------------------------------


def _parsed_avro(schema: Any, references: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    from fastavro import parse_schema

    named: dict[str, Any] = {}
    for contents in references.values():
        parse_schema(contents, named_schemas=named)
    return parse_schema(schema, named_schemas=named), named


def _avro_problems(value: Any, schema: Any, references: Mapping[str, Any]) -> list[str]:
    from fastavro import schemaless_writer
    from fastavro.validation import ValidationError, validate

    try:
        parsed, _ = _parsed_avro(schema, references)
    except Exception as exc:  # fastavro raises several types for a bad schema
        return [f"the schema itself is invalid: {exc}"]
    try:
        schemaless_writer(io.BytesIO(), parsed, value, strict_allow_default=True)
    except Exception as exc:  # the encoder's verdict; the paths come from below
        reasons = _unknown_fields(value, schema, "$", _avro_named(schema, references))
        try:
            validate(value, parsed, raise_errors=True)
        except ValidationError as invalid:
            reasons += [
                f"{error.field or '$'}: {error.datum!r} is not a valid "
                f"{error.schema if isinstance(error.schema, str) else json.dumps(error.schema)}"
                for error in invalid.errors
            ]
        return reasons or [f"$: cannot be encoded with the writer schema: {exc}"]
    return []


def _avro_named(schema: Any, references: Mapping[str, Any]) -> dict[str, Any]:
    """Full name → record definition, for following references by name."""
    found: dict[str, Any] = {}

    def walk(node: Any, namespace: str | None) -> None:
        if isinstance(node, list):
            for branch in node:
                walk(branch, namespace)
        elif isinstance(node, dict):
            kind = node.get("type")
            name = node.get("name")
            space = node.get("namespace", namespace)
            if isinstance(name, str) and kind in ("record", "error", "enum", "fixed"):
                full = name if "." in name or not space else f"{space}.{name}"
                found[full] = node
                found.setdefault(name, node)
                space = full.rsplit(".", 1)[0] if "." in full else space
            for child in node.get("fields", []) if kind in ("record", "error") else []:
                walk(child.get("type") if isinstance(child, dict) else None, space)
            for key in ("items", "values"):
                if key in node:
                    walk(node[key], space)
            if isinstance(kind, dict | list):
                walk(kind, space)

    for contents in references.values():
        walk(contents, None)
    walk(schema, None)
    return found


def _unknown_fields(value: Any, schema: Any, path: str, named: Mapping[str, Any]) -> list[str]:
    """``$.address.zip: not a field of acme.Address`` for every field the record
    schemas along the way do not declare (what a strict encoder refuses)."""
    if isinstance(schema, str):
        schema = named.get(schema, schema)
    if isinstance(schema, list):  # a union: the record branches a mapping could be
        records = [named.get(b, b) if isinstance(b, str) else b for b in schema]
        records = [r for r in records if isinstance(r, dict) and r.get("type") == "record"]
        return _unknown_fields(value, records[0], path, named) if len(records) == 1 else []
    if not isinstance(schema, dict):
        return []
    kind = schema.get("type")
    if isinstance(kind, dict | list | str) and kind not in ("record", "error", "array", "map"):
        return _unknown_fields(value, kind, path, named) if isinstance(kind, dict | list) else []
    if kind in ("record", "error") and isinstance(value, Mapping):
        fields = {f["name"]: f.get("type") for f in schema.get("fields", [])}
        found = [
            f"{path}.{key}: not a field of {schema.get('name')} (it has: {', '.join(fields)})"
            for key in value
            if key not in fields
        ]
        for key, child in fields.items():
            if key in value:
                found += _unknown_fields(value[key], child, f"{path}.{key}", named)
        return found
    if kind == "array" and isinstance(value, Sequence) and not isinstance(value, str):
        found = []
        for index, item in enumerate(value):
            found += _unknown_fields(item, schema.get("items"), f"{path}[{index}]", named)
        return found
    if kind == "map" and isinstance(value, Mapping):
        found = []
        for key, item in value.items():
            found += _unknown_fields(item, schema.get("values"), f"{path}.{key}", named)
        return found
    return []


def _avro_binary_problems(body: bytes, schema: ResolvedSchema) -> list[str]:
    from fastavro import schemaless_reader

    try:
        parsed, _ = _parsed_avro(
            json.loads(schema.text),
            {name: json.loads(text) for name, text in schema.references.items()},
        )
    except Exception as exc:
        return [f"the schema itself is invalid: {exc}"]
    payload = body[5:] if len(body) > 5 and body[0] == _CONFLUENT_MAGIC else body
    stream = io.BytesIO(payload)
    try:
        schemaless_reader(stream, parsed)
    except Exception as exc:
        return [f"$: the Avro body cannot be decoded with the writer schema: {exc}"]
    if stream.tell() != len(payload):
        return [f"$: {len(payload) - stream.tell()} bytes left after decoding the record"]
    return []


# --- Protobuf -----------------------------------------------------------------------


def _protobuf_problems(body: Any, schema: ResolvedSchema) -> list[str]:
    from google.protobuf import json_format

    from eventscope.schemas.errors import SchemaParseError

    try:
        message_class = _message_class(schema)
    except SchemaParseError as exc:
        return [f"the schema itself is invalid: {exc}"]
    if message_class is None:
        return ["the schema declares no message type"]
    message = message_class()
    if isinstance(body, bytes | bytearray):
        try:
            message.ParseFromString(bytes(body))
        except Exception as exc:  # DecodeError, or a message that is not this type
            return [f"$: the body does not parse as {message.DESCRIPTOR.full_name}: {exc}"]
        return []
    try:
        json_format.ParseDict(_json_value(body), message)
    except (json_format.ParseError, ValueError) as exc:
        return [_protobuf_reason(str(exc), message.DESCRIPTOR.full_name)]
    return []


def _protobuf_reason(text: str, type_name: str) -> str:
    """``$.coupon: not a field of acme.Order`` from json_format's ``Message type
    "acme.Order" has no field named "coupon" at "Order"`` (its path starts at the type's
    short name), ``$.q: ...`` from ``Failed to parse q field: ...``."""
    text = " ".join(text.split())
    unknown = _NO_FIELD.search(text)
    if unknown:
        where = unknown["at"].split(".")[1:]
        path = "".join(f".{part}" for part in [*where, unknown["field"]])
        return f"${path}: not a field of {unknown['type']}"
    failed = _FAILED_FIELD.search(text)
    if failed:
        return f"$.{failed['field']}: not a valid {type_name} field: {failed['reason']}"
    return f"$: not a valid {type_name}: {text}"


def _message_class(schema: ResolvedSchema) -> Any:
    """The first message type of the compiled schema (the one Confluent's serializer
    registers a file under), as a class protobuf can parse into."""
    from google.protobuf import descriptor_pool, message_factory

    from eventscope.schemas.protobuf.compile import compile_schema

    compiled = compile_schema(schema.text, schema.references)
    if not compiled.main.message_type:
        return None
    pool = descriptor_pool.DescriptorPool()
    pending = [*compiled.imports, compiled.main]
    while pending:  # dependencies first: retry a file until what it imports is in
        added = []
        for file in pending:
            try:
                pool.AddSerializedFile(file.SerializeToString())
            except (TypeError, KeyError):
                continue
            added.append(file)
        if not added:
            # let protobuf say what is missing
            pool.AddSerializedFile(pending[0].SerializeToString())
        pending = [f for f in pending if f not in added]
    main = compiled.main
    first = main.message_type[0].name
    full = f"{main.package}.{first}" if main.package else first
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full))
