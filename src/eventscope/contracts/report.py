"""Failure messages that read like test failures: which interaction, which field,
expected and actual, and what was really sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eventscope.contracts.pact_files import MessageInteraction
from eventscope.contracts.schema_check import SchemaVerdict
from eventscope.contracts.schema_source import shown_path
from eventscope.contracts.sent_check import SentVerdict
from eventscope.contracts.verification import InteractionOutcome, Mismatch
from eventscope.schemas import SubjectReport


def describe_outcome(outcome: InteractionOutcome, provider: str, source: Path | str) -> str:
    """Why ``provider`` failed one consumer's interaction."""
    head = f"{outcome.consumer} expects {outcome.label()} from {provider}\npact: {source}"
    if outcome.problem is not None:
        return f"{head}\nthe provider's code failed:\n{_indent(outcome.problem)}"
    lines = [head, f"the message {provider} sent does not match:"]
    for mismatch in outcome.mismatches:
        lines.append(f"  {mismatch.describe()}")
        lines.extend(f"      {line}" for line in _expected_actual(mismatch))
    if outcome.sent is not None:
        sent = outcome.sent
        lines.append(f"sent to {sent.destination!r}:")
        lines.append(f"  body:    {_compact(sent.body)}")
        lines.append(f"  headers: {_compact(dict(sent.headers))}")
    return "\n".join(lines)


def describe_sent_verdict(
    outcome: InteractionOutcome, provider: str, source: Path | str, verdict: SentVerdict
) -> str:
    """Why the message ``provider`` sent for an interaction breaks its destination's
    schema (whatever the consumer asked for)."""
    head = (
        f"{provider} sent {outcome.label()} (for {outcome.consumer}) to "
        f"{verdict.destination!r}\npact: {source}"
    )
    if verdict.unavailable is not None:
        return f"{head}\nits schema cannot be checked: {verdict.unavailable}"
    lines = [head]
    for schema, problems in verdict.results:
        lines.append(f"the message breaks the schema {schema.label}:")
        lines.extend(f"  {problem}" for problem in problems)
    if outcome.sent is not None:
        lines.append(f"  body:    {_compact(outcome.sent.body)}")
    return "\n".join(lines)


def describe_schema_verdict(
    interaction: MessageInteraction, verdict: SchemaVerdict, source: Path | str
) -> str:
    """Why a contract's example body breaks its destination's schema."""
    return (
        f"{interaction.consumer} expects {interaction.label()} from {interaction.provider}\n"
        f"pact: {source}\n"
        f"its example body breaks the schema {schema_version(verdict)}:\n"
        + "\n".join(f"  {problem}" for problem in verdict.problems)
    )


def describe_subject_report(report: SubjectReport) -> str:
    subject = report.subject
    latest = subject.latest
    if report.errors:
        return f"schema subject {subject.name!r} cannot be checked:\n" + "\n".join(
            f"  {error}" for error in report.errors
        )
    candidate = f"v{latest.number} ({shown_path(latest.path)})" if latest else "its newest version"
    lines = [f"schema subject {subject.name!r}: {candidate} breaks {subject.mode}:"]
    for item in report.incompatibilities:
        file = report.file_of(item)
        lines.append(
            f"  version {item.version} ({shown_path(file) if file else '?'}), {item.direction}: "
            f"{item.type} at {item.location}: {item.message}"
        )
    return "\n".join(lines)


def schema_version(verdict: SchemaVerdict) -> str:
    """``orders-value v2 (schemas/orders-value/v2.json)`` or, from a registry,
    ``orders-value v2 (schema id 7 in http://registry:8081)``."""
    if verdict.label is not None:
        return verdict.label
    if verdict.registered is not None:
        found = verdict.registered
        return f"{found.subject} v{found.version} (schema id {found.id} in {verdict.registry})"
    latest = verdict.subject.latest if verdict.subject else None
    if verdict.subject is None or latest is None:
        return "(no schema)"
    return f"{verdict.subject.name} v{latest.number} ({shown_path(latest.path)})"


def _expected_actual(mismatch: Mismatch) -> list[str]:
    """Expected and actual, when they say more than the mismatch text."""
    if mismatch.where in ("", "$") or not mismatch.expected or not mismatch.actual:
        return []
    return [f"contract example: {mismatch.expected}", f"actual:           {mismatch.actual}"]


def _compact(value: Any) -> str:
    if isinstance(value, bytes):
        return repr(value)
    try:
        return json.dumps(value, sort_keys=True)
    except TypeError:
        return repr(value)


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
