"""Schema compatibility with Confluent Schema Registry's verdicts.

The registry (server and client) moved to :mod:`eventscope.registry`, which is built on
this package.  Its names that used to be exported here (``EmbeddedRegistry``,
``RegistryClient``, the registry errors and models) still resolve, through
:func:`__getattr__`, which imports :mod:`eventscope.registry` only when one of them is
asked for — so a schema check never imports the registry or :mod:`http.server`.
"""

from __future__ import annotations

from typing import Any

from eventscope.schemas.caches import clear_caches
from eventscope.schemas.compatibility import check_compatibility
from eventscope.schemas.directory import (
    DirectoryReport,
    SchemaDirectoryError,
    Subject,
    SubjectReport,
    check_directory,
    check_subject,
    load_schema_directory,
)
from eventscope.schemas.errors import SchemaParseError
from eventscope.schemas.files import SchemaFileError, check_files
from eventscope.schemas.formats import FORMATS, FormatModule, format_module
from eventscope.schemas.verdicts import CompatibilityResult, Incompatibility, Mode

__all__ = [
    "FORMATS",
    "CompatibilityResult",
    "DirectoryReport",
    "FormatModule",
    "Incompatibility",
    "Mode",
    "SchemaDirectoryError",
    "SchemaFileError",
    "SchemaParseError",
    "Subject",
    "SubjectReport",
    "check_compatibility",
    "check_directory",
    "check_files",
    "check_subject",
    "clear_caches",
    "format_module",
    "load_schema_directory",
]

#: Names this package exported before the registry became :mod:`eventscope.registry`.
_REGISTRY_NAMES = frozenset(
    {
        "CompatibilityNotConfiguredError",
        "EmbeddedRegistry",
        "IncompatibleSchemaError",
        "InvalidSchemaError",
        "RegisteredSchema",
        "RegistryClient",
        "RegistryError",
        "RegistryUnavailableError",
        "SchemaNotFoundError",
        "SchemaReference",
        "StoredSchema",
        "SubjectNotFoundError",
        "VersionNotFoundError",
    }
)


def __getattr__(name: str) -> Any:
    """Resolve a registry name from :mod:`eventscope.registry`, importing it then (PEP 562)."""
    if name in _REGISTRY_NAMES:
        import eventscope.registry

        return getattr(eventscope.registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
