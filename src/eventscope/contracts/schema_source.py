"""Where the schema of a destination comes from: a schemas directory or a registry.

Both answer the same question — which schema versions could a message on this
destination have been serialised with, under a subject name strategy — as
:class:`ResolvedSchema` values carrying the text, its references and a label naming
the version (``orders-value v2 (schemas/orders-value/v2.json)``, or the registry's
schema id), so a failure can say exactly which schema was broken.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from eventscope.contracts.subject_names import SubjectNameStrategy, record_name

if TYPE_CHECKING:
    from eventscope.registry.client import RegistryClient
    from eventscope.schemas import Subject


class SchemaUnavailable(Exception):
    """No usable schema for a destination (no subject, an unreadable file, a registry
    that does not answer); the message says which and why."""


@dataclass(frozen=True, slots=True)
class ResolvedSchema:
    """One version of one subject, ready to validate against."""

    subject: str
    version: int
    format: str
    text: str
    label: str
    """``orders-value v2 (schemas/orders-value/v2.json)``: the version, for messages."""
    references: Mapping[str, str] = field(default_factory=dict)
    """Reference name (import path, ``$ref`` target, Avro type name) → schema text."""


class SchemaSource(Protocol):
    def resolve(self, destination: str, strategy: SubjectNameStrategy) -> list[ResolvedSchema]:
        """The newest version of every subject ``strategy`` could pick for
        ``destination``; raises :class:`SchemaUnavailable` when there is none."""
        ...


class DirectorySource:
    """Subjects of a schemas directory (see docs/schemas.md); newest version each."""

    def __init__(self, subjects: Sequence[Subject]) -> None:
        self.subjects = {subject.name: subject for subject in subjects}

    def resolve(self, destination: str, strategy: SubjectNameStrategy) -> list[ResolvedSchema]:
        names: dict[str, str | None] = {}
        loaded: dict[str, ResolvedSchema] = {}
        for name, subject in self.subjects.items():
            if strategy is SubjectNameStrategy.TOPIC:
                names[name] = None
                continue
            if subject.problems or subject.latest is None:
                names[name] = None
                continue
            loaded[name] = self._load(subject)
            names[name] = record_name(subject.format, loaded[name].text, loaded[name].references)
        chosen = strategy.candidates(destination, names)
        if not chosen:
            known = ", ".join(sorted(self.subjects)) or "none"
            raise SchemaUnavailable(
                f"no schema subject for destination {destination!r}: looked for "
                f"{strategy.describe(destination)} (subjects: {known})"
            )
        return [loaded.get(name) or self._load(self.subjects[name]) for name in chosen]

    @staticmethod
    def _load(subject: Subject) -> ResolvedSchema:
        if subject.problems:
            raise SchemaUnavailable(
                f"schema subject {subject.name!r} is unusable: " + "; ".join(subject.problems)
            )
        latest = subject.latest
        if latest is None:
            raise SchemaUnavailable(f"schema subject {subject.name!r} has no versions")
        references: dict[str, str] = {}
        path: Path = latest.path
        try:
            text = path.read_text(encoding="utf-8")
            for name, path in subject.references.items():
                references[name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SchemaUnavailable(f"{path}: cannot be read: {exc}") from None
        return ResolvedSchema(
            subject.name,
            latest.number,
            subject.format or "json",
            text,
            f"{subject.name} v{latest.number} ({shown_path(latest.path)})",
            references,
        )


class RegistrySource:
    """The latest version of each subject in a Confluent-compatible schema registry."""

    def __init__(self, client: RegistryClient) -> None:
        self.client = client

    def resolve(self, destination: str, strategy: SubjectNameStrategy) -> list[ResolvedSchema]:
        from eventscope.registry.errors import RegistryError

        try:
            subjects = self.client.subjects()
            loaded: dict[str, ResolvedSchema] = {}
            names: dict[str, str | None] = {}
            for name in subjects:
                if strategy is SubjectNameStrategy.TOPIC:
                    names[name] = None
                    continue
                if strategy is SubjectNameStrategy.TOPIC_RECORD and not name.startswith(
                    destination + "-"
                ):
                    continue
                loaded[name] = self._load(name)
                found = loaded[name]
                names[name] = record_name(found.format, found.text, found.references)
            chosen = strategy.candidates(destination, names)
            if not chosen:
                raise SchemaUnavailable(
                    f"no schema subject for destination {destination!r} in the schema "
                    f"registry {self.client.url}: looked for {strategy.describe(destination)} "
                    f"(subjects: {', '.join(subjects) or 'none'})"
                )
            return [loaded.get(name) or self._load(name) for name in chosen]
        except RegistryError as exc:
            raise SchemaUnavailable(f"the schema cannot be read: {exc}") from None

    def _load(self, name: str) -> ResolvedSchema:
        registered = self.client.latest(name)
        texts = self.client.reference_texts(registered)
        return ResolvedSchema(
            name,
            registered.version,
            registered.format,
            registered.schema,
            f"{name} v{registered.version} (schema id {registered.id} in {self.client.url})",
            texts,
        )


def shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it is under it, else as it is."""
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)
