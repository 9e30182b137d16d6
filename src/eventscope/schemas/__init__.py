"""Schema compatibility with Confluent Schema Registry's verdicts.

The registry (server and client) is :mod:`eventscope.registry`, built on this package;
nothing here refers back to it, so a schema check never imports the registry or
:mod:`http.server`.
"""

from __future__ import annotations

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
