"""Which schema subject a message on a destination is registered under.

Confluent's serializers pick the subject with a *subject name strategy*; eventscope
looks schemas up the same way, so what it validates is what production serialises with:

- ``TopicNameStrategy`` (the default): ``<topic>-value``, one schema per topic;
- ``RecordNameStrategy``: the record's fully-qualified name, whatever the topic;
- ``TopicRecordNameStrategy``: ``<topic>-<record name>``, several record types per topic.

A record's name is what Confluent's schema classes call ``name()``: an Avro schema's full
name (namespace included), a Protobuf file's first message's full name, a JSON Schema's
``title`` (``record`` when it has none).  With the record strategies a topic may carry
several types, so every subject the strategy could have chosen for the destination is a
candidate and a message must fit one of them.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping

VALUE_SUFFIX = "-value"
JSON_DEFAULT_NAME = "record"


class SubjectNameStrategy(enum.StrEnum):
    TOPIC = "TopicNameStrategy"
    RECORD = "RecordNameStrategy"
    TOPIC_RECORD = "TopicRecordNameStrategy"

    @classmethod
    def parse(cls, text: str) -> SubjectNameStrategy:
        """``topic``, ``record``, ``topic-record`` or a Confluent class name (with or
        without its Java package)."""
        short = {"topic": cls.TOPIC, "record": cls.RECORD, "topic-record": cls.TOPIC_RECORD}
        key = text.strip()
        if key.lower() in short:
            return short[key.lower()]
        for strategy in cls:
            if key.rsplit(".", 1)[-1] == strategy.value:
                return strategy
        known = ", ".join([*short, *(s.value for s in cls)])
        raise ValueError(f"unknown subject name strategy {text!r} (known: {known})")

    def candidates(self, destination: str, record_names: Mapping[str, str | None]) -> list[str]:
        """The subjects, among ``record_names`` (subject → its newest schema's record
        name), that this strategy could pick for a message on ``destination``."""
        if self is SubjectNameStrategy.TOPIC:
            for name in (destination + VALUE_SUFFIX, destination):
                if name in record_names:
                    return [name]
            return []
        wanted = []
        for subject, record in sorted(record_names.items()):
            if record is None:
                continue
            expected = record if self is SubjectNameStrategy.RECORD else f"{destination}-{record}"
            if subject == expected:
                wanted.append(subject)
        return wanted

    def describe(self, destination: str) -> str:
        """What was looked for, for error messages."""
        if self is SubjectNameStrategy.TOPIC:
            return f"{destination + VALUE_SUFFIX!r} or {destination!r} ({self.value})"
        if self is SubjectNameStrategy.RECORD:
            return f"a subject named after its record's full name ({self.value})"
        return f"a subject {destination + '-<record name>'!r} ({self.value})"

    @property
    def needs_record_names(self) -> bool:
        return self is not SubjectNameStrategy.TOPIC


def record_name(
    fmt: str | None, text: str, references: Mapping[str, str] | None = None
) -> str | None:
    """The record name Confluent gives a schema; ``None`` if it cannot be read.
    ``references`` (import path → text) are the files a Protobuf schema imports."""
    if fmt == "protobuf":
        return _protobuf_record_name(text, references or {})
    try:
        schema = json.loads(text)
    except json.JSONDecodeError:
        return None
    if fmt == "avro":
        return _avro_full_name(schema)
    if isinstance(schema, dict):
        title = schema.get("title")
        return title if isinstance(title, str) and title else JSON_DEFAULT_NAME
    return JSON_DEFAULT_NAME


def _avro_full_name(schema: object) -> str | None:
    if not isinstance(schema, dict) or not isinstance(schema.get("name"), str):
        return None
    name = schema["name"]
    namespace = schema.get("namespace")
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def _protobuf_record_name(text: str, references: Mapping[str, str]) -> str | None:
    from eventscope.schemas.errors import SchemaParseError
    from eventscope.schemas.protobuf.compile import compile_schema

    try:
        main = compile_schema(text, references).main
    except SchemaParseError:
        return None
    if not main.message_type:
        return None
    first = main.message_type[0].name
    return f"{main.package}.{first}" if main.package else first
