"""Does the example body of a contract fit the schema registered for its destination?

A consumer's contract and the producer's schema are written by different teams; if
they disagree, one of them is wrong before any message is sent.  Each message body in a
pact is validated against the **newest** version of the subject its destination maps
to (the version the producer would register next), so a contract cannot promise what
the schema forbids, and a schema change that breaks a consumer's contract is refused in
the producer's CI.

Destination → subject: a message's ``destination`` metadata ``orders`` maps to the
subject ``orders-value`` (Confluent's default ``TopicNameStrategy`` for message values)
when the schemas directory has it, else to a subject named ``orders`` exactly.

Formats: JSON Schema subjects validate with ``jsonschema`` (the draft the schema's
``$schema`` names; ``$ref`` to other files through the subject's ``[references]``);
Avro subjects validate the JSON body as an Avro datum with ``fastavro`` (the body is
the record itself, not Avro's JSON encoding with union branches spelled out).
Protobuf subjects are not validated: a JSON body says nothing reliable about a binary
Protobuf payload.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventscope.contracts.pact_files import MessageInteraction
from eventscope.schemas import Subject

SUBJECT_SUFFIX = "-value"


@dataclass(frozen=True, slots=True)
class SchemaVerdict:
    """The outcome of validating one body: ``problems`` empty means it fits.

    ``unchecked`` says why nothing was validated (a Protobuf subject, a non-JSON body).
    """

    subject: Subject | None
    problems: tuple[str, ...] = ()
    unchecked: str | None = None


def subject_for(destination: str, subjects: Sequence[Subject]) -> Subject | None:
    by_name = {subject.name: subject for subject in subjects}
    return by_name.get(destination + SUBJECT_SUFFIX) or by_name.get(destination)


def candidate_subjects(destination: str) -> str:
    """The subject names looked up for ``destination``, for error messages."""
    return f"{destination + SUBJECT_SUFFIX!r} or {destination!r}"


def check_interaction(
    interaction: MessageInteraction, subjects: Sequence[Subject]
) -> SchemaVerdict:
    """Validate the interaction's example body against its destination's newest schema."""
    destination = interaction.destination
    if destination is None:
        return SchemaVerdict(
            None,
            (
                "the message has no 'destination' metadata, so its schema cannot be found; "
                "declare the destination in the consumer's expectation",
            ),
        )
    subject = subject_for(destination, subjects)
    if subject is None:
        names = ", ".join(s.name for s in subjects) or "none"
        return SchemaVerdict(
            None,
            (
                f"no schema subject for destination {destination!r}: looked for "
                f"{candidate_subjects(destination)} (subjects: {names})",
            ),
        )
    return check_body(interaction.body, interaction.content_type, subject)


def check_body(body: Any, content_type: str | None, subject: Subject) -> SchemaVerdict:
    if subject.problems:
        return SchemaVerdict(
            subject, tuple(f"the subject is unusable: {p}" for p in subject.problems)
        )
    latest = subject.latest
    if latest is None:
        return SchemaVerdict(subject, ("the subject has no versions",))
    if isinstance(body, bytes):
        return SchemaVerdict(subject, unchecked=f"the body is not JSON ({content_type})")
    if subject.format == "protobuf":
        return SchemaVerdict(
            subject, unchecked="Protobuf subjects are not validated against JSON bodies"
        )
    try:
        schema = json.loads(latest.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return SchemaVerdict(subject, (f"{latest.path}: cannot be read: {exc}",))
    if subject.format == "avro":
        return SchemaVerdict(subject, tuple(_avro_problems(body, schema, subject)))
    return SchemaVerdict(subject, tuple(_json_schema_problems(body, schema, subject)))


def _json_schema_problems(body: Any, schema: Any, subject: Subject) -> list[str]:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = []
    for name, path in subject.references.items():
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append(
            (name, Resource.from_contents(contents, default_specification=DRAFT202012))
        )
    validator_class = jsonschema.validators.validator_for(schema)
    try:
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return [f"the schema itself is invalid at {exc.json_path}: {exc.message}"]
    validator = validator_class(schema, registry=Registry().with_resources(resources))
    errors = sorted(validator.iter_errors(body), key=lambda e: (e.json_path, e.message))
    return [f"{error.json_path}: {error.message}" for error in errors]


def _avro_problems(body: Any, schema: Any, subject: Subject) -> list[str]:
    from fastavro import parse_schema
    from fastavro.validation import ValidationError, validate

    named: dict[str, Any] = {}
    try:
        for path in subject.references.values():
            parse_schema(json.loads(path.read_text(encoding="utf-8")), named_schemas=named)
        parsed = parse_schema(schema, named_schemas=named)
    except Exception as exc:  # fastavro raises several types for a bad schema
        return [f"the schema itself is invalid: {exc}"]
    try:
        validate(body, parsed, raise_errors=True)
    except ValidationError as exc:
        return [_avro_reason(error) for error in exc.errors]
    return []


def _avro_reason(error: Any) -> str:
    """``acme.Order.quantity: '2' is not a valid int`` from fastavro's error data."""
    expected = error.schema if isinstance(error.schema, str) else json.dumps(error.schema)
    return f"{error.field or '$'}: {error.datum!r} is not a valid {expected}"
