"""Schema compatibility with Confluent Schema Registry's verdicts."""

from eventscope.schemas.caches import clear_caches
from eventscope.schemas.compatibility import (
    FORMATS,
    CompatibilityResult,
    FormatModule,
    Incompatibility,
    Mode,
    check_compatibility,
    format_module,
)
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
