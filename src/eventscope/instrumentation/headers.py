"""Names of the message headers eventscope reads and writes.

The W3C trace-context and baggage names are fixed by their specifications; the rest
carry the ``eventscope-`` prefix so they can never collide with an application's own.
"""

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
BAGGAGE = "baggage"
EVENT_ID = "eventscope-event-id"
PUBLISHED_AT = "eventscope-published-at"
"""Publish time as decimal Unix seconds with microseconds (``1732363200.123456``)."""
ATTEMPT = "eventscope-attempt"
"""Delivery attempt (1-based), for brokers that retry by republishing."""
DEAD_LETTER_REASON = "eventscope-dead-letter-reason"
ORIGINAL_DESTINATION = "eventscope-original-destination"

MAX_VALUE_LENGTH = 8192
"""Longest header value eventscope accepts; W3C baggage allows 8192 bytes in all."""
