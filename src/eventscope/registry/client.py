"""A client for any Confluent-compatible schema registry, on the standard library alone.

Confluent Schema Registry, Karapace, Redpanda, Apicurio's ``/apis/ccompat/v7`` and
eventscope's embedded registry speak the same REST API.  This client covers what CI and
tooling need from it: register and read schemas, check a candidate before registering
it, and read or change compatibility levels.  It uses ``urllib`` (no dependency to pin
against a service's own) and maps every error reply to the exception for its Confluent
error code (:mod:`eventscope.registry.errors`), whose message names the registry,
says what was refused and carries the code; a registry that cannot be reached raises
:class:`RegistryUnavailableError` saying so, never a bare socket error.

::

    registry = RegistryClient("http://localhost:8081")
    schema_id = registry.register("orders-value", open("orders.avsc").read())
    latest = registry.latest("orders-value")          # RegisteredSchema
    ok, messages = registry.check_compatibility("orders-value", candidate_text)

Credentials come from ``auth=(user, password)`` or the URL itself
(``https://user:secret@registry.example``); they are sent as HTTP basic authentication
and never appear in messages.
"""

from __future__ import annotations

import base64
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from http.client import HTTPException
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from eventscope.registry.errors import RegistryError, RegistryUnavailableError, error_for
from eventscope.registry.models import (
    DEFAULT_SCHEMA_TYPE,
    RegisteredSchema,
    SchemaReference,
    StoredSchema,
    references_from_json,
    schema_type_of,
)
from eventscope.schemas.verdicts import Mode

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
ACCEPT = f"{CONTENT_TYPE}, application/vnd.schemaregistry+json; q=0.9, application/json; q=0.5"

SchemaText = str | Mapping[str, Any]
Version = int | str


class RegistryClient:
    """Talks to the registry at ``url``; ``timeout`` (seconds) bounds every request."""

    def __init__(
        self, url: str, auth: tuple[str, str] | None = None, timeout: float = 10.0
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not a registry URL: {url!r}; expected http(s)://host[:port]")
        if auth is None and parts.username is not None:
            auth = (unquote(parts.username), unquote(parts.password or ""))
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        netloc = f"{host}:{parts.port}" if parts.port is not None else host
        self.url = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self.timeout = timeout
        self._authorization = _basic(auth) if auth is not None else None

    def __repr__(self) -> str:
        return f"RegistryClient({self.url!r})"

    # -- schemas -------------------------------------------------------------------

    def register(
        self,
        subject: str,
        schema: SchemaText,
        schema_type: str = DEFAULT_SCHEMA_TYPE,
        references: Sequence[SchemaReference] = (),
    ) -> int:
        """Register ``schema`` under ``subject``; its global id.

        Registering a schema the subject already has answers its id again.  Raises
        :class:`IncompatibleSchemaError` when the subject's compatibility level refuses
        it and :class:`InvalidSchemaError` when it does not parse.
        """
        body = _schema_body(schema, schema_type, references)
        reply = self._request("POST", f"/subjects/{_segment(subject)}/versions", body)
        return int(reply["id"])

    def lookup(
        self,
        subject: str,
        schema: SchemaText,
        schema_type: str = DEFAULT_SCHEMA_TYPE,
        references: Sequence[SchemaReference] = (),
    ) -> RegisteredSchema:
        """The version of ``subject`` holding ``schema`` (:class:`SchemaNotFoundError` if
        none): "is this exact schema registered?" without registering it."""
        body = _schema_body(schema, schema_type, references)
        return _registered(self._request("POST", f"/subjects/{_segment(subject)}", body))

    def latest(self, subject: str) -> RegisteredSchema:
        return self.version(subject, "latest")

    def version(self, subject: str, version: Version) -> RegisteredSchema:
        """Version ``version`` (a number or ``"latest"``) of ``subject``."""
        path = f"/subjects/{_segment(subject)}/versions/{_segment(str(version))}"
        return _registered(self._request("GET", path))

    def reference_texts(self, registered: RegisteredSchema) -> dict[str, str]:
        """Reference name → schema text for everything ``registered`` refers to,
        references of references included (each read once)."""
        texts: dict[str, str] = {}
        pending = list(registered.references)
        while pending:
            reference = pending.pop(0)
            if reference.name in texts:
                continue
            found = self.version(reference.subject, reference.version)
            texts[reference.name] = found.schema
            pending.extend(found.references)
        return texts

    def by_id(self, schema_id: int) -> StoredSchema:
        reply = self._request("GET", f"/schemas/ids/{int(schema_id)}")
        return StoredSchema(
            int(schema_id),
            reply["schema"],
            reply.get("schemaType") or DEFAULT_SCHEMA_TYPE,
            references_from_json(reply.get("references"), "$.references"),
        )

    def subjects(self) -> list[str]:
        return list(self._request("GET", "/subjects"))

    def versions(self, subject: str) -> list[int]:
        return [int(v) for v in self._request("GET", f"/subjects/{_segment(subject)}/versions")]

    def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        """Soft-delete ``subject`` (``permanent=True``, after a soft delete, removes it);
        the versions deleted."""
        query = "?permanent=true" if permanent else ""
        reply = self._request("DELETE", f"/subjects/{_segment(subject)}{query}")
        return [int(v) for v in reply]

    # -- compatibility -------------------------------------------------------------

    def check_compatibility(
        self,
        subject: str,
        schema: SchemaText,
        schema_type: str = DEFAULT_SCHEMA_TYPE,
        references: Sequence[SchemaReference] = (),
        version: Version | None = "latest",
    ) -> tuple[bool, list[str]]:
        """Would ``schema`` be accepted next to ``version`` of ``subject``?

        ``version=None`` checks against every version the subject's level names, as
        registering would.  Answers the verdict and the registry's messages (Confluent's
        ``{errorType:..., description:...}`` strings; empty when compatible).
        """
        path = f"/compatibility/subjects/{_segment(subject)}/versions"
        if version is not None:
            path += f"/{_segment(str(version))}"
        body = _schema_body(schema, schema_type, references)
        reply = self._request("POST", path + "?verbose=true", body)
        return bool(reply["is_compatible"]), [str(m) for m in reply.get("messages") or []]

    def compatibility(self, subject: str | None = None, *, inherit: bool = True) -> Mode:
        """The global level, or the level ``subject`` is checked under.

        With ``inherit=False`` a subject without a level of its own raises
        :class:`CompatibilityNotConfiguredError` instead of answering the global one.
        """
        if subject is None:
            reply = self._request("GET", "/config")
        else:
            query = "?defaultToGlobal=true" if inherit else ""
            reply = self._request("GET", f"/config/{_segment(subject)}{query}")
        return Mode(str(reply["compatibilityLevel"]).upper())

    def set_compatibility(self, mode: Mode | str, subject: str | None = None) -> Mode:
        """Set the global level, or ``subject``'s own."""
        path = "/config" if subject is None else f"/config/{_segment(subject)}"
        reply = self._request("PUT", path, {"compatibility": str(mode).upper()})
        return Mode(str(reply["compatibility"]).upper())

    def delete_compatibility(self, subject: str) -> Mode:
        """Remove ``subject``'s own level (it follows the global one again); the old level."""
        reply = self._request("DELETE", f"/config/{_segment(subject)}")
        return Mode(str(reply["compatibilityLevel"]).upper())

    # -- transport -----------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Accept", ACCEPT)
        if data is not None:
            request.add_header("Content-Type", CONTENT_TYPE)
        if self._authorization is not None:
            request.add_header("Authorization", self._authorization)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise self._error(exc) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, HTTPException) as exc:
            # HTTPException: the reply was cut short (IncompleteRead: the server died
            # mid-answer), which is the registry being unavailable too.
            reason = getattr(exc, "reason", exc)
            raise RegistryUnavailableError(
                f"{method} {path}: {_reason(reason)}", registry=self.url
            ) from None
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise RegistryError(
                f"{method} {path}: the reply is not JSON: {raw[:200]!r}",
                status=200,
                error_code=None,
                registry=self.url,
            ) from None

    def _error(self, exc: urllib.error.HTTPError) -> RegistryError:
        """The exception for an error reply, from its ``error_code`` when it has one."""
        raw = exc.read()
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        if isinstance(body, dict) and "message" in body:
            code = body.get("error_code")
            return error_for(
                exc.code, code if isinstance(code, int) else None, str(body["message"]), self.url
            )
        text = raw.decode("utf-8", "replace").strip()[:200] or exc.reason
        return error_for(exc.code, None, f"HTTP {exc.code}: {text}", self.url)


def _registered(reply: Mapping[str, Any]) -> RegisteredSchema:
    return RegisteredSchema(
        str(reply["subject"]),
        int(reply["version"]),
        int(reply["id"]),
        str(reply["schema"]),
        str(reply.get("schemaType") or DEFAULT_SCHEMA_TYPE),
        references_from_json(reply.get("references"), "$.references"),
    )


def _schema_body(
    schema: SchemaText, schema_type: str, references: Sequence[SchemaReference]
) -> dict[str, Any]:
    """A register or check request; a parsed schema (a dict) is sent as JSON text."""
    text = schema if isinstance(schema, str) else json.dumps(schema)
    body: dict[str, Any] = {"schema": text}
    kind = schema_type_of(schema_type)
    if kind != DEFAULT_SCHEMA_TYPE:
        body["schemaType"] = kind
    if references:
        body["references"] = [reference.to_json() for reference in references]
    return body


def _segment(text: str) -> str:
    """A path segment, with every reserved character (``/`` too) escaped."""
    return quote(text, safe="")


def _basic(auth: tuple[str, str]) -> str:
    user, password = auth
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "no answer in time (timed out)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is the registry running?)"
    if isinstance(reason, socket.gaierror):
        return f"unknown host ({reason.strerror})"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    if isinstance(reason, HTTPException):
        return f"the reply was cut short ({reason!r})"
    return str(reason)
