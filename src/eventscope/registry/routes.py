"""The registry's REST API as Confluent's clients use it: one function per route.

Each route takes the store, the path parameters, the query and the decoded JSON body,
and answers something JSON-serialisable (or raises a :class:`RegistryError`, which
the application turns into Confluent's error body).  Nothing here knows HTTP: the
WSGI application in :mod:`eventscope.registry.app` does the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventscope.registry.errors import (
    BadRequestError,
    InvalidSchemaError,
    InvalidVersionError,
    SchemaNotFoundError,
)
from eventscope.registry.models import (
    DEFAULT_SCHEMA_TYPE,
    SchemaReference,
    references_from_json,
    schema_json,
)
from eventscope.registry.store import LATEST, RegistryStore, parse_mode
from eventscope.schemas.formats import SCHEMA_TYPES
from eventscope.schemas.verdicts import Mode

Query = dict[str, str]
Route = Callable[[RegistryStore, dict[str, str], Query, Any], Any]


class Raw(str):
    """A reply sent as it is rather than as JSON (``.../versions/{v}/schema``)."""


def parse_version(text: str) -> int:
    """``latest`` → -1, a positive number → itself; anything else is 42202."""
    if text.strip().lower() == "latest":
        return LATEST
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1 and number != LATEST:
        raise InvalidVersionError(
            f"The specified version '{text}' is not a valid version id. Allowed values are "
            'between [1, 2^31-1] and the string "latest"'
        )
    return number


def _flag(query: Query, name: str) -> bool:
    return query.get(name, "").lower() == "true"


def _schema_request(body: Any) -> tuple[str, str, tuple[SchemaReference, ...]]:
    """``{"schema", "schemaType", "references"}`` from a register or check request."""
    if not isinstance(body, dict):
        raise BadRequestError("The request body must be a JSON object")
    schema = body.get("schema")
    if not isinstance(schema, str):
        raise InvalidSchemaError("Empty schema")
    schema_type = str(body.get("schemaType") or DEFAULT_SCHEMA_TYPE).upper()  # the store checks it
    try:
        references = references_from_json(body.get("references"), "$.references")
    except ValueError as exc:
        raise InvalidSchemaError(str(exc)) from None
    return schema, schema_type, references


def _level(body: Any) -> Mode:
    if not isinstance(body, dict):
        raise BadRequestError("The request body must be a JSON object")
    return parse_mode(body.get("compatibility"))


def _schema_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SchemaNotFoundError(f"Schema {text} not found") from None


# -- routes: (store, path parameters, query, body) -> JSON-serialisable reply ----------


def _subjects(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return store.subjects()


def _versions(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return store.versions(p["subject"])


def _version(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return store.version(p["subject"], parse_version(p["version"])).to_json()


def _version_schema(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return Raw(store.version(p["subject"], parse_version(p["version"])).schema)


def _register(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return {"id": store.register(p["subject"], *_schema_request(body)).id}


def _lookup(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return store.lookup(p["subject"], *_schema_request(body)).to_json()


def _delete_subject(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return store.delete_subject(p["subject"], permanent=_flag(q, "permanent"))


def _by_id(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return schema_json(store.schema(_schema_id(p["id"])))


def _id_uses(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    uses = store.uses(_schema_id(p["id"]))
    return [{"subject": subject, "version": version} for subject, version in uses]


def _types(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return list(SCHEMA_TYPES)


def _check(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    """Confluent answers an invalid schema with 42201, or in verbose mode with
    ``is_compatible: false`` and the parse error as the message."""
    version = parse_version(p["version"]) if "version" in p else None
    verbose = _flag(q, "verbose")
    try:
        messages = store.check(p["subject"], *_schema_request(body), version=version)
    except InvalidSchemaError as exc:
        if not verbose:
            raise
        messages = [exc.message]
    reply: dict[str, Any] = {"is_compatible": not messages}
    if verbose:
        reply["messages"] = messages
    return reply


def _global_config(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return {"compatibilityLevel": str(store.compatibility())}


def _set_global_config(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return {"compatibility": str(store.set_compatibility(_level(body)))}


def _delete_global_config(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return {"compatibilityLevel": str(store.delete_compatibility())}


def _subject_config(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    level = store.compatibility(p["subject"], default_to_global=_flag(q, "defaultToGlobal"))
    return {"compatibilityLevel": str(level)}


def _set_subject_config(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return {"compatibility": str(store.set_compatibility(_level(body), p["subject"]))}


def _delete_subject_config(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return {"compatibilityLevel": str(store.delete_compatibility(p["subject"]))}


def _root(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return {}


ROUTES: list[tuple[str, tuple[str, ...], Route]] = [
    ("GET", (), _root),
    ("GET", ("subjects",), _subjects),
    ("POST", ("subjects", "{subject}"), _lookup),
    ("DELETE", ("subjects", "{subject}"), _delete_subject),
    ("GET", ("subjects", "{subject}", "versions"), _versions),
    ("POST", ("subjects", "{subject}", "versions"), _register),
    ("GET", ("subjects", "{subject}", "versions", "{version}"), _version),
    ("GET", ("subjects", "{subject}", "versions", "{version}", "schema"), _version_schema),
    ("GET", ("schemas", "types"), _types),
    ("GET", ("schemas", "ids", "{id}"), _by_id),
    ("GET", ("schemas", "ids", "{id}", "versions"), _id_uses),
    ("POST", ("compatibility", "subjects", "{subject}", "versions"), _check),
    ("POST", ("compatibility", "subjects", "{subject}", "versions", "{version}"), _check),
    ("GET", ("config",), _global_config),
    ("PUT", ("config",), _set_global_config),
    ("DELETE", ("config",), _delete_global_config),
    ("GET", ("config", "{subject}"), _subject_config),
    ("PUT", ("config", "{subject}"), _set_subject_config),
    ("DELETE", ("config", "{subject}"), _delete_subject_config),
]


def match(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for part, segment in zip(pattern, segments, strict=True):
        if part.startswith("{"):
            params[part[1:-1]] = segment
        elif part != segment:
            return None
    return params
