"""Where a registry keeps its state: in memory, in SQLite or in PostgreSQL.

:func:`open_storage` reads the ``--storage`` URL of ``eventscope registry serve``:

- ``memory`` — this process only (the default of :class:`EmbeddedRegistry`);
- ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` — one file;
- ``postgresql://user@host:port/database`` — shared by every instance pointed at it.

The database drivers load only when their storage is asked for.
"""

from __future__ import annotations

from pathlib import Path

from eventscope.registry.storage.base import (
    NewSchema,
    Settings,
    Storage,
    SubjectWriter,
    VersionRow,
)
from eventscope.registry.storage.memory import MemoryStorage

__all__ = [
    "DEFAULT_STORAGE",
    "MemoryStorage",
    "NewSchema",
    "Settings",
    "Storage",
    "StorageError",
    "SubjectWriter",
    "VersionRow",
    "open_storage",
]

#: ``registry serve`` keeps its state here unless told otherwise: in the working
#: directory, so a restart finds it again.
DEFAULT_STORAGE = "sqlite:///eventscope-registry.db"


class StorageError(ValueError):
    """A ``--storage`` URL that names no storage, or a database that cannot be opened."""


def open_storage(url: str) -> Storage:
    """The storage ``url`` names, opened (tables created or migrated)."""
    if url in ("memory", "memory:", "memory://"):
        return MemoryStorage()
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            raise StorageError(f"{url}: a SQLite storage needs a file, e.g. sqlite:///registry.db")
        return _sqlite(Path(path))
    if url.startswith(("postgresql://", "postgres://")):
        return _postgres(url)
    raise StorageError(
        f"{url!r} is not a storage: use memory, sqlite:///FILE or postgresql://HOST/DATABASE"
    )


def _sqlite(path: Path) -> Storage:
    import sqlite3

    from eventscope.registry.storage.sqlite import SqliteStorage

    try:
        return SqliteStorage(path)
    except sqlite3.Error as exc:
        raise StorageError(f"sqlite:///{path}: {exc}") from None


def _postgres(url: str) -> Storage:
    try:
        import psycopg
        import psycopg_pool
    except ImportError:
        raise StorageError(
            "a PostgreSQL storage needs psycopg: pip install 'eventscope[postgres]'"
        ) from None
    from eventscope.registry.storage.postgres import PostgresStorage

    try:
        return PostgresStorage(url)
    except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
        raise StorageError(f"{_shown(url)}: cannot open the database: {exc}") from None


def _shown(url: str) -> str:
    from eventscope.registry.storage.postgres import _without_password

    return _without_password(url)
