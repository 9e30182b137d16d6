"""The metric catalog: every metric eventscope exports, declared once.

The instrumentation records through these declarations, and the dashboard and alert
generators write their PromQL from them, so a renamed metric cannot leave a panel or
an alert silently empty.

Names follow the OpenTelemetry messaging semantic conventions where they define one
(the version is :data:`SEMCONV_VERSION`; ``tests/unit/test_semconv.py`` checks every
name, unit, kind and attribute against ``opentelemetry-semantic-conventions``, and
``docs/semconv.md`` gives the table); what they do not cover carries the
``eventscope.`` prefix.  Prometheus names are
derived with the usual OTLP → Prometheus translation (dots to underscores, the unit
as a suffix, ``_total`` on counters; annotation units such as ``{message}`` add
nothing).  Label sets are bounded: never a message id, key or payload value.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.StrEnum):
    COUNTER = "counter"
    HISTOGRAM = "histogram"
    GAUGE = "gauge"
    UP_DOWN_COUNTER = "updowncounter"


SEMCONV_VERSION = "1.44.0"
"""The messaging semantic conventions every span, metric and attribute follows."""
SEMCONV_SCHEMA_URL = f"https://opentelemetry.io/schemas/{SEMCONV_VERSION}"


class Attr:
    """Span and metric attribute names (OpenTelemetry spelling)."""

    SYSTEM = "messaging.system"
    DESTINATION = "messaging.destination.name"
    CONSUMER_GROUP = "messaging.consumer.group.name"
    OPERATION_NAME = "messaging.operation.name"
    OPERATION_TYPE = "messaging.operation.type"
    MESSAGE_ID = "messaging.message.id"
    CONVERSATION_ID = "messaging.message.conversation_id"
    BODY_SIZE = "messaging.message.body.size"
    BATCH_COUNT = "messaging.batch.message_count"
    PARTITION = "messaging.destination.partition.id"
    SUBSCRIPTION = "messaging.destination.subscription.name"
    CLIENT_ID = "messaging.client.id"
    SERVER_ADDRESS = "server.address"
    SERVER_PORT = "server.port"
    ERROR_TYPE = "error.type"
    EVENT_ID = "eventscope.event.id"
    """eventscope's own event id, when the broker's message id is what
    ``messaging.message.id`` reports."""
    OUTCOME = "eventscope.outcome"
    ATTEMPT = "eventscope.attempt"
    DEAD_LETTER_REASON = "eventscope.dead_letter.reason"
    DEAD_LETTER_DESTINATION = "eventscope.dead_letter.destination"
    LAG_TARGET = "eventscope.lag.target"
    HEADER = "eventscope.header.name"
    HEADER_PROBLEM = "eventscope.header.problem"
    OUTBOX = "eventscope.outbox.table"


class Outcome(enum.StrEnum):
    """How the handling of one message ended."""

    OK = "ok"
    ERROR = "error"
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"
    DUPLICATE = "duplicate"


class HeaderProblem(enum.StrEnum):
    """Why a consumer did not believe a header eventscope reads (a bounded label)."""

    MALFORMED = "malformed"
    """Not in the header's format (``eventscope-attempt: ²``, a publish time of ``soon``)."""
    TOO_OLD = "too_old"
    """A publish time further in the past than the consumer's maximum message age."""
    IN_FUTURE = "in_future"
    """A publish time further in the future than the clock-skew tolerance."""


@dataclass(frozen=True)
class System:
    """One messaging system: its ``messaging.system`` value and dead-letter naming.

    Every broker integration, lag collector and demo transport names its system and
    its dead-letter destinations through these declarations; the system name is the
    ``messaging_system`` label every dashboard panel filters on, so it must be spelt
    in exactly one place.
    """

    name: str
    """The OpenTelemetry ``messaging.system`` value."""
    dead_letter_suffix: str = ".dlq"
    """Appended to a destination's name to name its dead-letter destination."""
    kept_suffix: str = ""
    """A suffix the dead-letter destination must keep at the end (SQS ``.fifo``)."""
    spans_name_group: bool = True
    """Whether its spans carry ``messaging.consumer.group.name``: semconv 1.44 gives
    RabbitMQ spans none (their destination names the queue instead)."""

    def dead_letter_destination(self, destination: str) -> str:
        """``orders`` → ``orders.dlq`` (``orders-dlq``, ``orders-dlq.fifo`` on SQS)."""
        if self.kept_suffix and destination.endswith(self.kept_suffix):
            stem = destination.removesuffix(self.kept_suffix)
            return stem + self.dead_letter_suffix + self.kept_suffix
        return destination + self.dead_letter_suffix

    def is_dead_letter(self, destination: str) -> bool:
        """Whether ``destination`` is named like a dead-letter destination."""
        if self.kept_suffix:
            destination = destination.removesuffix(self.kept_suffix)
        return destination.endswith(self.dead_letter_suffix)


KAFKA = System("kafka")
RABBITMQ = System("rabbitmq", spans_name_group=False)
NATS = System("nats")
REDIS = System("redis")
AWS_SQS = System("aws_sqs", dead_letter_suffix="-dlq", kept_suffix=".fifo")
MEMORY = System("memory")
"""The in-process :class:`~eventscope.memory_bus.InMemoryBus`."""

SYSTEMS: tuple[System, ...] = (KAFKA, RABBITMQ, NATS, REDIS, AWS_SQS, MEMORY)


def prometheus_label(attribute: str) -> str:
    return attribute.replace(".", "_")


_UNIT_SUFFIX = {"s": "seconds", "By": "bytes", "1": "ratio"}


@dataclass(frozen=True)
class Metric:
    """One exported metric and everything a dashboard needs to query it."""

    name: str
    kind: Kind
    unit: str
    labels: tuple[str, ...]
    help: str
    buckets: tuple[float, ...] | None = None
    source: str = "instrumentation"
    """Who exports it: ``instrumentation`` (the decorators), ``lag`` (a lag collector,
    in-process or standalone), ``lag-exporter`` (the standalone exporter itself) or
    ``outbox`` (an outbox relay, or any process that watches an outbox table)."""
    otel_only: tuple[str, ...] = ()
    """Attributes the OpenTelemetry metric carries beyond :attr:`labels`, which the
    Prometheus exposition leaves out to keep its label sets bounded and stable
    (``server.address`` differs per broker node, a partition per Kafka partition)."""

    @property
    def otel_attributes(self) -> tuple[str, ...]:
        """Every attribute the OpenTelemetry (OTLP) metric may carry."""
        return self.labels + self.otel_only

    @property
    def prometheus_name(self) -> str:
        """The Prometheus family name (without ``_bucket``/``_sum``/``_count``)."""
        base = self.name.replace(".", "_")
        suffix = _UNIT_SUFFIX.get(self.unit)
        if suffix and not base.endswith("_" + suffix):
            base = f"{base}_{suffix}"
        return f"{base}_total" if self.kind is Kind.COUNTER else base

    @property
    def prometheus_labels(self) -> tuple[str, ...]:
        return tuple(prometheus_label(label) for label in self.labels)

    def series(self, suffix: str = "") -> str:
        """A sample name for PromQL: ``series("_bucket")`` for a histogram's buckets."""
        return self.prometheus_name + suffix


# Advisory buckets from the messaging conventions, extended downwards because
# in-process handlers routinely finish in well under 5 ms.
PROCESS_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)
# End-to-end latency includes broker time and retries, so it reaches minutes.
END_TO_END_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
)

_PRODUCER = (Attr.SYSTEM, Attr.DESTINATION, Attr.OPERATION_NAME, Attr.ERROR_TYPE)
_CONSUMER = (Attr.SYSTEM, Attr.DESTINATION, Attr.CONSUMER_GROUP, Attr.OPERATION_NAME)
SOURCE_ATTRIBUTES = (Attr.SERVER_ADDRESS, Attr.SERVER_PORT, Attr.PARTITION)
"""Where a message went or came from: on the OpenTelemetry metrics the conventions
define them on, never Prometheus labels."""

CLIENT_OPERATION_DURATION = Metric(
    "messaging.client.operation.duration",
    Kind.HISTOGRAM,
    "s",
    _PRODUCER,
    "Duration of a messaging operation initiated by a producer or consumer client.",
    PROCESS_BUCKETS,
    otel_only=(*SOURCE_ATTRIBUTES, Attr.OPERATION_TYPE),
)
SENT_MESSAGES = Metric(
    "messaging.client.sent.messages",
    Kind.COUNTER,
    "{message}",
    _PRODUCER,
    "Number of messages a producer attempted to send to the broker.",
    otel_only=SOURCE_ATTRIBUTES,
)
CONSUMED_MESSAGES = Metric(
    "messaging.client.consumed.messages",
    Kind.COUNTER,
    "{message}",
    (*_CONSUMER, Attr.ERROR_TYPE),
    "Number of messages delivered to the application by a consumer.",
    otel_only=SOURCE_ATTRIBUTES,
)
PROCESS_DURATION = Metric(
    "messaging.process.duration",
    Kind.HISTOGRAM,
    "s",
    (*_CONSUMER, Attr.ERROR_TYPE),
    "Duration of processing operations (the handler call, one message or one batch).",
    PROCESS_BUCKETS,
    otel_only=SOURCE_ATTRIBUTES,
)
PROCESS_OUTCOMES = Metric(
    "eventscope.process.outcomes",
    Kind.COUNTER,
    "{message}",
    (Attr.SYSTEM, Attr.DESTINATION, Attr.CONSUMER_GROUP, Attr.OUTCOME),
    "Messages handled, by outcome: ok, error, retry, dead_letter or duplicate.",
)
END_TO_END_DURATION = Metric(
    "eventscope.end_to_end.duration",
    Kind.HISTOGRAM,
    "s",
    (Attr.SYSTEM, Attr.DESTINATION, Attr.CONSUMER_GROUP),
    "Time from publish to the end of successful processing, retries included.",
    END_TO_END_BUCKETS,
)
IN_FLIGHT = Metric(
    "eventscope.consumer.in_flight",
    Kind.UP_DOWN_COUNTER,
    "{message}",
    (Attr.SYSTEM, Attr.DESTINATION, Attr.CONSUMER_GROUP),
    "Messages a handler is processing right now.",
)
DEAD_LETTER_MESSAGES = Metric(
    "eventscope.dead_letter.messages",
    Kind.COUNTER,
    "{message}",
    (Attr.SYSTEM, Attr.DESTINATION, Attr.CONSUMER_GROUP, Attr.DEAD_LETTER_REASON),
    "Messages routed to a dead-letter destination, by reason.",
)
INVALID_HEADERS = Metric(
    "eventscope.consumer.invalid_headers",
    Kind.COUNTER,
    "{header}",
    (Attr.SYSTEM, Attr.DESTINATION, Attr.CONSUMER_GROUP, Attr.HEADER, Attr.HEADER_PROBLEM),
    "eventscope headers a consumer ignored, by header and problem (malformed, too_old, "
    "in_future); a publish time it ignores is not counted as end-to-end latency.",
)
DEAD_LETTER_DEPTH = Metric(
    "eventscope.dead_letter.depth",
    Kind.GAUGE,
    "{message}",
    (Attr.SYSTEM, Attr.DESTINATION),
    "Messages waiting in a dead-letter destination.",
    source="lag",
)
CONSUMER_LAG = Metric(
    "eventscope.consumer.lag.messages",
    Kind.GAUGE,
    "{message}",
    (Attr.SYSTEM, Attr.DESTINATION, Attr.CONSUMER_GROUP, Attr.PARTITION),
    "Messages published but not yet committed by the consumer group.",
    source="lag",
)
CONSUMER_LAG_DURATION = Metric(
    "eventscope.consumer.lag.duration",
    Kind.GAUGE,
    "s",
    (Attr.SYSTEM, Attr.DESTINATION, Attr.CONSUMER_GROUP, Attr.PARTITION),
    "Age of the oldest message the consumer group has not committed yet.",
    source="lag",
)

_GROUP_PARTITION = (Attr.SYSTEM, Attr.DESTINATION, Attr.CONSUMER_GROUP, Attr.PARTITION)
CONSUMER_PENDING = Metric(
    "eventscope.consumer.pending",
    Kind.GAUGE,
    "{message}",
    _GROUP_PARTITION,
    "Messages delivered to the consumer group but not acknowledged yet "
    "(RabbitMQ unacked, JetStream ack pending, Redis Streams pending entries).",
    source="lag",
)
CONSUMER_POSITION = Metric(
    "eventscope.consumer.position",
    Kind.GAUGE,
    "{message}",
    _GROUP_PARTITION,
    "The group's committed position (Kafka offset, stream sequence, entries read, "
    "acknowledged count); flat while lag is above zero means the consumer is stalled.",
    source="lag",
)
CONSUMER_MEMBERS = Metric(
    "eventscope.consumer.members",
    Kind.GAUGE,
    "{consumer}",
    (Attr.SYSTEM, Attr.DESTINATION, Attr.CONSUMER_GROUP),
    "Consumers attached to the destination for this group.",
    source="lag",
)
CONSUMER_REDELIVERED = Metric(
    "eventscope.consumer.redelivered",
    Kind.GAUGE,
    "{message}",
    (Attr.SYSTEM, Attr.DESTINATION, Attr.CONSUMER_GROUP),
    "Messages the broker currently reports as redelivered to this group.",
    source="lag",
)
LAG_TARGET_UP = Metric(
    "eventscope.lag.target.up",
    Kind.GAUGE,
    "{status}",
    (Attr.LAG_TARGET, Attr.SYSTEM),
    "1 if the last lag collection from this broker succeeded, 0 if it failed "
    "(a failed broker never reports zero lag).",
    source="lag-exporter",
)
LAG_COLLECTION_ERRORS = Metric(
    "eventscope.lag.collection.errors",
    Kind.COUNTER,
    "{error}",
    (Attr.LAG_TARGET, Attr.SYSTEM, Attr.ERROR_TYPE),
    "Failed lag collections, by error type.",
    source="lag-exporter",
)
LAG_COLLECTION_DURATION = Metric(
    "eventscope.lag.collection.duration",
    Kind.GAUGE,
    "s",
    (Attr.LAG_TARGET, Attr.SYSTEM),
    "How long the last lag collection from this broker took.",
    source="lag-exporter",
)

_OUTBOX = (Attr.OUTBOX, Attr.DESTINATION)
OUTBOX_WAITING = Metric(
    "eventscope.outbox.waiting",
    Kind.GAUGE,
    "{row}",
    _OUTBOX,
    "Rows written to the transactional outbox and not yet published to the broker.",
    source="outbox",
)
OUTBOX_OLDEST_AGE = Metric(
    "eventscope.outbox.oldest.age",
    Kind.GAUGE,
    "s",
    _OUTBOX,
    "Age of the oldest outbox row not yet published; it grows without bound while no "
    "relay publishes.",
    source="outbox",
)
OUTBOX_RELAY_DURATION = Metric(
    "eventscope.outbox.relay.duration",
    Kind.HISTOGRAM,
    "s",
    (Attr.OUTBOX, Attr.SYSTEM, Attr.DESTINATION),
    "Time the outbox relay took to publish one row to the broker.",
    PROCESS_BUCKETS,
    source="outbox",
)
OUTBOX_RELAY_FAILURES = Metric(
    "eventscope.outbox.relay.failures",
    Kind.COUNTER,
    "{row}",
    (Attr.OUTBOX, Attr.SYSTEM, Attr.DESTINATION, Attr.ERROR_TYPE),
    "Outbox rows the relay failed to publish (each is retried after a backoff), by error type.",
    source="outbox",
)

METRICS: tuple[Metric, ...] = (
    CLIENT_OPERATION_DURATION,
    SENT_MESSAGES,
    CONSUMED_MESSAGES,
    PROCESS_DURATION,
    PROCESS_OUTCOMES,
    END_TO_END_DURATION,
    IN_FLIGHT,
    DEAD_LETTER_MESSAGES,
    INVALID_HEADERS,
    DEAD_LETTER_DEPTH,
    CONSUMER_LAG,
    CONSUMER_LAG_DURATION,
    CONSUMER_PENDING,
    CONSUMER_POSITION,
    CONSUMER_MEMBERS,
    CONSUMER_REDELIVERED,
    LAG_TARGET_UP,
    LAG_COLLECTION_ERRORS,
    LAG_COLLECTION_DURATION,
    OUTBOX_WAITING,
    OUTBOX_OLDEST_AGE,
    OUTBOX_RELAY_DURATION,
    OUTBOX_RELAY_FAILURES,
)


NOT_REPORTED: dict[tuple[str, Metric], str] = {
    (KAFKA.name, CONSUMER_PENDING): "a Kafka group commits offsets; nothing is delivered "
    "and waiting for an acknowledgement",
    (KAFKA.name, CONSUMER_REDELIVERED): "Kafka does not count redeliveries",
    (REDIS.name, CONSUMER_REDELIVERED): "Redis Streams counts deliveries per pending entry, "
    "not redeliveries per group",
    (MEMORY.name, CONSUMER_PENDING): "the in-memory bus acknowledges on commit",
    (MEMORY.name, CONSUMER_REDELIVERED): "the in-memory bus does not count redeliveries",
}
"""(messaging system, metric) pairs a system cannot produce, and why.  Panels of these
metrics say so, and the fidelity suite expects them empty for that system only."""


def not_reported_by(metric: Metric) -> dict[str, str]:
    """The systems that cannot produce ``metric`` → why."""
    return {system: why for (system, m), why in NOT_REPORTED.items() if m is metric}


def by_name(name: str) -> Metric:
    """Find a metric by its OpenTelemetry or Prometheus name."""
    for metric in METRICS:
        if name in (metric.name, metric.prometheus_name):
            return metric
    raise KeyError(name)
