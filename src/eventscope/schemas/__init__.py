"""Schema compatibility with Confluent Schema Registry's verdicts."""

from eventscope.schemas.compatibility import (
    CompatibilityResult,
    Incompatibility,
    Mode,
    check_compatibility,
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
    "CompatibilityResult",
    "DirectoryReport",
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
    "load_schema_directory",
]
