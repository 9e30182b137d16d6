"""The headers every eventscope message carries, as AsyncAPI headers schemas.

They are written by ``@producer`` on every message (the W3C trace context, the event id,
the publish time) and, on a dead-lettered message, by the consumer that gave up (the
reason and where the message was going); the patterns are the ones the Pact contracts
match them with, so the document and the contracts say the same thing.
"""

from __future__ import annotations

from typing import Any

from eventscope.contracts.headers import (
    EVENT_ID_PATTERN,
    PUBLISHED_AT_PATTERN,
    TRACEPARENT_PATTERN,
)
from eventscope.instrumentation import headers as h

HEADERS = "eventscopeHeaders"
DEAD_LETTER_HEADERS = "eventscopeDeadLetterHeaders"


def header_schemas() -> dict[str, Any]:
    """``components.schemas`` entries: the headers of a message and of a dead letter."""
    text = {"type": "string", "maxLength": h.MAX_VALUE_LENGTH}
    return {
        HEADERS: {
            "type": "object",
            "description": "Written by eventscope's @producer on every message.",
            "properties": {
                h.TRACEPARENT: {
                    "type": "string",
                    "pattern": TRACEPARENT_PATTERN,
                    "description": "W3C Trace Context: the producer's span.",
                },
                h.TRACESTATE: {**text, "description": "W3C Trace Context, when set."},
                h.BAGGAGE: {**text, "description": "W3C Baggage, when set."},
                h.EVENT_ID: {
                    "type": "string",
                    "pattern": EVENT_ID_PATTERN,
                    "description": "Kept when the message is retried or forwarded: "
                    "consumers deduplicate on it.",
                },
                h.PUBLISHED_AT: {
                    "type": "string",
                    "pattern": PUBLISHED_AT_PATTERN,
                    "description": "Unix seconds with microseconds, kept when forwarded "
                    "(end-to-end latency includes retries).",
                },
                h.ATTEMPT: {
                    "type": "string",
                    "pattern": "^[1-9][0-9]*$",
                    "description": "Delivery attempt, on brokers that retry by republishing.",
                },
            },
            "required": [h.TRACEPARENT, h.EVENT_ID, h.PUBLISHED_AT],
        },
        DEAD_LETTER_HEADERS: {
            "description": "A dead-lettered message keeps its headers and says why.",
            "allOf": [
                {"$ref": f"#/components/schemas/{HEADERS}"},
                {
                    "type": "object",
                    "properties": {
                        h.DEAD_LETTER_REASON: {**text, "description": "Why it was given up."},
                        h.ORIGINAL_DESTINATION: {
                            "type": "string",
                            "description": "The destination it was consumed from.",
                        },
                    },
                    "required": [h.DEAD_LETTER_REASON, h.ORIGINAL_DESTINATION],
                },
            ],
        },
    }
