"""The shapes of the headers ``@producer`` writes, as Pact matchers.

A contract must not pin a value that changes on every message (a trace id, an event
id, a publish time): the provider would fail verification every time.  It pins the
*shape* instead, with a regular expression, so the contract still says "the consumer
needs a W3C ``traceparent``, an event id and a publish time on every message" and a
producer that stops sending one of them, or renames it, fails verification.

The example values are what a consumer test's handler receives, so they are valid:
the ``traceparent`` is the example of the W3C Trace Context specification, the event
id is a UUID derived from the interaction (stable across runs, so pact files do not
churn, and distinct per interaction, so a deduplicating consumer does not skip the
second interaction it is given).
"""

from __future__ import annotations

import uuid
from typing import Any

from eventscope.instrumentation import headers as h

TRACEPARENT_PATTERN = r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
"""W3C ``traceparent``, version 00 (what ``@producer`` writes)."""
EVENT_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
"""A lower-case UUID, the form ``@producer`` gives new event ids."""
PUBLISHED_AT_PATTERN = r"^[0-9]+\.[0-9]{6}$"
"""Decimal Unix seconds with microseconds (``1732363200.123456``)."""

EXAMPLE_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
"""From the W3C Trace Context specification's examples (section "traceparent Header")."""
EXAMPLE_PUBLISHED_AT = "1732363200.123456"

_EVENT_ID_NAMESPACE = uuid.UUID("6f0d0d1e-6c8a-4a53-9d33-5b8f3c1f7e21")


def eventscope_headers(interaction: str) -> dict[str, Any]:
    """Matchers for ``traceparent``, ``eventscope-event-id`` and ``eventscope-published-at``.

    ``interaction`` (for instance ``"billing: an order placed event"``) seeds the
    example event id.
    """
    from pact import match

    event_id = str(uuid.uuid5(_EVENT_ID_NAMESPACE, interaction))
    return {
        h.TRACEPARENT: match.regex(EXAMPLE_TRACEPARENT, regex=TRACEPARENT_PATTERN),
        h.EVENT_ID: match.regex(event_id, regex=EVENT_ID_PATTERN),
        h.PUBLISHED_AT: match.regex(EXAMPLE_PUBLISHED_AT, regex=PUBLISHED_AT_PATTERN),
    }
