"""``normalize=true``: one text per meaning, so equivalent schemas share an id.

Confluent's registry, asked to normalise, stores a canonical text instead of the one
sent; two registrations that differ only in spelling then find the same schema.  Here:

- **Avro** — the ordering and naming rules of Avro's Parsing Canonical Form (full names,
  ``namespace`` folded into them, a primitive written as its bare name, attributes in
  the order ``name, type, fields, symbols, items, values, size``), but keeping what the
  Parsing Canonical Form drops and compatibility depends on (``default``, ``aliases``,
  ``order``, ``doc``, logical types), after those, in sorted order.  So ``"string"`` and
  ``{"type": "string"}`` are one schema, and so is a record whose attributes are
  reordered.
- **JSON Schema** — keys sorted at every level, no insignificant whitespace.
- **Protobuf** — the text is kept as sent, but the id is decided by the compiled
  descriptor (file name and source positions left out, serialised deterministically):
  the same schema as .proto text with other spacing or comments, or as the base64
  descriptor confluent-kafka's serializer sends, gets one id.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NAMED = frozenset({"record", "error", "enum", "fixed"})
_FIRST = ("name", "type", "fields", "symbols", "items", "values", "size")


def normalized(schema: str, schema_type: str) -> str:
    """The canonical text of a schema that has already parsed."""
    if schema_type == "AVRO":
        return _dump(_avro(json.loads(schema), ""))
    if schema_type == "JSON":
        return json.dumps(json.loads(schema), separators=(",", ":"), sort_keys=True)
    return schema.strip()


def protobuf_identity(compiled: Any) -> str:
    """What decides a normalised Protobuf schema's id: its compiled descriptor, without
    what does not change its meaning."""
    from google.protobuf import descriptor_pb2

    file = descriptor_pb2.FileDescriptorProto()
    file.CopyFrom(compiled.main)
    file.ClearField("name")
    file.ClearField("source_code_info")
    return hashlib.sha256(file.SerializeToString(deterministic=True)).hexdigest()


def _dump(node: Any) -> str:
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False)


def _full_name(name: str, namespace: str) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def _avro(node: Any, namespace: str) -> Any:
    if isinstance(node, str):
        return node if node in _PRIMITIVES else _full_name(node, namespace)
    if isinstance(node, list):
        return [_avro(branch, namespace) for branch in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if isinstance(kind, str) and kind in _PRIMITIVES and set(node) == {"type"}:
        return kind
    out: dict[str, Any] = {}
    inner = namespace
    if kind in _NAMED and isinstance(node.get("name"), str):
        name = node["name"]
        full = _full_name(name, node.get("namespace") or namespace if "." not in name else "")
        inner = full.rpartition(".")[0]
        out["name"] = full
    out["type"] = kind if isinstance(kind, str) else _avro(kind, namespace)
    if isinstance(node.get("fields"), list):
        out["fields"] = [_field(field, inner) for field in node["fields"]]
    for key in ("symbols", "size"):
        if key in node:
            out[key] = node[key]
    for key in ("items", "values"):
        if key in node:
            out[key] = _avro(node[key], inner)
    for key in sorted(set(node) - set(_FIRST) - {"namespace"}):
        out[key] = node[key]
    return out


def _field(field: Any, namespace: str) -> Any:
    if not isinstance(field, dict):
        return field
    out: dict[str, Any] = {"name": field.get("name"), "type": _avro(field.get("type"), namespace)}
    for key in sorted(set(field) - {"name", "type"}):
        out[key] = field[key]
    return out
