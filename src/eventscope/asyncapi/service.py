"""A service's document from what it declares: its configuration and its schemas,
read from the schemas directory the configuration (or the caller) names, or from a
schema registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eventscope import config as cfg
from eventscope.asyncapi.document import build_document
from eventscope.contracts.schema_source import DirectorySource, RegistrySource, SchemaSource
from eventscope.errors import UsageError


def schema_source(
    config: cfg.Config, schemas: Path | None = None, registry: str | None = None
) -> SchemaSource:
    """The registry at ``registry``, else the directory ``schemas``, else the
    configuration's ``asyncapi.schemas``."""
    if registry:
        from eventscope.registry.client import RegistryClient

        try:
            return RegistrySource(RegistryClient(registry))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    directory = schemas or config.asyncapi.schemas
    if directory is None:
        raise UsageError(
            f"{config.source}: no schemas to take payloads from: set asyncapi.schemas "
            "(a schemas directory, relative to the configuration file), or pass "
            "--schemas DIR or --registry URL"
        )
    from eventscope.schemas import SchemaDirectoryError, load_schema_directory

    try:
        return DirectorySource(load_schema_directory(directory))
    except SchemaDirectoryError as exc:
        raise UsageError(str(exc)) from None


def service_document(
    config: cfg.Config, schemas: Path | None = None, registry: str | None = None
) -> dict[str, Any]:
    """The AsyncAPI document of ``config``'s service."""
    return build_document(config, schema_source(config, schemas, registry))
