"""What the registry's rules need from wherever its state is kept.

:class:`~eventscope.registry.store.RegistryStore` decides (compatibility, ids, version
numbers); a :class:`Storage` only remembers.  Reads are single queries that may run at
any time; every change to a subject happens inside :meth:`Storage.write`, which holds
that subject exclusively (across processes too, for the database storages) until the
change is committed, so two writers never give out the same version number.  Schema
ids come from the storage (a sequence or an autoincrement key), and a schema is found
again by its *fingerprint* (a digest of its type, canonical text and references), so
the same schema gets the same id on every instance sharing the storage.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from eventscope.registry.models import SchemaReference, StoredSchema


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One version of a subject as stored: its number, its schema's id, whether it is
    soft-deleted."""

    number: int
    id: int
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class NewSchema:
    """A schema to store (or find) by its fingerprint."""

    fingerprint: str
    schema_type: str
    schema: str
    references: tuple[SchemaReference, ...]


@dataclass(frozen=True, slots=True)
class Settings:
    """The modes and compatibility levels set for a subject and globally (``None``: not
    set), read together: a registration needs all four."""

    subject_mode: str | None = None
    global_mode: str | None = None
    subject_level: str | None = None
    global_level: str | None = None


class SubjectWriter(Protocol):
    """Changes to one subject, made while the storage holds it exclusively."""

    def versions(self) -> list[VersionRow]:
        """Every version of the subject, soft-deleted ones too, by number."""

    def schema_id(self, fingerprint: str) -> int | None:
        """:meth:`Storage.schema_id`, inside this write."""

    def referencing(self, version: int) -> list[int]:
        """:meth:`Storage.referencing` this subject's ``version``, inside this write."""

    def add(self, number: int, schema: NewSchema, schema_id: int | None = None) -> int:
        """Add version ``number``; the schema's id (an existing one when the
        fingerprint is known, ``schema_id`` for a new one when given: ``IMPORT`` mode)."""

    def soft_delete(self, numbers: Sequence[int]) -> None: ...

    def remove(self, numbers: Sequence[int]) -> None:
        """Forget these versions for good (and the subject's level once none is left)."""


class Storage(Protocol):
    """Subjects, versions, schemas by id and compatibility levels."""

    #: What ``registry serve`` prints: ``memory``, ``sqlite:///path``, the database.
    description: str

    def schema(self, schema_id: int) -> StoredSchema | None: ...

    def schema_id(self, fingerprint: str) -> int | None: ...

    def versions(self, subject: str) -> list[VersionRow]:
        """Every version of ``subject``, soft-deleted ones too, by number."""

    def row(self, subject: str, number: int | None) -> VersionRow | None:
        """Version ``number`` of ``subject`` (soft-deleted or not), or with ``None`` its
        latest live version; ``None`` when there is none."""

    def subjects(self, deleted: bool = False) -> list[str]:
        """Subjects with at least one live version (any version when ``deleted``), sorted."""

    def uses(self, schema_id: int) -> list[tuple[str, int]]:
        """The live (subject, version) pairs whose schema is ``schema_id``, sorted."""

    def settings(self, subject: str) -> Settings:
        """``subject``'s and the global mode and level, in one read."""

    def referencing(self, subject: str, version: int) -> list[int]:
        """Ids of the schemas that refer to ``subject`` version ``version``, sorted."""

    def mode(self, subject: str | None) -> str | None:
        """The mode set for ``subject`` (``None``: the global one)."""

    def set_mode(self, subject: str | None, mode: str) -> None: ...

    def delete_mode(self, subject: str | None) -> str | None:
        """Forget a mode; the one it was, ``None`` when none was set."""

    def level(self, subject: str | None) -> str | None:
        """The compatibility level set for ``subject`` (``None``: the global one)."""

    def set_level(self, subject: str | None, level: str) -> None: ...

    def delete_level(self, subject: str | None) -> str | None:
        """Forget a level; the one it was, ``None`` when none was set."""

    def write(self, subject: str) -> AbstractContextManager[SubjectWriter]:
        """Hold ``subject`` exclusively; commit on a normal exit, roll back on an error."""

    def close(self) -> None: ...


def live(rows: Sequence[VersionRow]) -> list[VersionRow]:
    return [row for row in rows if not row.deleted]


def numbered(rows: Iterator[tuple[int, int, object]]) -> list[VersionRow]:
    """Rows of (number, id, deleted) from a query as :class:`VersionRow`s."""
    return [
        VersionRow(int(number), int(schema_id), bool(deleted))
        for number, schema_id, deleted in rows
    ]
