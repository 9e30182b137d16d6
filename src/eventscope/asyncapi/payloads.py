"""A schema version as an AsyncAPI message payload, in its own format.

JSON Schema goes inline (AsyncAPI's own schema format is a JSON Schema superset); Avro
and Protobuf go in a Multi Format Schema Object with their ``schemaFormat``, so tools
that understand the format (AsyncAPI's Avro and Protobuf schema parsers) read the
schema the registry holds, not a lossy translation.
"""

from __future__ import annotations

import json
import re
from typing import Any

from eventscope.contracts.schema_source import ResolvedSchema

AVRO_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"
PROTOBUF_FORMAT = "application/vnd.google.protobuf;version={version}"

_PROTO3 = re.compile(r"""\bsyntax\s*=\s*["']proto3["']""")

CONTENT_TYPES = {
    "json": "application/json",
    "avro": "application/vnd.apache.avro+binary",
    "protobuf": "application/x-protobuf",
}


def payload(schema: ResolvedSchema) -> Any:
    if schema.format == "avro":
        return {"schemaFormat": AVRO_FORMAT, "schema": json.loads(schema.text)}
    if schema.format == "protobuf":
        version = "3" if _PROTO3.search(schema.text) else "2"  # protoc's default is proto2
        return {"schemaFormat": PROTOBUF_FORMAT.format(version=version), "schema": schema.text}
    return json.loads(schema.text)


def content_type(schema: ResolvedSchema) -> str:
    return CONTENT_TYPES.get(schema.format, "application/json")
