"""Schema compatibility with Confluent Schema Registry's verdicts."""

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
from eventscope.schemas.registry_client import RegistryClient
from eventscope.schemas.registry_errors import (
    CompatibilityNotConfiguredError,
    IncompatibleSchemaError,
    InvalidSchemaError,
    RegistryError,
    RegistryUnavailableError,
    SchemaNotFoundError,
    SubjectNotFoundError,
    VersionNotFoundError,
)
from eventscope.schemas.registry_models import RegisteredSchema, SchemaReference, StoredSchema
from eventscope.schemas.registry_server import EmbeddedRegistry
from eventscope.schemas.verdicts import CompatibilityResult, Incompatibility, Mode

__all__ = [
    "FORMATS",
    "CompatibilityNotConfiguredError",
    "CompatibilityResult",
    "DirectoryReport",
    "EmbeddedRegistry",
    "FormatModule",
    "Incompatibility",
    "IncompatibleSchemaError",
    "InvalidSchemaError",
    "Mode",
    "RegisteredSchema",
    "RegistryClient",
    "RegistryError",
    "RegistryUnavailableError",
    "SchemaDirectoryError",
    "SchemaFileError",
    "SchemaNotFoundError",
    "SchemaParseError",
    "SchemaReference",
    "StoredSchema",
    "Subject",
    "SubjectNotFoundError",
    "SubjectReport",
    "VersionNotFoundError",
    "check_compatibility",
    "check_directory",
    "check_files",
    "check_subject",
    "clear_caches",
    "format_module",
    "load_schema_directory",
]
