"""Reading message interactions out of pact files, V4 and V3 alike.

The verifier reads pact files itself; eventscope reads them too, for what the verifier
does not do: listing interactions as test items before anything runs, and validating
each message body against the schema registered for its destination.  Only
asynchronous message interactions are eventscope's business; HTTP and synchronous
message interactions in the same file are left alone.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DESTINATION = "destination"
"""The metadata key naming where a message is published (topic, queue, subject)."""
CONTENT_TYPE = "contentType"
ASYNC_MESSAGE = "Asynchronous/Messages"


class PactFileError(ValueError):
    """A pact file cannot be read; the message names the file and the JSON path."""


@dataclass(frozen=True, slots=True)
class ProviderState:
    name: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MessageInteraction:
    """One asynchronous message interaction as a consumer wrote it."""

    file: Path
    consumer: str
    provider: str
    description: str
    states: tuple[ProviderState, ...]
    metadata: Mapping[str, Any]
    content_type: str | None
    body: Any
    """The example body: parsed JSON for JSON content types, else bytes."""
    pending: bool = False

    @property
    def destination(self) -> str | None:
        value = self.metadata.get(DESTINATION)
        return value if isinstance(value, str) and value else None

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(state.name for state in self.states)

    @property
    def body_is_json(self) -> bool:
        return is_json_type(self.content_type)

    def label(self) -> str:
        """``'an order placed event' given 'an order is ready'`` for messages."""
        text = repr(self.description)
        if self.states:
            text += " given " + ", ".join(repr(name) for name in self.state_names)
        return text


@dataclass(frozen=True, slots=True)
class PactDocument:
    file: Path
    consumer: str
    provider: str
    messages: tuple[MessageInteraction, ...]


def is_json_type(content_type: str | None) -> bool:
    """``application/json``, ``application/vnd.acme+json; charset=utf-8``, ..."""
    if not content_type:
        return False
    essence = content_type.split(";", 1)[0].strip().lower()
    return essence == "application/json" or essence.endswith("+json")


def pact_files(directory: Path) -> list[Path]:
    """The ``*.json`` files directly in ``directory``, sorted (as the verifier reads them)."""
    return sorted(path for path in directory.glob("*.json") if path.is_file())


def read_pact(path: Path) -> PactDocument:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PactFileError(f"{path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PactFileError(f"{path}: not a JSON pact file ({exc})") from None
    if not isinstance(document, dict):
        raise PactFileError(f"{path}: $: a pact file is a JSON object")
    consumer = _name(path, document, "consumer")
    provider = _name(path, document, "provider")
    messages: list[MessageInteraction] = []
    if "interactions" in document and _is_v4(document):
        for index, raw in enumerate(_list(path, document, "interactions")):
            where = f"$.interactions[{index}]"
            if _object(path, raw, where).get("type") == ASYNC_MESSAGE:
                messages.append(_v4_message(path, consumer, provider, raw, where))
    else:
        for index, raw in enumerate(document.get("messages") or []):
            messages.append(_v3_message(path, consumer, provider, raw, f"$.messages[{index}]"))
    return PactDocument(path, consumer, provider, tuple(messages))


def interactions_in(directory: Path) -> Iterator[MessageInteraction]:
    for path in pact_files(directory):
        yield from read_pact(path).messages


def _is_v4(document: dict[str, Any]) -> bool:
    spec = (document.get("metadata") or {}).get("pactSpecification") or {}
    return str(spec.get("version", "")).startswith("4")


def _name(path: Path, document: dict[str, Any], role: str) -> str:
    party = document.get(role)
    name = party.get("name") if isinstance(party, dict) else None
    if not isinstance(name, str) or not name:
        raise PactFileError(f"{path}: $.{role}.name: missing; every pact names its {role}")
    return name


def _list(path: Path, document: dict[str, Any], key: str) -> list[Any]:
    value = document.get(key)
    if not isinstance(value, list):
        raise PactFileError(f"{path}: $.{key}: expected a list")
    return value


def _object(path: Path, value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PactFileError(f"{path}: {where}: expected an object")
    return value


def _description(path: Path, raw: dict[str, Any], where: str) -> str:
    description = raw.get("description")
    if not isinstance(description, str) or not description:
        raise PactFileError(f"{path}: {where}.description: missing")
    return description


def _states(path: Path, raw: dict[str, Any], where: str) -> tuple[ProviderState, ...]:
    states = raw.get("providerStates")
    if states is None and isinstance(raw.get("providerState"), str):  # V2 spelling
        return (ProviderState(raw["providerState"]),)
    result = []
    for index, state in enumerate(states or []):
        state = _object(path, state, f"{where}.providerStates[{index}]")
        name = state.get("name")
        if not isinstance(name, str):
            raise PactFileError(f"{path}: {where}.providerStates[{index}].name: missing")
        result.append(ProviderState(name, state.get("params") or {}))
    return tuple(result)


def _v4_message(
    path: Path, consumer: str, provider: str, raw: dict[str, Any], where: str
) -> MessageInteraction:
    contents = _object(path, raw.get("contents") or {}, f"{where}.contents")
    metadata = _object(path, raw.get("metadata") or {}, f"{where}.metadata")
    content_type = contents.get("contentType") or metadata.get(CONTENT_TYPE)
    body = _v4_body(path, contents, content_type, f"{where}.contents")
    return MessageInteraction(
        path,
        consumer,
        provider,
        _description(path, raw, where),
        _states(path, raw, where),
        metadata,
        content_type,
        body,
        bool(raw.get("pending", False)),
    )


def _v4_body(path: Path, contents: dict[str, Any], content_type: str | None, where: str) -> Any:
    content = contents.get("content")
    encoded = contents.get("encoded", False)
    if encoded in (True, "base64", "BASE64"):
        try:
            data = base64.b64decode(content or "", validate=True)
        except (ValueError, TypeError):
            raise PactFileError(f"{path}: {where}.content: not valid base64") from None
        return _parse_if_json(path, data, content_type, where)
    if encoded in ("json", "JSON") and isinstance(content, str):
        return _parse_if_json(path, content.encode(), "application/json", where)
    if isinstance(content, str) and not is_json_type(content_type):
        return content.encode()
    return content


def _v3_message(
    path: Path, consumer: str, provider: str, raw: Any, where: str
) -> MessageInteraction:
    raw = _object(path, raw, where)
    metadata = _object(path, raw.get("metaData") or raw.get("metadata") or {}, f"{where}.metaData")
    content_type = metadata.get(CONTENT_TYPE) or "application/json"
    return MessageInteraction(
        path,
        consumer,
        provider,
        _description(path, raw, where),
        _states(path, raw, where),
        metadata,
        content_type,
        raw.get("contents"),
    )


def _parse_if_json(path: Path, data: bytes, content_type: str | None, where: str) -> Any:
    if not is_json_type(content_type):
        return data
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PactFileError(
            f"{path}: {where}.content: {content_type} body is not JSON ({exc})"
        ) from None
