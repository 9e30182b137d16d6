"""State kept in this process only: the default for tests and :class:`EmbeddedRegistry`.

One lock guards everything; writes hold it only for the few dictionary updates, since
parsing and compatibility checks happen before :meth:`MemoryStorage.write` is entered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from eventscope.registry.models import StoredSchema
from eventscope.registry.storage.base import NewSchema, Settings, VersionRow


class MemoryStorage:
    """Everything in dictionaries; gone when the process ends."""

    description = "memory"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._schemas: dict[int, StoredSchema] = {}
        self._ids: dict[str, int] = {}
        self._versions: dict[str, list[VersionRow]] = {}
        self._levels: dict[str | None, str] = {}
        self._modes: dict[str | None, str] = {}

    def schema(self, schema_id: int) -> StoredSchema | None:
        with self._lock:
            return self._schemas.get(schema_id)

    def schema_id(self, fingerprint: str) -> int | None:
        with self._lock:
            return self._ids.get(fingerprint)

    def versions(self, subject: str) -> list[VersionRow]:
        with self._lock:
            return list(self._versions.get(subject, ()))

    def row(self, subject: str, number: int | None) -> VersionRow | None:
        with self._lock:
            rows = self._versions.get(subject, [])
            if number is None:
                live = [row for row in rows if not row.deleted]
                return live[-1] if live else None
            return next((row for row in rows if row.number == number), None)

    def subjects(self, deleted: bool = False) -> list[str]:
        with self._lock:
            return sorted(
                name
                for name, rows in self._versions.items()
                if any(deleted or not row.deleted for row in rows)
            )

    def uses(self, schema_id: int) -> list[tuple[str, int]]:
        with self._lock:
            return [
                (name, row.number)
                for name, rows in sorted(self._versions.items())
                for row in rows
                if row.id == schema_id and not row.deleted
            ]

    def settings(self, subject: str) -> Settings:
        with self._lock:
            return Settings(
                self._modes.get(subject),
                self._modes.get(None),
                self._levels.get(subject),
                self._levels.get(None),
            )

    def referencing(self, subject: str, version: int) -> list[int]:
        with self._lock:
            return sorted(
                stored.id
                for stored in self._schemas.values()
                if any((r.subject, r.version) == (subject, version) for r in stored.references)
            )

    def mode(self, subject: str | None) -> str | None:
        with self._lock:
            return self._modes.get(subject)

    def set_mode(self, subject: str | None, mode: str) -> None:
        with self._lock:
            self._modes[subject] = mode

    def delete_mode(self, subject: str | None) -> str | None:
        with self._lock:
            return self._modes.pop(subject, None)

    def level(self, subject: str | None) -> str | None:
        with self._lock:
            return self._levels.get(subject)

    def set_level(self, subject: str | None, level: str) -> None:
        with self._lock:
            self._levels[subject] = level

    def delete_level(self, subject: str | None) -> str | None:
        with self._lock:
            return self._levels.pop(subject, None)

    @contextmanager
    def write(self, subject: str) -> Iterator[_Writer]:
        with self._lock:
            yield _Writer(self, subject)

    def close(self) -> None:
        """Nothing to release."""

    def _add_schema(self, schema: NewSchema, chosen: int | None) -> int:
        schema_id = self._ids.get(schema.fingerprint)
        if schema_id is None:
            # never reused: schemas are never removed
            schema_id = chosen if chosen is not None else max(self._schemas, default=0) + 1
            self._schemas[schema_id] = StoredSchema(
                schema_id, schema.schema, schema.schema_type, schema.references
            )
            self._ids[schema.fingerprint] = schema_id
        return schema_id


class _Writer:
    def __init__(self, storage: MemoryStorage, subject: str) -> None:
        self._storage = storage
        self._subject = subject

    def versions(self) -> list[VersionRow]:
        return self._storage.versions(self._subject)

    def schema_id(self, fingerprint: str) -> int | None:
        return self._storage.schema_id(fingerprint)

    def referencing(self, version: int) -> list[int]:
        return self._storage.referencing(self._subject, version)

    def add(self, number: int, schema: NewSchema, schema_id: int | None = None) -> int:
        schema_id = self._storage._add_schema(schema, schema_id)
        rows = self._storage._versions.setdefault(self._subject, [])
        rows.append(VersionRow(number, schema_id))
        rows.sort(key=lambda row: row.number)
        return schema_id

    def soft_delete(self, numbers: Sequence[int]) -> None:
        self._replace(numbers, lambda row: VersionRow(row.number, row.id, True))

    def remove(self, numbers: Sequence[int]) -> None:
        self._replace(numbers, lambda row: None)
        if not self._storage._versions.get(self._subject):
            self._storage._versions.pop(self._subject, None)
            self._storage._levels.pop(self._subject, None)

    def _replace(
        self, numbers: Sequence[int], change: Callable[[VersionRow], VersionRow | None]
    ) -> None:
        wanted = set(numbers)
        rows = self._storage._versions.get(self._subject, [])
        kept = []
        for row in rows:
            new = change(row) if row.number in wanted else row
            if new is not None:
                kept.append(new)
        self._storage._versions[self._subject] = kept
