"""An embedded Confluent-compatible schema registry for local work, tests and CI.

Serializers, the Confluent clients and :class:`~eventscope.registry.RegistryClient` talk
to it as to Confluent Schema Registry: the same paths, JSON shapes, content type and
error codes, for the part of the REST API that registering, reading and checking schemas
uses.  It needs no JVM, no Kafka and no container, starts in milliseconds, keeps its
state in memory, in SQLite or in PostgreSQL (see :mod:`eventscope.registry.storage`),
and refuses an incompatible schema with eventscope's own checker,
so what a test registers is judged exactly as ``eventscope schema check`` judges it.

From a test::

    with EmbeddedRegistry(schemas="schemas") as registry:   # preloaded, optional
        client = RegistryClient(registry.url)

From the shell: ``eventscope registry serve --port 8081 --schemas schemas`` (state in
``./eventscope-registry.db`` unless ``--storage`` says otherwise).

Routes (``{version}`` is a number or ``latest``)::

    GET    /subjects                                  POST   /subjects/{subject}
    GET    /subjects/{subject}/versions               POST   /subjects/{subject}/versions
    GET    /subjects/{subject}/versions/{version}     DELETE /subjects/{subject}[?permanent=true]
    GET    /subjects/{subject}/versions/{version}/schema
    GET    /schemas/ids/{id}    GET /schemas/ids/{id}/versions    GET /schemas/types
    POST   /compatibility/subjects/{subject}/versions[/{version}][?verbose=true]
    GET|PUT /config     GET|PUT|DELETE /config/{subject}[?defaultToGlobal=true]
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from eventscope.registry.errors import (
    BadRequestError,
    InvalidSchemaError,
    InvalidVersionError,
    RegistryError,
    SchemaNotFoundError,
)
from eventscope.registry.models import (
    DEFAULT_SCHEMA_TYPE,
    SchemaReference,
    references_from_json,
    schema_json,
)
from eventscope.registry.storage import Storage, open_storage
from eventscope.registry.store import LATEST, RegistryStore, parse_mode
from eventscope.schemas.formats import SCHEMA_TYPES
from eventscope.schemas.verdicts import Mode

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
_MAX_BODY = 16 * 1024 * 1024
_POLL_SECONDS = 0.05  # how soon stop() is noticed: tests start and stop many registries
_log = logging.getLogger(__name__)

Query = dict[str, str]
Route = Callable[[RegistryStore, dict[str, str], Query, Any], Any]


class _Raw(str):
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
    return _Raw(store.version(p["subject"], parse_version(p["version"])).schema)


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


def _match(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params: dict[str, str] = {}
    for part, segment in zip(pattern, segments, strict=True):
        if part.startswith("{"):
            params[part[1:-1]] = segment
        elif part != segment:
            return None
    return params


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    store: RegistryStore


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "eventscope-registry"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s " + format, self.address_string(), *args)

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        # Split before unquoting: a subject may contain an encoded "/".
        segments = [unquote(part) for part in url.path.strip("/").split("/") if part]
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        allowed = False
        for route_method, pattern, route in ROUTES:
            params = _match(pattern, segments)
            if params is None:
                continue
            allowed = True
            if route_method == method:
                self._run(route, params, query)
                return
        if allowed:
            self._send(
                HTTPStatus.METHOD_NOT_ALLOWED,
                {"error_code": 405, "message": "HTTP 405 Method Not Allowed"},
            )
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error_code": 404, "message": "HTTP 404 Not Found"})

    def _run(self, route: Route, params: dict[str, str], query: Query) -> None:
        try:
            reply = route(self.server.store, params, query, self._body())
        except RegistryError as exc:
            self._send(exc.status, exc.to_body())
        except Exception:  # a bug here must not kill the server or hang the client
            _log.exception("embedded schema registry: %s %s failed", self.command, self.path)
            self._send(
                500, {"error_code": 50001, "message": "Internal error in the embedded registry"}
            )
        else:
            self._send(HTTPStatus.OK, reply)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise BadRequestError(f"The request body is larger than {_MAX_BODY} bytes")
        if not length:
            return None
        raw = self.rfile.read(length)
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequestError(f"The request body is not JSON: {exc}") from None

    def _send(self, status: int, reply: Any) -> None:
        data = (reply if isinstance(reply, _Raw) else json.dumps(reply)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class EmbeddedRegistry:
    """A registry served from a background thread; ``start()`` answers its URL.

    ``port=0`` picks a free port (tests); ``schemas`` preloads a schemas directory
    (raising :class:`~eventscope.schemas.SchemaDirectoryError` for a bad one before
    anything listens); ``compatibility`` is the global level until one is set;
    ``storage`` keeps the state: a :class:`~eventscope.registry.storage.Storage` or its
    URL (``memory``, ``sqlite:///FILE``, ``postgresql://…``), in memory by default.
    A storage opened from a URL is closed by :meth:`stop`.
    """

    def __init__(
        self,
        *,
        address: str = "127.0.0.1",
        port: int = 0,
        schemas: Path | str | None = None,
        compatibility: Mode | str = Mode.BACKWARD,
        storage: Storage | str = "memory",
    ) -> None:
        self.address = address
        self.port = port
        self._owned: Storage | None = None
        if isinstance(storage, str):
            storage = self._owned = open_storage(storage)
        self.store = RegistryStore(compatibility, storage)
        self.preloaded = 0
        if schemas is not None:
            from eventscope.registry.preload import preload

            try:
                self.preloaded = preload(self.store, schemas)
            except BaseException:
                if self._owned is not None:
                    self._owned.close()
                raise
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the embedded registry is not started")
        host, port = self._server.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}"

    def start(self) -> str:
        """Listen and serve in a daemon thread; raises ``OSError`` if the port is taken."""
        if self._server is None:
            server_class = _Server6 if ":" in self.address else _Server
            self._server = server_class((self.address, self.port), _Handler)
            self._server.store = self.store
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": _POLL_SECONDS},
                name="eventscope-registry",
                daemon=True,
            )
            self._thread.start()
        return self.url

    def wait(self) -> None:
        """Block until :meth:`stop` is called from elsewhere (or Ctrl-C)."""
        if self._thread is not None:
            self._thread.join()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._thread = None
        if self._owned is not None:
            self._owned.close()

    def __enter__(self) -> EmbeddedRegistry:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
