"""The AsyncAPI 3.0 document of a service, from its configuration and its schemas.

The configuration (``[asyncapi]`` in ``eventscope.toml``) says which brokers the service
connects to, what it sends and which of its consumer groups receive what; the schemas
directory (or registry) gives each destination's payload, found by the same subject
name strategy the provider verification uses.  From those:

- a server per configured broker (Kafka ones name the schema registry);
- a channel per destination and one per dead-letter destination, named by each
  broker's rule in the catalog (``orders.dlq``, or ``orders-dlq`` on SQS);
- operations: ``send.<destination>``, ``receive.<destination>.<group>`` (the group in
  the broker's binding and in ``x-eventscope-consumer-group``) and
  ``dead-letter.<destination>.<group>`` (what a group gives up on);
- one message per schema subject, its headers the ones eventscope writes (dead letters:
  plus the reason and the original destination), ``x-eventscope-subject`` /
  ``x-eventscope-schema-version`` naming the version, and its payload a reference to
  ``components.schemas.<subject>``, the schema in its own format (shared by the message
  and its dead letter).

The same configuration and schemas always give the same document, so a committed copy
can be compared with what the code declares now.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from eventscope import catalog
from eventscope import config as cfg
from eventscope.asyncapi import bindings
from eventscope.asyncapi.headers import DEAD_LETTER_HEADERS, HEADERS, header_schemas
from eventscope.asyncapi.payloads import content_type, payload
from eventscope.contracts.schema_source import ResolvedSchema, SchemaSource, SchemaUnavailable
from eventscope.contracts.subject_names import SubjectNameStrategy
from eventscope.errors import UsageError

ASYNCAPI_VERSION = "3.0.0"
GROUP_EXTENSION = "x-eventscope-consumer-group"
SUBJECT_EXTENSION = "x-eventscope-subject"
VERSION_EXTENSION = "x-eventscope-schema-version"
_ID = re.compile(r"[^A-Za-z0-9_.\-]")


def build_document(config: cfg.Config, source: SchemaSource) -> dict[str, Any]:
    """The document for ``config``'s service, payloads read from ``source``."""
    settings = config.asyncapi
    try:
        strategy = SubjectNameStrategy.parse(settings.subject_name_strategy)
    except ValueError as exc:
        raise UsageError(f"{config.source}: asyncapi.subject_name_strategy: {exc}") from None
    sends = settings.sends or config.destinations
    receives = dict(settings.receives) or {d: config.consumer_groups for d in config.destinations}
    destinations = list(dict.fromkeys([*sends, *receives]))
    if not destinations:
        raise UsageError(
            f"{config.source}: no destination to document: set destinations, or "
            "asyncapi.sends / asyncapi.receives"
        )
    servers = dict(sorted(settings.servers.items()))
    protocols = {server.protocol for server in servers.values()}

    document: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": _info(config),
        "defaultContentType": "application/json",
    }
    if servers:
        document["servers"] = {
            name: _server(server, settings.schema_registry_url) for name, server in servers.items()
        }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas_used: dict[str, Any] = header_schemas()
    for destination in destinations:
        schemas = _schemas(config, source, destination, strategy)
        message_ids = []
        for schema in schemas:
            message_id = _id(schema.subject)
            message_ids.append(message_id)
            schemas_used[message_id] = payload(schema)
            messages[message_id] = _message(schema, HEADERS, protocols, strategy)
        dead_letters = _dead_letter_names(servers, destination) if destination in receives else {}
        sqs_dead_letter = next(
            (name for name, names in dead_letters.items() if "sqs" in names[1]), None
        )
        channels[_id(destination)] = _channel(
            destination,
            message_ids,
            bindings.channel_bindings(
                protocols,
                destination,
                dead_letter=sqs_dead_letter,
                max_attempts=settings.max_attempts,
            ),
        )
        if destination in sends:
            operations[_id(f"send.{destination}")] = _operation(
                "send", destination, message_ids, f"The service sends to {destination}."
            )
        for group in receives.get(destination, ()):
            operation = _operation(
                "receive",
                destination,
                message_ids,
                f"Consumer group {group} receives {destination}.",
                bindings.receive_bindings(protocols, destination, group),
            )
            operations[_id(f"receive.{destination}.{group}")] = {
                **operation,
                GROUP_EXTENSION: group,
            }
        for name, (server_names, dl_protocols) in dead_letters.items():
            dl_ids = []
            for schema in schemas:
                dl_id = _id(f"{schema.subject}.dead-letter")
                dl_ids.append(dl_id)
                messages[dl_id] = _message(schema, DEAD_LETTER_HEADERS, protocols, strategy)
            channel = _channel(
                name,
                dl_ids,
                bindings.channel_bindings(dl_protocols, name),
                description=f"Messages of {destination} its consumer groups gave up on.",
            )
            if len(dead_letters) > 1:  # named differently per broker: say which
                channel["servers"] = [{"$ref": f"#/servers/{s}"} for s in server_names]
            channels[_id(name)] = channel
            for group in receives.get(destination, ()):
                attempts = (
                    f" after {settings.max_attempts} attempts" if settings.max_attempts else ""
                )
                which = f".{name}" if len(dead_letters) > 1 else ""
                operations[_id(f"dead-letter.{destination}.{group}{which}")] = {
                    **_operation(
                        "send",
                        name,
                        dl_ids,
                        f"Consumer group {group} dead-letters a message of {destination} "
                        f"it gave up on{attempts}.",
                    ),
                    GROUP_EXTENSION: group,
                }
    document["channels"] = channels
    document["operations"] = operations
    document["components"] = {"schemas": schemas_used, "messages": messages}
    return document


def sent_addresses(document: dict[str, Any]) -> set[str]:
    """The addresses of the channels the document's ``send`` operations (not the
    dead-letter ones) send to."""
    channels = document.get("channels") or {}
    found = set()
    for operation in (document.get("operations") or {}).values():
        if not isinstance(operation, dict) or operation.get("action") != "send":
            continue
        if GROUP_EXTENSION in operation:  # a consumer group dead-lettering
            continue
        channel_id = str((operation.get("channel") or {}).get("$ref", "")).rsplit("/", 1)[-1]
        channel = channels.get(channel_id)
        if isinstance(channel, dict):
            found.add(str(channel.get("address", channel_id)))
    return found


def _info(config: cfg.Config) -> dict[str, Any]:
    settings = config.asyncapi
    info: dict[str, Any] = {"title": settings.title or config.name, "version": settings.version}
    if settings.description:
        info["description"] = settings.description
    return info


def _server(server: cfg.Server, registry_url: str) -> dict[str, Any]:
    found: dict[str, Any] = {"host": server.host, "protocol": server.protocol}
    if server.description:
        found["description"] = server.description
    server_bindings = bindings.server_bindings(server, registry_url)
    if server_bindings:
        found["bindings"] = server_bindings
    return found


def _schemas(
    config: cfg.Config, source: SchemaSource, destination: str, strategy: SubjectNameStrategy
) -> list[ResolvedSchema]:
    try:
        return source.resolve(destination, strategy)
    except SchemaUnavailable as exc:
        raise UsageError(f"{config.source}: {exc}") from None


def _dead_letter_names(
    servers: dict[str, cfg.Server], destination: str
) -> dict[str, tuple[list[str], set[str]]]:
    """Dead-letter destination name → the servers (and their protocols) that use it.
    Without servers, the in-memory bus's rule names it."""
    if not servers:
        return {catalog.MEMORY.dead_letter_destination(destination): ([], set())}
    found: dict[str, tuple[list[str], set[str]]] = {}
    for name, server in servers.items():
        entry = found.setdefault(server.system.dead_letter_destination(destination), ([], set()))
        entry[0].append(name)
        entry[1].add(server.protocol)
    return found


def _channel(
    address: str, message_ids: Iterable[str], channel_bindings: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "address": address,
        "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in message_ids},
        **extra,
    }
    if channel_bindings:
        channel["bindings"] = channel_bindings
    return channel


def _operation(
    action: str,
    channel: str,
    message_ids: Iterable[str],
    summary: str,
    operation_bindings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    reference = f"#/channels/{_id(channel)}"
    operation: dict[str, Any] = {
        "action": action,
        "channel": {"$ref": reference},
        "summary": summary,
        "messages": [{"$ref": f"{reference}/messages/{m}"} for m in message_ids],
    }
    if operation_bindings:
        operation["bindings"] = operation_bindings
    return operation


def _message(
    schema: ResolvedSchema, headers: str, protocols: set[str], strategy: SubjectNameStrategy
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": schema.subject,
        "contentType": content_type(schema),
        "headers": {"$ref": f"#/components/schemas/{headers}"},
        "payload": {"$ref": f"#/components/schemas/{_id(schema.subject)}"},
        SUBJECT_EXTENSION: schema.subject,
        VERSION_EXTENSION: schema.version,
    }
    message_bindings = bindings.message_bindings(protocols, schema.format, strategy.value)
    if message_bindings:
        message["bindings"] = message_bindings
    return message


def _id(name: str) -> str:
    """A name usable as a component key and in a ``$ref`` (no ``/`` or ``~``)."""
    return _ID.sub("_", name)
