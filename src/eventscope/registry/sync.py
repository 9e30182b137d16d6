"""``eventscope schema push`` / ``pull``: a schemas directory and a registry, kept equal.

The schemas directory (docs/schemas.md) is the history a team reviews in git; a
registry is where producers and consumers find it.  ``push`` registers, subject by
subject and oldest first, every version the registry does not hold yet, after judging
each with eventscope's checker against the versions the registry holds (the mode from
the subject's ``config.toml``), so an incompatible version is refused with the
checker's own messages before anything is sent; the registry judges it again when it is
registered.  ``pull`` writes every live version of a registry's subjects into the
directory layout (``<subject>/v<N>.<suffix>``, a ``config.toml`` for a subject's own
level and its references), leaving files that already hold the same schema alone.

Works with any Confluent-compatible registry, through :class:`RegistryClient`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from eventscope.registry.client import RegistryClient
from eventscope.registry.errors import (
    CompatibilityNotConfiguredError,
    IncompatibleSchemaError,
    InvalidSchemaError,
    SchemaNotFoundError,
    SubjectNotFoundError,
)
from eventscope.registry.models import RegisteredSchema, SchemaReference, schema_type_of
from eventscope.schemas.compatibility import check_compatibility
from eventscope.schemas.directory import SchemaDirectoryError, Subject, load_schema_directory
from eventscope.schemas.files import read_schema_text
from eventscope.schemas.formats import SCHEMA_TYPES

#: The suffix ``pull`` writes for each schema type.
SUFFIXES = {"AVRO": ".avsc", "JSON": ".json", "PROTOBUF": ".proto"}
REFERENCES_DIRECTORY = "_references"  # "_": not a subject (docs/schemas.md)


@dataclass(slots=True)
class Pushed:
    """What ``push`` did to one subject."""

    subject: str
    registered: list[tuple[Path, int]] = field(default_factory=list)  # file, schema id
    unchanged: int = 0
    refused: Path | None = None
    messages: list[str] = field(default_factory=list)


def push(client: RegistryClient, root: Path | str) -> list[Pushed]:
    """Register what the registry lacks from ``root``; stop a subject at the first
    version that is refused (the versions after it depend on it)."""
    subjects = load_schema_directory(root)
    problems = [problem for subject in subjects for problem in subject.problems]
    if problems:
        raise SchemaDirectoryError("; ".join(problems))
    return [_push_subject(client, subject) for subject in subjects]


def _push_subject(client: RegistryClient, subject: Subject) -> Pushed:
    assert subject.format is not None  # a subject without problems has one format
    schema_type = schema_type_of(subject.format)
    outcome = Pushed(subject.name)
    references, texts = _push_references(client, subject, schema_type)
    try:
        held = [client.version(subject.name, n).schema for n in client.versions(subject.name)]
    except SubjectNotFoundError:
        held = []
    if client.compatibility(subject.name) != subject.mode:
        client.set_compatibility(subject.mode, subject.name)
    for version in subject.versions:
        text = read_schema_text(version.path)
        try:
            client.lookup(subject.name, text, schema_type, references)
            outcome.unchanged += 1
            continue
        except (SubjectNotFoundError, SchemaNotFoundError):
            pass
        previous = held if subject.mode.transitive else held[-1:]
        result = check_compatibility(
            text, previous, format=subject.format, mode=subject.mode, references=texts or None
        )
        if not result.is_compatible:
            outcome.refused = version.path
            outcome.messages = [
                f"{item.type} at {item.location}: {item.message}"
                for item in result.incompatibilities
            ]
            break
        try:
            schema_id = client.register(subject.name, text, schema_type, references)
        except IncompatibleSchemaError as exc:  # the registry judged otherwise
            outcome.refused, outcome.messages = version.path, [exc.message]
            break
        outcome.registered.append((version.path, schema_id))
        held.append(text)
    return outcome


def _push_references(
    client: RegistryClient, subject: Subject, schema_type: str
) -> tuple[tuple[SchemaReference, ...], dict[str, str]]:
    """Register the subject's reference files under their names (the convention of
    Confluent's tooling); the references to them and their texts."""
    references: list[SchemaReference] = []
    texts: dict[str, str] = {}
    pending = dict(subject.references)
    while pending:  # a reference may refer to another: register what parses first
        progressed = False
        for name, path in list(pending.items()):
            text = read_schema_text(path)
            try:
                client.register(name, text, schema_type, tuple(references))
            except InvalidSchemaError:  # refers to one not registered yet: next round
                continue
            version = client.lookup(name, text, schema_type, tuple(references)).version
            references.append(SchemaReference(name, name, version))
            texts[name] = text
            del pending[name]
            progressed = True
        if not progressed:
            raise SchemaDirectoryError(
                f"{subject.directory}: cannot register the references {', '.join(pending)}"
            )
    return tuple(references), texts


@dataclass(slots=True)
class Pulled:
    """What ``pull`` did to one subject."""

    subject: str
    written: list[Path] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)


def pull(
    client: RegistryClient, root: Path | str, subjects: list[str] | None = None
) -> list[Pulled]:
    """Write the registry's subjects (all, or ``subjects``) into ``root``."""
    root = Path(root)
    return [_pull_subject(client, root, name) for name in subjects or client.subjects()]


def _pull_subject(client: RegistryClient, root: Path, name: str) -> Pulled:
    outcome = Pulled(name)
    directory = root / name
    references: dict[str, str] = {}
    for number in client.versions(name):
        registered = client.version(name, number)
        existing = _version_file(directory, number)
        text = _pretty(registered)
        for reference in registered.references:
            references[reference.name] = _pull_reference(client, root, reference, outcome)
        if existing is None:
            path = directory / f"v{number}{SUFFIXES[registered.schema_type]}"
            _write(path, text, outcome)
        elif _same(read_schema_text(existing), registered):
            outcome.unchanged += 1
        else:
            outcome.conflicts.append(
                f"{existing}: holds another schema than version {number} of {name}"
            )
    try:
        level = client.compatibility(name, inherit=False)
    except CompatibilityNotConfiguredError:
        level = None
    config = "".join(
        [f'compatibility = "{level}"\n' if level is not None else ""]
        + (["\n[references]\n"] if references else [])
        + [f"{json.dumps(ref)} = {json.dumps(path)}\n" for ref, path in sorted(references.items())]
    )
    if config and not (directory / "config.toml").exists():
        _write(directory / "config.toml", config, outcome)
    return outcome


def _pull_reference(
    client: RegistryClient, root: Path, reference: SchemaReference, outcome: Pulled
) -> str:
    """Write a referenced schema under ``_references/``; its path from the subject."""
    registered = client.version(reference.subject, reference.version)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", reference.name)
    suffix = SUFFIXES[registered.schema_type]
    filename = safe if safe.endswith(suffix) else safe + suffix
    path = root / REFERENCES_DIRECTORY / f"{reference.subject}-v{reference.version}" / filename
    if not path.exists():
        _write(path, _pretty(registered), outcome)
    return str(Path("..", REFERENCES_DIRECTORY, path.parent.name, filename))


def _version_file(directory: Path, number: int) -> Path | None:
    if not directory.is_dir():
        return None
    pattern = re.compile(rf"v{number}(?:[-_].*)?\.[A-Za-z]+")
    found = [path for path in directory.iterdir() if pattern.fullmatch(path.name)]
    return found[0] if found else None


def _pretty(registered: RegisteredSchema) -> str:
    if registered.schema_type in ("AVRO", "JSON"):
        return json.dumps(json.loads(registered.schema), indent=2, ensure_ascii=False) + "\n"
    return registered.schema.rstrip("\n") + "\n"


def _same(text: str, registered: RegisteredSchema) -> bool:
    if SCHEMA_TYPES[registered.schema_type] in ("avro", "json"):
        try:
            return json.loads(text) == json.loads(registered.schema)
        except ValueError:
            return False
    return text.strip() == registered.schema.strip()


def _write(path: Path, text: str, outcome: Pulled) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    outcome.written.append(path)
