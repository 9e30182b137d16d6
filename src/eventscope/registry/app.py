"""The registry as a WSGI application: HTTP in, Confluent's JSON replies out.

Every reply is ``application/vnd.schemaregistry.v1+json``, and every failure is
Confluent's error body ``{"error_code", "message"}`` with the matching status: an
unknown path (404), a method a path does not take (405), a body over the limit (413,
refused from its declared length without reading it), a body that is not JSON, too
deep for the decoder or holding a number too long to convert (400), and, should a bug
slip through, 500 with the details in the log only.  Kept apart from the server so the
same application runs under any WSGI server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from eventscope.registry.auth import Access, allows
from eventscope.registry.errors import (
    BadRequestError,
    ForbiddenError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    RegistryError,
    UnauthorizedError,
)
from eventscope.registry.routes import ROUTES, Raw, Route, match, required_role
from eventscope.registry.store import RegistryStore

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
#: The largest request body read: a schema of several megabytes is already unusual.
MAX_BODY = 16 * 1024 * 1024
_log = logging.getLogger(__name__)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class RegistryApp:
    """Confluent's REST API over ``store``; bodies above ``max_body`` bytes are 413.

    With ``access``, every request needs the role its route asks for
    (:func:`~eventscope.registry.routes.required_role`): 401 without credentials the
    registry knows, 403 with too small a role.
    """

    def __init__(
        self, store: RegistryStore, *, max_body: int = MAX_BODY, access: Access | None = None
    ) -> None:
        self.store = store
        self.max_body = max_body
        self.access = access

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        try:
            route, params, query, needed = self._route(environ, method)
            self._authorize(environ, needed)
            reply = route(self.store, params, query, self._body(environ))
            status = HTTPStatus.OK.value
        except RegistryError as exc:
            status, reply = exc.status, exc.to_body()
        except Exception:  # a bug must not kill the worker or leave the client waiting
            _log.exception("schema registry: %s %s failed", method, environ.get("PATH_INFO"))
            status = 500
            reply = {"error_code": 50001, "message": "Internal error in the schema registry"}
        data = (reply if isinstance(reply, Raw) else json.dumps(reply)).encode("utf-8")
        headers = [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(data)))]
        if status == 401:
            headers.append(("WWW-Authenticate", 'Basic realm="schema-registry"'))
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [data]

    def _authorize(self, environ: dict[str, Any], needed: str) -> None:
        if self.access is None:
            return
        role = self.access.role(environ.get("HTTP_AUTHORIZATION"))
        if role is None:
            raise UnauthorizedError("Unauthorized: credentials are required")
        if not allows(role, needed):
            raise ForbiddenError(f"Forbidden: this needs the {needed} role, not {role}")

    def _route(
        self, environ: dict[str, Any], method: str
    ) -> tuple[Route, dict[str, str], Any, str]:
        # Split the raw path before unquoting: a subject may contain an encoded "/".
        raw = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        url = urlsplit(str(raw))
        segments = [unquote(part) for part in url.path.strip("/").split("/") if part]
        query_text = url.query or str(environ.get("QUERY_STRING", ""))
        query = {key: values[-1] for key, values in parse_qs(query_text).items()}
        allowed = False
        for route_method, pattern, route in ROUTES:
            params = match(pattern, segments)
            if params is None:
                continue
            allowed = True
            if route_method == method:
                return route, params, query, required_role(method, pattern)
        if allowed:
            raise MethodNotAllowedError("HTTP 405 Method Not Allowed")
        raise NotFoundError("HTTP 404 Not Found")

    def _body(self, environ: dict[str, Any]) -> Any:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise BadRequestError("Content-Length is not a number") from None
        if length > self.max_body:
            raise PayloadTooLargeError(
                f"The request body of {length} bytes is larger than the limit of "
                f"{self.max_body} bytes"
            )
        if length <= 0:
            return None
        raw = environ["wsgi.input"].read(length)
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadRequestError(f"The request body is not JSON: {exc}") from None
        except RecursionError:
            raise BadRequestError("The request body is nested too deeply") from None
        except ValueError as exc:  # e.g. an integer beyond Python's digit limit
            raise BadRequestError(f"The request body cannot be read: {exc}") from None
