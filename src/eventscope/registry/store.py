"""The registry's rules over its state: subjects, versions, global ids, compatibility levels.

The state lives in a :class:`~eventscope.registry.storage.Storage` (memory, SQLite or
PostgreSQL); the rules are Confluent Schema Registry's and are decided here:

- an id names a schema (its type, its text up to JSON whitespace, its references)
  everywhere: the same schema registered under two subjects gets the same id;
- registering a schema a subject already has answers its id and adds no version;
- a new version is checked under the subject's compatibility level, else the global
  one (default ``BACKWARD``), against the live versions that level names, with
  eventscope's checker, so the registry refuses exactly what ``eventscope schema
  check`` refuses;
- deleting a subject is soft first (versions hidden, numbering continues), permanent
  only after that.

Parsing and checking hold no lock.  A registration reads the subject's history, judges
the new schema against it, then takes the subject for writing and commits only if the
history is still the one it judged; if another writer got there first (another thread,
or another instance on the same database) it judges again against the new history.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventscope.registry.errors import (
    CompatibilityNotConfiguredError,
    IncompatibleSchemaError,
    InvalidCompatibilityLevelError,
    InvalidModeError,
    InvalidSchemaError,
    ModeNotConfiguredError,
    OperationNotPermittedError,
    ReferenceExistsError,
    RegistryError,
    SchemaNotFoundError,
    SubjectNotFoundError,
    SubjectNotSoftDeletedError,
    SubjectSoftDeletedError,
    VersionNotFoundError,
    VersionNotSoftDeletedError,
    VersionSoftDeletedError,
)
from eventscope.registry.models import RegisteredSchema, SchemaReference, StoredSchema
from eventscope.registry.normalize import normalized, protobuf_identity
from eventscope.registry.storage import MemoryStorage, NewSchema, Settings, Storage, VersionRow
from eventscope.registry.storage.base import live
from eventscope.schemas.compatibility import check_compatibility
from eventscope.schemas.errors import SchemaParseError
from eventscope.schemas.formats import SCHEMA_TYPES, format_module
from eventscope.schemas.verdicts import Incompatibility, Mode

LATEST = -1
DIFFERENT_TYPE = "Incompatible because of different schema type"
_LEVELS = ", ".join(mode.lower() for mode in Mode)
_CACHED = 4096  # schemas (and parsed schemas) kept by id: ids never change their schema


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A schema from a request, parsed, with the fingerprint that decides its id."""

    schema_type: str
    text: str
    references: tuple[SchemaReference, ...]
    parsed: Any
    identity: str | None = None  # what decides the id, when not the text itself

    @property
    def new(self) -> NewSchema:
        decides = self.identity if self.identity is not None else self.text
        key = [self.schema_type, decides, [ref.to_json() for ref in self.references]]
        digest = hashlib.sha256(json.dumps(key, ensure_ascii=False).encode()).hexdigest()
        return NewSchema(digest, self.schema_type, self.text, self.references)


#: Confluent's modes: who may write.  READONLY_OVERRIDE is READONLY that a subject's own
#: mode cannot loosen.
MODES = ("READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT")
DEFAULT_MODE = "READWRITE"


def parse_registry_mode(value: object) -> str:
    """A mode from a request, any case; 42204 otherwise."""
    if isinstance(value, str) and value.upper() in MODES:
        return value.upper()
    raise InvalidModeError(f"Invalid mode. Valid values are {', '.join(MODES)}")


def parse_mode(value: object) -> Mode:
    """A compatibility level from a request, any case; 42203 otherwise."""
    if isinstance(value, str) and value.upper() in Mode.__members__:
        return Mode(value.upper())
    raise InvalidCompatibilityLevelError(f"Invalid compatibility level. Valid values are {_LEVELS}")


class RegistryStore:
    """Every subject, version, schema id and compatibility level of one registry.

    ``storage`` keeps them (in memory unless given); ``compatibility`` is the global
    level until one is set through the API (and again after it is deleted).
    """

    def __init__(
        self, compatibility: Mode | str = Mode.BACKWARD, storage: Storage | None = None
    ) -> None:
        self.storage: Storage = storage if storage is not None else MemoryStorage()
        self._default = parse_mode(str(compatibility))
        self._cache_lock = threading.Lock()
        self._parsed: dict[int, Any] = {}
        self._schemas: dict[int, StoredSchema] = {}

    # -- reading -----------------------------------------------------------------

    def subjects(
        self, prefix: str = "", *, deleted: bool = False, deleted_only: bool = False
    ) -> list[str]:
        """Subjects named ``prefix…`` with a live version (with ``deleted``, any version;
        with ``deleted_only``, a soft-deleted one), sorted."""
        names = self.storage.subjects(deleted=deleted or deleted_only)
        if deleted_only:
            names = [name for name in names if any(r.deleted for r in self.storage.versions(name))]
        return [name for name in names if name.startswith(prefix)]

    def versions(
        self, subject: str, *, deleted: bool = False, deleted_only: bool = False
    ) -> list[int]:
        return [v.number for v in self._live(subject, deleted=deleted, deleted_only=deleted_only)]

    def version(self, subject: str, number: int, *, deleted: bool = False) -> RegisteredSchema:
        """Version ``number`` of ``subject`` (``-1``: the latest live one; soft-deleted
        ones too with ``deleted``)."""
        row = self.storage.row(subject, None if number == LATEST else number)
        if row is not None and (deleted or not row.deleted):
            return self._registered(subject, row)
        rows = self._live(subject, deleted=deleted)  # 40401 when the subject has none
        if number == LATEST:
            return self._registered(subject, rows[-1])
        raise VersionNotFoundError(f"Version {number} not found.")

    def schemas(
        self, prefix: str = "", *, deleted: bool = False, latest_only: bool = False
    ) -> list[RegisteredSchema]:
        """Every version of every subject named ``prefix…`` (``GET /schemas``)."""
        found: list[RegisteredSchema] = []
        for subject in self.subjects(prefix, deleted=deleted):
            rows = self._live(subject, deleted=deleted)
            found += [self._registered(subject, row) for row in rows[-1:] if latest_only]
            found += [self._registered(subject, row) for row in rows if not latest_only]
        return found

    def subjects_of(self, schema_id: int, *, deleted: bool = False) -> list[str]:
        """The subjects with a version whose schema is ``schema_id``."""
        return sorted({subject for subject, _ in self.uses(schema_id, deleted=deleted)})

    def referenced_by(self, subject: str, number: int) -> list[int]:
        """Ids of the schemas that refer to this version (``.../referencedby``)."""
        return self.storage.referencing(subject, self.version(subject, number).version)

    def schema(self, schema_id: int) -> StoredSchema:
        """The schema with this id; kept once read, since an id never changes its schema."""
        with self._cache_lock:
            cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        stored = self.storage.schema(schema_id)
        if stored is None:
            raise SchemaNotFoundError(f"Schema {schema_id} not found")
        with self._cache_lock:
            if len(self._schemas) >= _CACHED:
                self._schemas.pop(next(iter(self._schemas)))
            self._schemas[schema_id] = stored
        return stored

    def uses(self, schema_id: int, *, deleted: bool = False) -> list[tuple[str, int]]:
        """The live (subject, version) pairs whose schema is ``schema_id`` (soft-deleted
        ones too with ``deleted``)."""
        self.schema(schema_id)
        if not deleted:
            return self.storage.uses(schema_id)
        return [
            (subject, row.number)
            for subject in self.storage.subjects(deleted=True)
            for row in self.storage.versions(subject)
            if row.id == schema_id
        ]

    def lookup(
        self,
        subject: str,
        schema: str,
        schema_type: str,
        references: Sequence[SchemaReference] = (),
        *,
        deleted: bool = False,
        normalize: bool = False,
    ) -> RegisteredSchema:
        """The live version of ``subject`` holding this schema (40403 if none; soft-deleted
        versions count too with ``deleted``)."""
        live = self._live(subject, deleted=deleted)
        candidate = self._candidate(schema, schema_type, references, normalize=normalize)
        schema_id = self.storage.schema_id(candidate.new.fingerprint)
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
        schema_id: int | None = None,
        normalize: bool = False,
    ) -> RegisteredSchema:
        """Add ``schema`` to ``subject`` unless it is already there; answer its version.

        ``check=False`` with an explicit ``version`` imports a history as it is (the
        preload of a schemas directory): versions were accepted when they were written.
        Importing a version the subject already holds with the same schema changes
        nothing, so a persistent registry can be preloaded again at every start.
        ``schema_id`` (``IMPORT`` mode only) gives a new schema the id it has elsewhere;
        ``normalize`` stores the canonical text (:mod:`eventscope.registry.normalize`).
        """
        settings = self.storage.settings(subject)  # one read for mode and level
        mode = self._writable(subject, settings)
        if schema_id is not None and mode != "IMPORT":
            raise OperationNotPermittedError(f"Subject {subject} is not in import mode")
        check = check and mode != "IMPORT"  # an import copies a history already judged
        candidate = self._candidate(schema, schema_type, references, normalize=normalize)
        new = candidate.new
        if schema_id is not None:
            self._check_import_id(schema_id, new)
        level = self._level(settings)
        history = self.storage.versions(subject)
        while True:
            found = self._already(
                subject, history, self.storage.schema_id(new.fingerprint), version
            )
            if found is not None:
                return found
            judged = _targets(history, level) if check else []
            if check:
                self._refuse_if_incompatible(subject, candidate, judged, level)
            with self.storage.write(subject) as writer:
                current = writer.versions()
                there = None
                if current != history:
                    # Another writer changed the subject meanwhile.  The verdict still
                    # holds if it was about the same versions; the schema may have been
                    # registered by that writer, though.  (Only the writer's own
                    # connection is used here: a second one could wait for the pool.)
                    there = _already_row(
                        subject, current, writer.schema_id(new.fingerprint), version
                    )
                    if there is None and check and _targets(current, level) != judged:
                        history = current
                        continue  # judge again, against the new history
                if there is None:
                    number = (
                        version
                        if version is not None
                        else max((row.number for row in current), default=0) + 1
                    )
                    added = writer.add(number, new, schema_id)
            if there is not None:
                return self._registered(subject, there)
            return RegisteredSchema(
                subject, number, added, new.schema, new.schema_type, new.references
            )

    def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        """Soft-delete ``subject`` (or, once soft-deleted, remove it); the versions deleted."""
        self._writable(subject)
        with self.storage.write(subject) as writer:
            rows = writer.versions()
            if not rows:
                raise SubjectNotFoundError(f"Subject '{subject}' not found.")
            numbers = [row.number for row in live(rows)]
            if permanent:
                if numbers:
                    raise SubjectNotSoftDeletedError(
                        f"Subject '{subject}' was not deleted first before being permanently "
                        "deleted"
                    )
                every = [row.number for row in rows]
                writer.remove(every)
                return every
            if not numbers:
                raise SubjectSoftDeletedError(
                    f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently"
                )
            writer.soft_delete(numbers)
            return numbers

    def delete_version(self, subject: str, number: int, *, permanent: bool = False) -> int:
        """Soft-delete one version (or, once soft-deleted, remove it); its number.

        A version another schema refers to stays (42206), as in Confluent's registry.
        """
        self._writable(subject)
        with self.storage.write(subject) as writer:
            rows = writer.versions()
            if not rows:
                raise SubjectNotFoundError(f"Subject '{subject}' not found.")
            if number == LATEST:
                found = live(rows)[-1:]
            else:
                found = [row for row in rows if row.number == number]
            if not found:
                raise VersionNotFoundError(f"Version {number} not found.")
            row = found[0]
            if writer.referencing(row.number):
                raise ReferenceExistsError(
                    "One or more references exist to the schema {magic=1,keytype=SCHEMA,"
                    f"subject={subject},version={row.number}}}."
                )
            if permanent:
                if not row.deleted:
                    raise VersionNotSoftDeletedError(
                        f"Subject '{subject}' Version {row.number} was not deleted first "
                        "before being permanently deleted"
                    )
                writer.remove([row.number])
            elif row.deleted:
                raise VersionSoftDeletedError(
                    f"Subject '{subject}' Version {row.number} was soft deleted. Set "
                    "permanent=true to delete permanently"
                )
            else:
                writer.soft_delete([row.number])
            return row.number

    # -- modes -------------------------------------------------------------------

    def mode(self, subject: str | None = None, *, default_to_global: bool = False) -> str:
        """The global mode, or ``subject``'s own (40409 when it has none, unless
        ``default_to_global``)."""
        own = self.storage.mode(subject)
        if own is not None:
            return own
        if subject is None or default_to_global:
            stored = self.storage.mode(None) if subject is not None else None
            return stored or DEFAULT_MODE
        raise ModeNotConfiguredError(
            f"Subject '{subject}' does not have subject-level mode configured"
        )

    def set_mode(self, mode: str, subject: str | None = None, *, force: bool = False) -> str:
        """Set a mode; ``IMPORT`` on a registry (or subject) that holds versions only with
        ``force``, so ids imported cannot collide with ids given out."""
        chosen = parse_registry_mode(mode)
        if chosen == "IMPORT" and not force:
            held = self.storage.subjects() if subject is None else self.storage.versions(subject)
            if held:
                raise OperationNotPermittedError("Cannot import since found existing subjects")
        self.storage.set_mode(subject, chosen)
        return chosen

    def delete_mode(self, subject: str | None = None) -> str:
        old = self.storage.delete_mode(subject)
        if old is None and subject is not None:
            raise SubjectNotFoundError(f"Subject '{subject}' not found.")
        return old or DEFAULT_MODE

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
        candidate = self._candidate(schema, schema_type, references)
        history = live(self.storage.versions(subject))
        mode = self.compatibility(subject, default_to_global=True)
        if version is None:
            targets = history if mode.transitive else history[-1:]
        elif version == LATEST:
            targets = history[-1:]
        else:
            targets = [old for old in history if old.number == version]
            if not targets:
                raise VersionNotFoundError(f"Version {version} not found.")
        return self._verdict(candidate, targets, mode)

    def compatibility(self, subject: str | None = None, *, default_to_global: bool = False) -> Mode:
        """The global level, or ``subject``'s own (40408 when it has none, unless
        ``default_to_global``)."""
        own = self.storage.level(subject)
        if own is not None:
            return Mode(own)
        if subject is None or default_to_global:
            stored = self.storage.level(None) if subject is not None else None
            return Mode(stored) if stored is not None else self._default
        raise CompatibilityNotConfiguredError(
            f"Subject '{subject}' does not have subject-level compatibility configured"
        )

    def set_compatibility(self, mode: Mode | str, subject: str | None = None) -> Mode:
        level = parse_mode(str(mode))
        self.storage.set_level(subject, str(level))
        return level

    def delete_compatibility(self, subject: str | None = None) -> Mode:
        """Forget ``subject``'s own level (or reset the global one); the level it had."""
        old = self.storage.delete_level(subject)
        if subject is None:
            return Mode(old) if old is not None else self._default
        if old is None:
            raise SubjectNotFoundError(f"Subject '{subject}' not found.")
        return Mode(old)

    # -- internals ---------------------------------------------------------------

    def _already(
        self, subject: str, history: list[VersionRow], existing: int | None, version: int | None
    ) -> RegisteredSchema | None:
        """The version registering would answer without writing, if there is one."""
        row = _already_row(subject, history, existing, version)
        return self._registered(subject, row) if row is not None else None

    def _level(self, settings: Settings) -> Mode:
        level = settings.subject_level or settings.global_level
        return Mode(level) if level is not None else self._default

    def _refuse_if_incompatible(
        self, subject: str, candidate: _Candidate, targets: list[VersionRow], mode: Mode
    ) -> None:
        messages = self._verdict(candidate, targets, mode)
        if messages:
            raise IncompatibleSchemaError(
                "Schema being registered is incompatible with an earlier schema for "
                f'subject "{subject}", details: [{", ".join(messages)}]'
            )

    def _writable(self, subject: str, settings: Settings | None = None) -> str:
        """The mode that applies to ``subject``; 42205 when it forbids writing."""
        settings = settings or self.storage.settings(subject)
        overall = settings.global_mode or DEFAULT_MODE
        mode = overall if overall == "READONLY_OVERRIDE" else settings.subject_mode or overall
        if mode in ("READONLY", "READONLY_OVERRIDE"):
            raise OperationNotPermittedError(f"Subject {subject} is in read-only mode")
        return mode

    def _check_import_id(self, schema_id: int, new: NewSchema) -> None:
        """An imported id must be free, or already name this very schema."""
        if schema_id < 1:
            raise InvalidSchemaError(f"Invalid id {schema_id}: ids are positive")
        taken = self.storage.schema(schema_id)
        known = self.storage.schema_id(new.fingerprint)
        if (taken is not None and known != schema_id) or (known not in (None, schema_id)):
            raise OperationNotPermittedError(
                f"Overwrite new schema with id {schema_id} is not permitted."
            )

    def _live(
        self, subject: str, *, deleted: bool = False, deleted_only: bool = False
    ) -> list[VersionRow]:
        every = self.storage.versions(subject)
        if deleted_only:
            rows = [row for row in every if row.deleted]
        else:
            rows = every if deleted else live(every)
        if not rows and not (every and (deleted or deleted_only)):
            raise SubjectNotFoundError(f"Subject '{subject}' not found.")
        return rows

    def _registered(self, subject: str, version: VersionRow) -> RegisteredSchema:
        stored = self.schema(version.id)
        return RegisteredSchema(
            subject,
            version.number,
            stored.id,
            stored.schema,
            stored.schema_type,
            stored.references,
        )

    def _candidate(
        self,
        schema: str,
        schema_type: str,
        references: Sequence[SchemaReference],
        *,
        normalize: bool = False,
    ) -> _Candidate:
        """Parse a schema from a request: 42201 naming the place when it is invalid."""
        if schema_type not in SCHEMA_TYPES:
            raise InvalidSchemaError(
                f"Invalid schema type {schema_type}; expected one of {', '.join(SCHEMA_TYPES)}"
            )
        if not schema.strip():
            raise InvalidSchemaError("Empty schema")
        refs = tuple(references)
        try:
            parsed = self._parse(schema, schema_type, refs)
            if not normalize:
                return _Candidate(schema_type, _canonical(schema, schema_type), refs, parsed)
            identity = protobuf_identity(parsed) if schema_type == "PROTOBUF" else None
            return _Candidate(schema_type, normalized(schema, schema_type), refs, parsed, identity)
        except RecursionError:
            raise InvalidSchemaError(f"Invalid {schema_type} schema: nested too deeply") from None
        except ValueError as exc:  # a number beyond Python's digit limit, say
            raise InvalidSchemaError(f"Invalid {schema_type} schema: {exc}") from None

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
            texts = self._reference_texts(references) or None
            if schema_type == "PROTOBUF":
                from eventscope.registry.protobuf import from_descriptor, is_descriptor

                if is_descriptor(text):
                    return from_descriptor(text, texts)
            return module.parse(text, references=texts)
        except SchemaParseError as exc:
            where = ": ".join(part for part in (exc.source, exc.location) if part)
            raise InvalidSchemaError(
                f"Invalid {schema_type} schema: {where + ': ' if where else ''}{exc.reason}"
            ) from None

    def as_text(self, stored: StoredSchema | RegisteredSchema) -> str:
        """A Protobuf schema as .proto text: one registered as a descriptor written back
        (:mod:`eventscope.registry.proto_text`), as it is when that cannot be faithful."""
        from eventscope.registry.proto_text import NotRenderable, render
        from eventscope.registry.protobuf import decode, is_descriptor

        if not is_descriptor(stored.schema):
            return stored.schema
        try:
            return render(decode(stored.schema))
        except (NotRenderable, SchemaParseError):
            return stored.schema

    def serialized(self, stored: StoredSchema | RegisteredSchema) -> str:
        """A Protobuf schema as its base64 descriptor (``format=serialized``)."""
        from eventscope.registry.protobuf import serialized

        try:
            return serialized(stored.schema, self._reference_texts(stored.references))
        except SchemaParseError as exc:  # stored, so it parsed once: a reference went away
            raise InvalidSchemaError(f"Invalid PROTOBUF schema: {exc.reason}") from None

    def _parsed_schema(self, stored: StoredSchema) -> Any:
        """A registered schema parsed, once per id: an id never changes its schema."""
        with self._cache_lock:
            if stored.id in self._parsed:
                return self._parsed[stored.id]
        parsed = self._parse(stored.schema, stored.schema_type, stored.references)
        with self._cache_lock:
            if len(self._parsed) >= _CACHED:
                self._parsed.pop(next(iter(self._parsed)))
            self._parsed[stored.id] = parsed
        return parsed

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
        rows = self.storage.versions(reference.subject)
        if reference.version == LATEST:
            found = live(rows)[-1:]
        else:
            found = [row for row in rows if row.number == reference.version]
        if not found:
            raise InvalidSchemaError(
                f"Invalid schema: reference '{reference.name}' names subject "
                f"'{reference.subject}' version {reference.version}, which is not registered"
            )
        return self.schema(found[0].id)

    def _verdict(self, candidate: _Candidate, targets: list[VersionRow], mode: Mode) -> list[str]:
        """Confluent's verbose messages for ``candidate`` against ``targets``."""
        if mode is Mode.NONE or not targets:
            return []
        messages: list[str] = []
        same_type: list[tuple[VersionRow, StoredSchema]] = []
        for version in reversed(targets):  # newest first, as the registry reports
            stored = self.schema(version.id)
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
        self, candidate: _Candidate, history: list[tuple[VersionRow, StoredSchema]], mode: Mode
    ) -> list[str]:
        olds = [self._parsed_schema(stored) for _, stored in history]
        try:
            result = check_compatibility(
                candidate.parsed, olds, format=SCHEMA_TYPES[candidate.schema_type], mode=mode
            )
        except RecursionError:
            raise InvalidSchemaError(
                f"Invalid {candidate.schema_type} schema: nested too deeply to compare"
            ) from None
        by_version: dict[int, list[Incompatibility]] = {}
        for item in result.incompatibilities:
            by_version.setdefault(item.version or len(history), []).append(item)
        messages: list[str] = []
        for index, items in by_version.items():
            version, stored = history[index - 1]
            messages += [_describe(item) for item in items]
            messages += _old_schema(version, stored)
        return messages


def _already_row(
    subject: str, history: list[VersionRow], existing: int | None, version: int | None
) -> VersionRow | None:
    """The version holding schema ``existing`` (or, importing, version ``version``,
    which must hold it)."""
    if version is None:
        return next((row for row in live(history) if row.id == existing), None)
    for row in history:
        if row.number == version:
            if row.id == existing:
                return row
            raise InvalidSchemaError(f"Subject '{subject}' already has version {version}")
    return None


def _targets(rows: list[VersionRow], mode: Mode) -> list[VersionRow]:
    """The versions a new one is judged against under ``mode``."""
    if mode is Mode.NONE:
        return []
    history = live(rows)
    return history if mode.transitive else history[-1:]


def _describe(item: Incompatibility) -> str:
    return (
        f"{{errorType:'{item.type}', description:'{item.message}', "
        f"additionalInfo:'{item.direction} check at {item.location}'}}"
    )


def _old_schema(version: VersionRow, stored: StoredSchema) -> list[str]:
    return [f"{{oldSchemaVersion: {version.number}}}", f"{{oldSchema: '{stored.schema}'}}"]


def _canonical(schema: str, schema_type: str) -> str:
    """The text kept and compared: JSON without insignificant whitespace (Confluent keeps
    a canonical form too), Protobuf as written."""
    if schema_type == "PROTOBUF":
        return schema.strip()
    return json.dumps(json.loads(schema), separators=(",", ":"), ensure_ascii=False)
