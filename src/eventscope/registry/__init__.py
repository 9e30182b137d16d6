"""A Confluent-compatible schema registry: an embedded server, and a client for any registry.

Built on :mod:`eventscope.schemas`, which judges every schema registered here; nothing in
:mod:`eventscope.schemas` imports this package at import time.

:class:`RegistryClient`, the error classes and the models load with the package.
:class:`EmbeddedRegistry` (the HTTP server) is imported the first time it is asked for,
so code that only talks to a registry never imports the HTTP server (waitress).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventscope._lazy import lazy_names
from eventscope.registry.client import RegistryClient
from eventscope.registry.errors import (
    BadRequestError,
    CompatibilityNotConfiguredError,
    ForbiddenError,
    IncompatibleSchemaError,
    InvalidCompatibilityLevelError,
    InvalidModeError,
    InvalidSchemaError,
    InvalidVersionError,
    MethodNotAllowedError,
    ModeNotConfiguredError,
    NotFoundError,
    OperationNotPermittedError,
    PayloadTooLargeError,
    ReferenceExistsError,
    RegistryError,
    RegistryUnavailableError,
    SchemaNotFoundError,
    SubjectNotFoundError,
    SubjectNotSoftDeletedError,
    SubjectSoftDeletedError,
    UnauthorizedError,
    VersionNotFoundError,
    VersionNotSoftDeletedError,
    VersionSoftDeletedError,
)
from eventscope.registry.models import RegisteredSchema, SchemaReference, StoredSchema

if TYPE_CHECKING:
    from eventscope.registry.server import EmbeddedRegistry

__all__ = [
    "BadRequestError",
    "CompatibilityNotConfiguredError",
    "EmbeddedRegistry",
    "ForbiddenError",
    "IncompatibleSchemaError",
    "InvalidCompatibilityLevelError",
    "InvalidModeError",
    "InvalidSchemaError",
    "InvalidVersionError",
    "MethodNotAllowedError",
    "ModeNotConfiguredError",
    "NotFoundError",
    "OperationNotPermittedError",
    "PayloadTooLargeError",
    "ReferenceExistsError",
    "RegisteredSchema",
    "RegistryClient",
    "RegistryError",
    "RegistryUnavailableError",
    "SchemaNotFoundError",
    "SchemaReference",
    "StoredSchema",
    "SubjectNotFoundError",
    "SubjectNotSoftDeletedError",
    "SubjectSoftDeletedError",
    "UnauthorizedError",
    "VersionNotFoundError",
    "VersionNotSoftDeletedError",
    "VersionSoftDeletedError",
]

__getattr__ = lazy_names(__name__, {"EmbeddedRegistry": "eventscope.registry.server"})
