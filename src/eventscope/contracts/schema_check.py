"""Does the example body of a contract fit the schema registered for its destination?

A consumer's contract and the producer's schema are written by different teams; if
they disagree, one of them is wrong before any message is sent.  Each message body in a
pact is validated against the **newest** version of the subject its destination maps
to (the version the producer would register next), so a contract cannot promise what
the schema forbids, and a schema change that breaks a consumer's contract is refused in
the producer's CI.

The schemas come from a schemas directory (:func:`check_interaction`) or from a
Confluent-compatible schema registry (:func:`check_interaction_against_registry`), whose
latest version of the subject is the one checked.

Destination → subject: a message's ``destination`` metadata ``orders`` maps to the
subject ``orders-value`` (Confluent's default ``TopicNameStrategy`` for message values)
when the schemas directory (or the registry) has it, else to a subject named ``orders``
exactly.

Formats: JSON Schema subjects validate with ``jsonschema`` (the draft the schema's
``$schema`` names; ``$ref`` to other files through the subject's ``[references]``);
Avro subjects validate the JSON body as an Avro datum with ``fastavro`` (the body is
the record itself, not Avro's JSON encoding with union branches spelled out).
Protobuf subjects are not validated: a JSON body says nothing reliable about a binary
Protobuf payload.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from eventscope.contracts.pact_files import MessageInteraction
from eventscope.schemas import Subject

if TYPE_CHECKING:
    from eventscope.registry.client import RegistryClient
    from eventscope.registry.models import RegisteredSchema

SUBJECT_SUFFIX = "-value"


@dataclass(frozen=True, slots=True)
class SchemaVerdict:
    """The outcome of validating one body: ``problems`` empty means it fits.

    ``unchecked`` says why nothing was validated (a Protobuf subject, a non-JSON body).
    A schema read from a registry is ``registered``, with the ``registry``'s URL; one
    read from a schemas directory is ``subject``'s newest version.
    """

    subject: Subject | None
    problems: tuple[str, ...] = ()
    unchecked: str | None = None
    registered: RegisteredSchema | None = None
    registry: str | None = None
    label: str | None = None
    """The version checked, when found by a subject name strategy (for messages)."""


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
        return no_destination()
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


def check_interaction_against_registry(
    interaction: MessageInteraction, registry: RegistryClient
) -> SchemaVerdict:
    """Validate the example body against the latest version its destination's subject
    has in ``registry`` (the schema producers serialise with in production)."""
    from eventscope.registry.errors import RegistryError

    destination = interaction.destination
    if destination is None:
        return no_destination()
    try:
        names = registry.subjects()
        name = next((n for n in (destination + SUBJECT_SUFFIX, destination) if n in names), None)
        if name is None:
            return SchemaVerdict(
                None,
                (
                    f"no schema subject for destination {destination!r} in the schema registry "
                    f"{registry.url}: looked for {candidate_subjects(destination)} "
                    f"(subjects: {', '.join(names) or 'none'})",
                ),
            )
        registered = registry.latest(name)
        references = registry.reference_texts(registered)
    except RegistryError as exc:
        return SchemaVerdict(None, (f"the schema cannot be read: {exc}",), registry=registry.url)
    verdict = SchemaVerdict(None, registered=registered, registry=registry.url)
    unchecked = unchecked_reason(interaction.body, interaction.content_type, registered.format)
    if unchecked:
        return replace(verdict, unchecked=unchecked)
    try:
        schema = json.loads(registered.schema)
        parsed_references = {n: json.loads(text) for n, text in references.items()}
    except json.JSONDecodeError as exc:
        return replace(verdict, problems=(f"the registered schema is not JSON: {exc}",))
    problems = _problems(interaction.body, registered.format, schema, parsed_references)
    return replace(verdict, problems=problems)


def check_body(body: Any, content_type: str | None, subject: Subject) -> SchemaVerdict:
    if subject.problems:
        return SchemaVerdict(
            subject, tuple(f"the subject is unusable: {p}" for p in subject.problems)
        )
    latest = subject.latest
    if latest is None:
        return SchemaVerdict(subject, ("the subject has no versions",))
    unchecked = unchecked_reason(body, content_type, subject.format)
    if unchecked:
        return SchemaVerdict(subject, unchecked=unchecked)
    references: dict[str, Any] = {}
    path = latest.path  # rebound below, so an error names the file that failed
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
        for name, path in subject.references.items():
            references[name] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return SchemaVerdict(subject, (f"{path}: cannot be read: {exc}",))
    return SchemaVerdict(subject, _problems(body, subject.format, schema, references))


def no_destination() -> SchemaVerdict:
    return SchemaVerdict(
        None,
        (
            "the message has no 'destination' metadata, so its schema cannot be found; "
            "declare the destination in the consumer's expectation",
        ),
    )


def unchecked_reason(body: Any, content_type: str | None, fmt: str | None) -> str | None:
    """Why this body cannot be validated against a schema of this format, if it cannot."""
    if isinstance(body, bytes):
        return f"the body is not JSON ({content_type})"
    if fmt == "protobuf":
        return "Protobuf subjects are not validated against JSON bodies"
    return None


def _problems(
    body: Any, fmt: str | None, schema: Any, references: Mapping[str, Any]
) -> tuple[str, ...]:
    if fmt == "avro":
        return tuple(_avro_problems(body, schema, references))
    return tuple(json_schema_problems(body, schema, references))



def json_schema_problems(body: Any, schema: Any, references: Mapping[str, Any]) -> list[str]:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = [
        (name, Resource.from_contents(contents, default_specification=DRAFT202012))
        for name, contents in references.items()
    ]
    validator_class = jsonschema.validators.validator_for(schema)
    try:
        validator_class.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return [f"the schema itself is invalid at {exc.json_path}: {exc.message}"]
    validator = validator_class(schema, registry=Registry().with_resources(resources))
    errors = sorted(validator.iter_errors(body), key=lambda e: (e.json_path, e.message))
    return [line for error in errors for line in _json_schema_reasons(error)]


def _json_schema_reasons(error: Any) -> list[str]:
    """``$.coupon: not allowed ...`` for each property ``additionalProperties: false``
    refuses and ``$.sku: required ..., missing`` for each required one absent (jsonschema
    reports both at the object's path), else path and message."""
    if error.validator == "additionalProperties" and error.validator_value is False:
        declared = error.schema.get("properties", {})
        patterns = list(error.schema.get("patternProperties", {}))
        extra = [
            key
            for key in error.instance
            if key not in declared and not any(re.search(p, key) for p in patterns)
        ]
        if extra:
            return [
                f"{error.json_path}.{key}: not allowed by the schema (additionalProperties "
                f"is false; it declares: {', '.join(declared) or 'no properties'})"
                for key in extra
            ]
    if error.validator == "required" and isinstance(error.instance, dict):
        for key in error.validator_value:
            if key not in error.instance and error.message == f"{key!r} is a required property":
                return [f"{error.json_path}.{key}: required by the schema, missing"]
    return [f"{error.json_path}: {error.message}"]


def _avro_problems(body: Any, schema: Any, references: Mapping[str, Any]) -> list[str]:
    from fastavro import parse_schema
    from fastavro.validation import ValidationError, validate

    named: dict[str, Any] = {}
    try:
        for contents in references.values():
            parse_schema(contents, named_schemas=named)
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
