"""A trace as an indented tree, for the terminal."""

from __future__ import annotations

from collections import defaultdict

from opentelemetry.sdk.trace import ReadableSpan

from eventscope.catalog import Attr


def _label(span: ReadableSpan, origin: int) -> str:
    attrs = span.attributes or {}
    parts = [span.name]
    group = attrs.get(Attr.CONSUMER_GROUP)
    if group:
        parts.append(f"group={group}")
    if Attr.ATTEMPT in attrs:
        parts.append(f"attempt={attrs[Attr.ATTEMPT]}")
    outcome = attrs.get(Attr.OUTCOME)
    if outcome:
        error = attrs.get(Attr.ERROR_TYPE)
        parts.append(f"{outcome}" + (f" ({error})" if error and error != outcome else ""))
    start = ((span.start_time or 0) - origin) / 1e6
    took = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    parts.append(f"+{start:.2f} ms, {took:.2f} ms")
    return "  ".join(parts)


def render_trace(spans: list[ReadableSpan]) -> list[str]:
    """Lines of a tree: each span under its parent, siblings by start time."""
    if not spans:
        return []
    spans = sorted(spans, key=lambda s: s.start_time or 0)
    origin = spans[0].start_time or 0
    ids = {s.context.span_id for s in spans}
    children: dict[int | None, list[ReadableSpan]] = defaultdict(list)
    for span in spans:
        parent = span.parent.span_id if span.parent is not None else None
        children[parent if parent in ids else None].append(span)
    lines = [f"trace {spans[0].context.trace_id:032x}"]

    def walk(span: ReadableSpan, prefix: str, last: bool) -> None:
        lines.append(f"{prefix}{'└─ ' if last else '├─ '}{_label(span, origin)}")
        kids = children.get(span.context.span_id, [])
        for i, kid in enumerate(kids):
            walk(kid, prefix + ("   " if last else "│  "), i == len(kids) - 1)

    roots = children.get(None, [])
    for i, root in enumerate(roots):
        walk(root, "", i == len(roots) - 1)
    return lines
