"""The embedded registry's state: subjects, versions, global ids, compatibility levels.

Kept in memory behind one lock: an embedded registry serves one developer or one CI
job, so simple and obviously consistent beats concurrent.  The rules are Confluent
Schema Registry's:

- an id names a schema (its type, its text up to JSON whitespace, its references)
  everywhere: the same schema registered under two subjects gets the same id;
- registering a schema a subject already has answers its id and adds no version;
- a new version is checked under the subject's compatibility level, else the global
  one (default ``BACKWARD``), against the live versions that level names, with
  eventscope's checker, so the registry refuses exactly what ``eventscope schema
  check`` refuses;
- deleting a subject is soft first (versions hidden, numbering continues), permanent
  only after that.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eventscope.registry.errors import (
    CompatibilityNotConfiguredError,
    IncompatibleSchemaError,
    InvalidCompatibilityLevelError,
    InvalidSchemaError,
    RegistryError,
    SchemaNotFoundError,
    SubjectNotFoundError,
    SubjectNotSoftDeletedError,
    SubjectSoftDeletedError,
    VersionNotFoundError,
)
from eventscope.registry.models import RegisteredSchema, SchemaReference, StoredSchema
from eventscope.schemas.compatibility import check_compatibility
from eventscope.schemas.errors import SchemaParseError
from eventscope.schemas.formats import SCHEMA_TYPES, format_module
from eventscope.schemas.verdicts import Incompatibility, Mode

LATEST = -1
DIFFERENT_TYPE = "Incompatible because of different schema type"
_LEVELS = ", ".join(mode.lower() for mode in Mode)


@dataclass(slots=True)
class _Version:
    number: int
    id: int
    deleted: bool = False


@dataclass(slots=True)
class _Subject:
    versions: list[_Version] = field(default_factory=list)

    def live(self) -> list[_Version]:
        return [version for version in self.versions if not version.deleted]


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A schema from a request, parsed, with the key that decides its id."""

    schema_type: str
    text: str
    references: tuple[SchemaReference, ...]
    parsed: Any

    @property
    def key(self) -> tuple[str, str, tuple[SchemaReference, ...]]:
        return (self.schema_type, self.text, self.references)


def parse_mode(value: object) -> Mode:
    """A compatibility level from a request, any case; 42203 otherwise."""
    if isinstance(value, str) and value.upper() in Mode.__members__:
        return Mode(value.upper())
    raise InvalidCompatibilityLevelError(f"Invalid compatibility level. Valid values are {_LEVELS}")


class RegistryStore:
    """Every subject, version, schema id and compatibility level of one registry."""

    def __init__(self, compatibility: Mode | str = Mode.BACKWARD) -> None:
        self._lock = threading.RLock()
        self._schemas: dict[int, StoredSchema] = {}
        self._ids: dict[tuple[str, str, tuple[SchemaReference, ...]], int] = {}
        self._subjects: dict[str, _Subject] = {}
        self._default = self._global = parse_mode(str(compatibility))
        self._levels: dict[str, Mode] = {}

    # -- reading -----------------------------------------------------------------

    def subjects(self) -> list[str]:
        """Subjects with at least one live version, sorted."""
        with self._lock:
            return sorted(name for name, subject in self._subjects.items() if subject.live())

    def versions(self, subject: str) -> list[int]:
        with self._lock:
            return [version.number for version in self._live(subject)]

    def version(self, subject: str, number: int) -> RegisteredSchema:
        """Version ``number`` of ``subject`` (``-1``: the latest live one)."""
        with self._lock:
            live = self._live(subject)
            if number == LATEST:
                return self._registered(subject, live[-1])
            for version in live:
                if version.number == number:
                    return self._registered(subject, version)
            raise VersionNotFoundError(f"Version {number} not found.")

    def schema(self, schema_id: int) -> StoredSchema:
        with self._lock:
            if schema_id not in self._schemas:
                raise SchemaNotFoundError(f"Schema {schema_id} not found")
            return self._schemas[schema_id]

    def uses(self, schema_id: int) -> list[tuple[str, int]]:
        """The live (subject, version) pairs whose schema is ``schema_id``."""
        with self._lock:
            self.schema(schema_id)
            return [
                (name, version.number)
                for name, subject in sorted(self._subjects.items())
                for version in subject.live()
                if version.id == schema_id
            ]

    def lookup(
        self,
        subject: str,
        schema: str,
        schema_type: str,
        references: Sequence[SchemaReference] = (),
    ) -> RegisteredSchema:
        """The live version of ``subject`` holding this schema (40403 if none)."""
        with self._lock:
            live = self._live(subject)
            candidate = self._candidate(schema, schema_type, references)
            schema_id = self._ids.get(candidate.key)
            for version in live:
                if version.id == schema_id:
                    return self._registered(subject, version)
            raise SchemaNotFoundError("Schema not found")

    # -- writing -----------------------------------------------------------------

    def register(
        self,
        subject: str,
        schema: str,
        schema_type: str,
        references: Sequence[SchemaReference] = (),
        *,
        version: int | None = None,
        check: bool = True,
    ) -> RegisteredSchema:
        """Add ``schema`` to ``subject`` unless it is already there; answer its version.

        ``check=False`` with an explicit ``version`` imports a history as it is (the
        preload of a schemas directory): versions were accepted when they were written.
        """
        with self._lock:
            candidate = self._candidate(schema, schema_type, references)
            entry = self._subjects.get(subject)
            existing = self._ids.get(candidate.key)
            if entry is not None and version is None:
                for old in entry.live():
                    if old.id == existing:
                        return self._registered(subject, old)
            if check:
                history = entry.live() if entry is not None else []
                mode = self.compatibility(subject, default_to_global=True)
                targets = history if mode.transitive else history[-1:]
                messages = self._verdict(candidate, targets, mode)
                if messages:
                    raise IncompatibleSchemaError(
                        "Schema being registered is incompatible with an earlier schema for "
                        f'subject "{subject}", details: [{", ".join(messages)}]'
                    )
            entry = self._subjects.setdefault(subject, _Subject())
            numbers = [old.number for old in entry.versions]
            if version is None:
                version = max(numbers, default=0) + 1
            elif version in numbers:
                raise InvalidSchemaError(f"Subject '{subject}' already has version {version}")
            schema_id = existing if existing is not None else self._new_id(candidate)
            added = _Version(version, schema_id)
            entry.versions.append(added)
            entry.versions.sort(key=lambda old: old.number)
            return self._registered(subject, added)

    def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        """Soft-delete ``subject`` (or, once soft-deleted, remove it); the versions deleted."""
        with self._lock:
            entry = self._subjects.get(subject)
            if entry is None:
                raise SubjectNotFoundError(f"Subject '{subject}' not found.")
            live = entry.live()
            if permanent:
                if live:
                    raise SubjectNotSoftDeletedError(
                        f"Subject '{subject}' was not deleted first before being permanently "
                        "deleted"
                    )
                del self._subjects[subject]
                self._levels.pop(subject, None)
                return [version.number for version in entry.versions]
            if not live:
                raise SubjectSoftDeletedError(
                    f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently"
                )
            for version in live:
                version.deleted = True
            return [version.number for version in live]

    # -- compatibility -----------------------------------------------------------

    def check(
        self,
        subject: str,
        schema: str,
        schema_type: str,
        references: Sequence[SchemaReference] = (),
        *,
        version: int | None = LATEST,
    ) -> list[str]:
        """Why ``schema`` may not join ``subject``: empty when it may.

        Against one version (``-1``: the latest; none registered: nothing to break),
        or with ``version=None`` against the live versions the level names, as
        registering would.
        """
        with self._lock:
            candidate = self._candidate(schema, schema_type, references)
            entry = self._subjects.get(subject)
            live = entry.live() if entry is not None else []
            mode = self.compatibility(subject, default_to_global=True)
            if version is None:
                targets = live if mode.transitive else live[-1:]
            elif version == LATEST:
                targets = live[-1:]
            else:
                targets = [old for old in live if old.number == version]
                if not targets:
                    raise VersionNotFoundError(f"Version {version} not found.")
            return self._verdict(candidate, targets, mode)

    def compatibility(self, subject: str | None = None, *, default_to_global: bool = False) -> Mode:
        """The global level, or ``subject``'s own (40408 when it has none, unless
        ``default_to_global``)."""
        with self._lock:
            if subject is None:
                return self._global
            if subject in self._levels:
                return self._levels[subject]
            if default_to_global:
                return self._global
            raise CompatibilityNotConfiguredError(
                f"Subject '{subject}' does not have subject-level compatibility configured"
            )

    def set_compatibility(self, mode: Mode | str, subject: str | None = None) -> Mode:
        level = parse_mode(str(mode))
        with self._lock:
            if subject is None:
                self._global = level
            else:
                self._levels[subject] = level
            return level

    def delete_compatibility(self, subject: str | None = None) -> Mode:
        """Forget ``subject``'s own level (or reset the global one); the level it had."""
        with self._lock:
            if subject is None:
                old, self._global = self._global, self._default
                return old
            if subject not in self._levels:
                raise SubjectNotFoundError(f"Subject '{subject}' not found.")
            return self._levels.pop(subject)

    # -- internals ---------------------------------------------------------------

    def _live(self, subject: str) -> list[_Version]:
        entry = self._subjects.get(subject)
        live = entry.live() if entry is not None else []
        if not live:
            raise SubjectNotFoundError(f"Subject '{subject}' not found.")
        return live

    def _registered(self, subject: str, version: _Version) -> RegisteredSchema:
        stored = self._schemas[version.id]
        return RegisteredSchema(
            subject,
            version.number,
            stored.id,
            stored.schema,
            stored.schema_type,
            stored.references,
        )

    def _new_id(self, candidate: _Candidate) -> int:
        schema_id = len(self._schemas) + 1
        self._schemas[schema_id] = StoredSchema(
            schema_id, candidate.text, candidate.schema_type, candidate.references
        )
        self._ids[candidate.key] = schema_id
        return schema_id

    def _candidate(
        self, schema: str, schema_type: str, references: Sequence[SchemaReference]
    ) -> _Candidate:
        """Parse a schema from a request: 42201 naming the place when it is invalid."""
        if schema_type not in SCHEMA_TYPES:
            raise InvalidSchemaError(
                f"Invalid schema type {schema_type}; expected one of {', '.join(SCHEMA_TYPES)}"
            )
        if not schema.strip():
            raise InvalidSchemaError("Empty schema")
        refs = tuple(references)
        parsed = self._parse(schema, schema_type, refs)
        return _Candidate(schema_type, _canonical(schema, schema_type), refs, parsed)

    def _parse(self, text: str, schema_type: str, references: tuple[SchemaReference, ...]) -> Any:
        try:
            module = format_module(SCHEMA_TYPES[schema_type])
        except ImportError as exc:  # the registry's own setup, not the request, is at fault
            raise RegistryError(
                f"this registry cannot read {schema_type} schemas without the optional "
                f"dependencies: pip install 'eventscope[schemas]' ({exc})",
                error_code=50001,
            ) from None
        try:
            return module.parse(text, references=self._reference_texts(references) or None)
        except SchemaParseError as exc:
            where = ": ".join(part for part in (exc.source, exc.location) if part)
            raise InvalidSchemaError(
                f"Invalid {schema_type} schema: {where + ': ' if where else ''}{exc.reason}"
            ) from None

    def _reference_texts(self, references: tuple[SchemaReference, ...]) -> dict[str, str]:
        """Reference name → schema text, following references of references."""
        texts: dict[str, str] = {}
        pending = list(references)
        seen: set[tuple[str, int]] = set()
        while pending:
            reference = pending.pop(0)
            if (reference.subject, reference.version) in seen:
                continue
            seen.add((reference.subject, reference.version))
            stored = self._referenced(reference)
            texts.setdefault(reference.name, stored.schema)
            pending.extend(stored.references)
        return texts

    def _referenced(self, reference: SchemaReference) -> StoredSchema:
        entry = self._subjects.get(reference.subject)
        versions = entry.versions if entry is not None else []
        if reference.version == LATEST:
            found = entry.live()[-1:] if entry is not None else []
        else:
            found = [version for version in versions if version.number == reference.version]
        if not found:
            raise InvalidSchemaError(
                f"Invalid schema: reference '{reference.name}' names subject "
                f"'{reference.subject}' version {reference.version}, which is not registered"
            )
        return self._schemas[found[0].id]

    def _verdict(self, candidate: _Candidate, targets: list[_Version], mode: Mode) -> list[str]:
        """Confluent's verbose messages for ``candidate`` against ``targets``."""
        if mode is Mode.NONE or not targets:
            return []
        messages: list[str] = []
        same_type: list[tuple[_Version, StoredSchema]] = []
        for version in reversed(targets):  # newest first, as the registry reports
            stored = self._schemas[version.id]
            if stored.schema_type != candidate.schema_type:
                messages += [DIFFERENT_TYPE, *_old_schema(version, stored)]
            else:
                same_type.append((version, stored))
        if same_type:
            messages += self._problems(candidate, same_type[::-1], mode)
        if messages:
            messages.append(f"{{validateFields: 'false', compatibility: '{mode}'}}")
        return messages

    def _problems(
        self, candidate: _Candidate, history: list[tuple[_Version, StoredSchema]], mode: Mode
    ) -> list[str]:
        olds = [self._parse(s.schema, s.schema_type, s.references) for _, s in history]
        result = check_compatibility(
            candidate.parsed, olds, format=SCHEMA_TYPES[candidate.schema_type], mode=mode
        )
        by_version: dict[int, list[Incompatibility]] = {}
        for item in result.incompatibilities:
            by_version.setdefault(item.version or len(history), []).append(item)
        messages: list[str] = []
        for index, items in by_version.items():
            version, stored = history[index - 1]
            messages += [_describe(item) for item in items]
            messages += _old_schema(version, stored)
        return messages


def _describe(item: Incompatibility) -> str:
    return (
        f"{{errorType:'{item.type}', description:'{item.message}', "
        f"additionalInfo:'{item.direction} check at {item.location}'}}"
    )


def _old_schema(version: _Version, stored: StoredSchema) -> list[str]:
    return [f"{{oldSchemaVersion: {version.number}}}", f"{{oldSchema: '{stored.schema}'}}"]


def _canonical(schema: str, schema_type: str) -> str:
    """The text kept and compared: JSON without insignificant whitespace (Confluent keeps
    a canonical form too), Protobuf as written."""
    if schema_type == "PROTOBUF":
        return schema.strip()
    return json.dumps(json.loads(schema), separators=(",", ":"), ensure_ascii=False)
