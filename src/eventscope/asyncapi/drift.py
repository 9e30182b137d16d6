"""How a committed AsyncAPI document differs from what the code declares now.

Said in the document's own terms — a server or channel added or removed, a consumer
group that no longer receives a destination, a payload whose schema version changed —
and, when the change is none of those (a description, a binding), as a unified diff of
the YAML.
"""

from __future__ import annotations

import difflib
from typing import Any

from eventscope.asyncapi.document import GROUP_EXTENSION, SUBJECT_EXTENSION, VERSION_EXTENSION
from eventscope.asyncapi.render import to_yaml

MAX_DIFF_LINES = 60


def differences(committed: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """One line per change, empty when the documents are the same."""
    if committed == current:
        return []
    found: list[str] = []
    found += _keyed(committed, current, "servers", "server", _server_text)
    found += _keyed(committed, current, "channels", "channel", _channel_text)
    found += _operations(committed.get("operations") or {}, current.get("operations") or {})
    found += _messages(
        (committed.get("components") or {}).get("messages") or {},
        (current.get("components") or {}).get("messages") or {},
    )
    if not found:  # nothing the lines above name: show the YAML that differs
        found.append("the document differs (--- committed, +++ generated now):")
        found += [f"  {line}" for line in _unified(committed, current)]
    return found


def _keyed(old: dict, new: dict, section: str, noun: str, text: Any) -> list[str]:
    before, after = old.get(section) or {}, new.get(section) or {}
    lines = [f"{noun} {text(name, after[name])} added" for name in after if name not in before]
    lines += [f"{noun} {text(name, before[name])} removed" for name in before if name not in after]
    return lines


def _server_text(name: str, server: Any) -> str:
    if isinstance(server, dict):
        return f"{name!r} ({server.get('protocol')} {server.get('host')})"
    return repr(name)


def _channel_text(name: str, channel: Any) -> str:
    address = channel.get("address") if isinstance(channel, dict) else None
    return repr(address or name)


def _operations(before: dict, after: dict) -> list[str]:
    lines = []
    for name, operation in before.items():
        if name not in after:
            lines.append(f"{_operation_text(operation, name)} is gone (operation {name!r})")
    for name, operation in after.items():
        if name not in before:
            lines.append(f"{_operation_text(operation, name)} is new (operation {name!r})")
    return lines


def _operation_text(operation: Any, name: str) -> str:
    if not isinstance(operation, dict):
        return f"operation {name!r}"
    channel = str((operation.get("channel") or {}).get("$ref", "")).rsplit("/", 1)[-1]
    group = operation.get(GROUP_EXTENSION)
    if operation.get("action") == "receive" and group:
        return f"consumer group {group!r} receiving {channel!r}"
    if group:
        return f"consumer group {group!r} dead-lettering to {channel!r}"
    return f"sending to {channel!r}"


def _messages(before: dict, after: dict) -> list[str]:
    lines = []
    for name, message in after.items():
        old = before.get(name)
        if old is None:
            lines.append(f"message {name!r} added ({_version(message)})")
        elif isinstance(old, dict) and isinstance(message, dict):
            if old.get(VERSION_EXTENSION) != message.get(VERSION_EXTENSION):
                lines.append(
                    f"message {name!r}: payload schema version changed: {_version(old)} → "
                    f"{_version(message)}"
                )
            elif old.get("payload") != message.get("payload"):
                lines.append(
                    f"message {name!r}: payload changed but not its version ({_version(message)})"
                )
    lines += [f"message {name!r} removed" for name in before if name not in after]
    return lines


def _version(message: Any) -> str:
    if not isinstance(message, dict):
        return "?"
    return f"{message.get(SUBJECT_EXTENSION)} v{message.get(VERSION_EXTENSION)}"


def _unified(committed: dict[str, Any], current: dict[str, Any]) -> list[str]:
    lines = list(
        difflib.unified_diff(
            to_yaml(committed).splitlines(),
            to_yaml(current).splitlines(),
            "committed",
            "generated now",
            n=1,
            lineterm="",
        )
    )[2:]
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more lines"]
    return lines
