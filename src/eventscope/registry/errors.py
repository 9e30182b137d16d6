"""Schema registry errors, one class per Confluent error code that callers act on.

Confluent Schema Registry answers a failed request with an HTTP status and a JSON body
``{"error_code": 40401, "message": "Subject 'orders' not found."}``; the five-digit code
says which of several errors sharing a status it is (40401 subject, 40402 version, 40403
schema).  The client raises the class that matches the code, so callers write
``except SubjectNotFoundError`` instead of comparing numbers, and the embedded server
raises the very same classes, so both sides agree on every status, code and shape.
"""

from __future__ import annotations

from typing import ClassVar


class RegistryError(Exception):
    """A request the registry refused; ``status`` is the HTTP status, ``error_code``
    the registry's code (``None`` when the reply was not a registry error body)."""

    STATUS: ClassVar[int] = 500
    CODE: ClassVar[int | None] = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: int | None = None,
        registry: str | None = None,
    ) -> None:
        self.message = message
        self.status = status if status is not None else self.STATUS
        self.error_code = error_code if error_code is not None else self.CODE
        self.registry = registry
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"schema registry {self.registry}: " if self.registry else ""
        code = f" (error {self.error_code})" if self.error_code is not None else ""
        return f"{where}{self.message}{code}"

    def to_body(self) -> dict[str, object]:
        """The JSON body Confluent's registry answers with."""
        return {"error_code": self.error_code, "message": self.message}


class RegistryUnavailableError(RegistryError):
    """The registry could not be reached or did not answer in time (no HTTP reply)."""

    STATUS = 0
    CODE = None

    def _render(self) -> str:
        return f"cannot reach the schema registry at {self.registry}: {self.message}"


class SubjectNotFoundError(RegistryError):
    STATUS = 404
    CODE = 40401


class VersionNotFoundError(RegistryError):
    STATUS = 404
    CODE = 40402


class SchemaNotFoundError(RegistryError):
    STATUS = 404
    CODE = 40403


class SubjectSoftDeletedError(RegistryError):
    """Soft-deleting a subject that is already soft-deleted."""

    STATUS = 404
    CODE = 40404


class SubjectNotSoftDeletedError(RegistryError):
    """A permanent delete of a subject that was not soft-deleted first."""

    STATUS = 404
    CODE = 40405


class VersionSoftDeletedError(RegistryError):
    """Soft-deleting a version that is already soft-deleted."""

    STATUS = 404
    CODE = 40406


class VersionNotSoftDeletedError(RegistryError):
    """A permanent delete of a version that was not soft-deleted first."""

    STATUS = 404
    CODE = 40407


class ModeNotConfiguredError(RegistryError):
    """The subject has no mode of its own (it follows the global one)."""

    STATUS = 404
    CODE = 40409


class CompatibilityNotConfiguredError(RegistryError):
    """The subject has no compatibility level of its own (it follows the global one)."""

    STATUS = 404
    CODE = 40408


class IncompatibleSchemaError(RegistryError):
    """Registering a schema that breaks the subject's compatibility level.  Registries
    before Confluent 8 answer code 409, later ones 40901; both map here."""

    STATUS = 409
    CODE = 409


class InvalidSchemaError(RegistryError):
    """The schema does not parse in its type, or its references cannot be resolved."""

    STATUS = 422
    CODE = 42201


class InvalidVersionError(RegistryError):
    STATUS = 422
    CODE = 42202


class InvalidCompatibilityLevelError(RegistryError):
    STATUS = 422
    CODE = 42203


class InvalidModeError(RegistryError):
    STATUS = 422
    CODE = 42204


class OperationNotPermittedError(RegistryError):
    """A write the registry's or the subject's mode forbids (``READONLY``), or an id
    given outside ``IMPORT`` mode."""

    STATUS = 422
    CODE = 42205


class ReferenceExistsError(RegistryError):
    """Deleting a version another schema refers to."""

    STATUS = 422
    CODE = 42206


class BadRequestError(RegistryError):
    """A request body that is not JSON or lacks a required field."""

    STATUS = 400
    CODE = 400


class UnauthorizedError(RegistryError):
    """No credentials, or credentials the registry does not know."""

    STATUS = 401
    CODE = 40101


class ForbiddenError(RegistryError):
    """Known credentials whose role does not allow the request."""

    STATUS = 403
    CODE = 40301


class NotFoundError(RegistryError):
    """A path the registry does not serve."""

    STATUS = 404
    CODE = 404


class MethodNotAllowedError(RegistryError):
    STATUS = 405
    CODE = 405


class PayloadTooLargeError(RegistryError):
    """A request body over the registry's limit."""

    STATUS = 413
    CODE = 413


ERRORS_BY_CODE: dict[int | None, type[RegistryError]] = {
    cls.CODE: cls
    for cls in (
        SubjectNotFoundError,
        VersionNotFoundError,
        SchemaNotFoundError,
        SubjectSoftDeletedError,
        SubjectNotSoftDeletedError,
        VersionSoftDeletedError,
        VersionNotSoftDeletedError,
        CompatibilityNotConfiguredError,
        ModeNotConfiguredError,
        IncompatibleSchemaError,
        InvalidSchemaError,
        InvalidVersionError,
        InvalidCompatibilityLevelError,
        InvalidModeError,
        OperationNotPermittedError,
        ReferenceExistsError,
        BadRequestError,
        UnauthorizedError,
        ForbiddenError,
        PayloadTooLargeError,
    )
}
ERRORS_BY_CODE[40901] = IncompatibleSchemaError


def error_for(
    status: int, error_code: int | None, message: str, registry: str | None
) -> RegistryError:
    """The exception for a registry's error reply."""
    cls = ERRORS_BY_CODE.get(error_code) if error_code is not None else None
    if cls is None:
        cls = IncompatibleSchemaError if status == 409 else RegistryError
    return cls(message, status=status, error_code=error_code, registry=registry)
