"""Decorators, carriers, outcomes and metrics for the code that sends and handles messages."""

from eventscope.instrumentation.carriers import (
    Carrier,
    KafkaHeadersCarrier,
    MappingCarrier,
    SqsAttributesCarrier,
    carrier_for,
)
from eventscope.instrumentation.consumer_decorator import consumer
from eventscope.instrumentation.context import BatchContext, MessageContext
from eventscope.instrumentation.deduplication import (
    Claim,
    DedupStore,
    PostgresDedupStore,
    RedisDedupStore,
)
from eventscope.instrumentation.lag_watch import LagWatch, watch_lag
from eventscope.instrumentation.messages import MessageAdapter, register_message_type
from eventscope.instrumentation.outcomes import DeadLetter, Retry
from eventscope.instrumentation.producer_decorator import producer
from eventscope.instrumentation.propagation import extract, inject
from eventscope.instrumentation.setup import (
    Configuration,
    configure,
    metrics_asgi_app,
    metrics_wsgi_app,
)
from eventscope.lag.readings import (
    ConsumerReading,
    DepthReading,
    LagReading,
    LagSource,
)

__all__ = [
    "BatchContext",
    "Carrier",
    "Claim",
    "Configuration",
    "ConsumerReading",
    "DeadLetter",
    "DedupStore",
    "DepthReading",
    "KafkaHeadersCarrier",
    "LagReading",
    "LagSource",
    "LagWatch",
    "MappingCarrier",
    "MessageAdapter",
    "MessageContext",
    "PostgresDedupStore",
    "RedisDedupStore",
    "Retry",
    "SqsAttributesCarrier",
    "carrier_for",
    "configure",
    "consumer",
    "extract",
    "inject",
    "metrics_asgi_app",
    "metrics_wsgi_app",
    "producer",
    "register_message_type",
    "watch_lag",
]
