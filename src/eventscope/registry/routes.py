"""The registry's REST API as Confluent's clients use it: one function per route.

Each route takes the store, the path parameters, the query and the decoded JSON body,
and answers something JSON-serialisable (or raises a :class:`RegistryError`, which
the application turns into Confluent's error body).  Nothing here knows HTTP: the
WSGI application in :mod:`eventscope.registry.app` does the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from eventscope.registry.errors import (
    BadRequestError,
    InvalidSchemaError,
    InvalidVersionError,
    SchemaNotFoundError,
)
from eventscope.registry.models import (
    DEFAULT_SCHEMA_TYPE,
    RegisteredSchema,
    SchemaReference,
    StoredSchema,
    references_from_json,
    schema_json,
)
from eventscope.registry.store import LATEST, RegistryStore, parse_mode, parse_registry_mode
from eventscope.schemas.formats import SCHEMA_TYPES
from eventscope.schemas.verdicts import Mode

Query = dict[str, str]
Shown = TypeVar("Shown", RegisteredSchema, StoredSchema)
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


def _mode_of(body: Any) -> str:
    if not isinstance(body, dict):
        raise BadRequestError("The request body must be a JSON object")
    return parse_registry_mode(body.get("mode"))


def _optional_number(body: Any, name: str) -> int | None:
    """``id`` or ``version`` of a register request (``IMPORT`` mode), when given."""
    value = body.get(name) if isinstance(body, dict) else None
    if value is None or (name == "version" and value == -1):
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadRequestError(f"$.{name}: a positive whole number is required")
    return value


def _schema_id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SchemaNotFoundError(f"Schema {text} not found") from None


# -- routes: (store, path parameters, query, body) -> JSON-serialisable reply ----------


def _page(items: list[Any], query: Query) -> list[Any]:
    """``offset`` and ``limit`` (``-1`` or absent: everything) applied to a listing."""
    try:
        offset = int(query.get("offset") or 0)
        limit = int(query.get("limit") or -1)
    except ValueError:
        raise BadRequestError("offset and limit must be whole numbers") from None
    if offset < 0:
        raise BadRequestError("offset must not be negative")
    return items[offset:] if limit < 0 else items[offset : offset + limit]


def _shown(store: RegistryStore, registered: Shown, query: Query) -> Shown:
    """The schema in the ``format`` asked for: ``serialized`` turns a Protobuf schema
    into its base64 ``FileDescriptorProto``, as Confluent's deserialisers expect;
    otherwise a Protobuf schema registered as a descriptor is shown as .proto text."""
    if registered.schema_type != "PROTOBUF":
        return registered
    if query.get("format") == "serialized":
        return replace(registered, schema=store.serialized(registered))
    return replace(registered, schema=store.as_text(registered))


def _subjects(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    names = store.subjects(
        q.get("subjectPrefix", ""),
        deleted=_flag(q, "deleted"),
        deleted_only=_flag(q, "deleted_only"),
    )
    return _page(names, q)


def _versions(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    numbers = store.versions(
        p["subject"], deleted=_flag(q, "deleted"), deleted_only=_flag(q, "deleted_only")
    )
    return _page(numbers, q)


def _version(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    found = store.version(p["subject"], parse_version(p["version"]), deleted=_flag(q, "deleted"))
    return _shown(store, found, q).to_json()


def _version_schema(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    found = store.version(p["subject"], parse_version(p["version"]), deleted=_flag(q, "deleted"))
    return Raw(_shown(store, found, q).schema)


def _referenced_by(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return _page(store.referenced_by(p["subject"], parse_version(p["version"])), q)


def _register(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    schema, schema_type, references = _schema_request(body)
    registered = store.register(
        p["subject"],
        schema,
        schema_type,
        references,
        version=_optional_number(body, "version"),
        schema_id=_optional_number(body, "id"),
        normalize=_flag(q, "normalize"),
    )
    return {"id": registered.id}


def _lookup(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    found = store.lookup(
        p["subject"],
        *_schema_request(body),
        deleted=_flag(q, "deleted"),
        normalize=_flag(q, "normalize"),
    )
    return _shown(store, found, q).to_json()


def _delete_subject(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return store.delete_subject(p["subject"], permanent=_flag(q, "permanent"))


def _delete_version(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    number = parse_version(p["version"])
    return store.delete_version(p["subject"], number, permanent=_flag(q, "permanent"))


def _by_id(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return schema_json(_shown(store, store.schema(_schema_id(p["id"])), q))


def _id_uses(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    uses = store.uses(_schema_id(p["id"]), deleted=_flag(q, "deleted"))
    return _page([{"subject": subject, "version": version} for subject, version in uses], q)


def _id_subjects(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return _page(store.subjects_of(_schema_id(p["id"]), deleted=_flag(q, "deleted")), q)


def _schemas(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    found = store.schemas(
        q.get("subjectPrefix", ""),
        deleted=_flag(q, "deleted"),
        latest_only=_flag(q, "latestOnly"),
    )
    return _page([_shown(store, registered, q).to_json() for registered in found], q)


def _contexts(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    """Only Confluent's default context, ``.``: every subject lives there."""
    return _page(["."], q)


def _global_mode(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return {"mode": store.mode()}


def _set_global_mode(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return {"mode": store.set_mode(_mode_of(body), force=_flag(q, "force"))}


def _delete_global_mode(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return {"mode": store.delete_mode()}


def _subject_mode(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return {"mode": store.mode(p["subject"], default_to_global=_flag(q, "defaultToGlobal"))}


def _set_subject_mode(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return {"mode": store.set_mode(_mode_of(body), p["subject"], force=_flag(q, "force"))}


def _delete_subject_mode(store: RegistryStore, p: dict[str, str], q: Query, body: Any) -> Any:
    return {"mode": store.delete_mode(p["subject"])}


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
    ("DELETE", ("subjects", "{subject}", "versions", "{version}"), _delete_version),
    ("GET", ("subjects", "{subject}", "versions", "{version}", "referencedby"), _referenced_by),
    ("GET", ("subjects", "{subject}", "versions"), _versions),
    ("POST", ("subjects", "{subject}", "versions"), _register),
    ("GET", ("subjects", "{subject}", "versions", "{version}"), _version),
    ("GET", ("subjects", "{subject}", "versions", "{version}", "schema"), _version_schema),
    ("GET", ("schemas", "types"), _types),
    ("GET", ("schemas", "ids", "{id}"), _by_id),
    ("GET", ("schemas", "ids", "{id}", "versions"), _id_uses),
    ("GET", ("schemas", "ids", "{id}", "subjects"), _id_subjects),
    ("GET", ("schemas",), _schemas),
    ("GET", ("contexts",), _contexts),
    ("GET", ("mode",), _global_mode),
    ("PUT", ("mode",), _set_global_mode),
    ("DELETE", ("mode",), _delete_global_mode),
    ("GET", ("mode", "{subject}"), _subject_mode),
    ("PUT", ("mode", "{subject}"), _set_subject_mode),
    ("DELETE", ("mode", "{subject}"), _delete_subject_mode),
    ("POST", ("compatibility", "subjects", "{subject}", "versions"), _check),
    ("POST", ("compatibility", "subjects", "{subject}", "versions", "{version}"), _check),
    ("GET", ("config",), _global_config),
    ("PUT", ("config",), _set_global_config),
    ("DELETE", ("config",), _delete_global_config),
    ("GET", ("config", "{subject}"), _subject_config),
    ("PUT", ("config", "{subject}"), _set_subject_config),
    ("DELETE", ("config", "{subject}"), _delete_subject_config),
]


def required_role(method: str, pattern: tuple[str, ...]) -> str:
    """The role a request needs: reading (lookups and checks included) is ``read``,
    registering ``write``, deleting and changing levels or modes ``admin``."""
    if method == "GET":
        return "read"
    if method == "POST":
        return "write" if pattern == ("subjects", "{subject}", "versions") else "read"
    return "admin"


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
