"""AsyncAPI bindings for the brokers eventscope instruments, where the bindings define any.

Versions are the newest AsyncAPI 3.0 accepts (kafka 0.5.0, amqp 0.3.0, nats 0.1.0,
sqs 0.2.0: sqs 0.3.0 is for AsyncAPI 3.1).  Redis has no binding fields yet
(its binding is "reserved for future use"), so Redis channels carry none.

What each binding says is how eventscope's integrations use that broker:

- Kafka: one topic per destination; a consumer group is the ``groupId``; Avro and
  Protobuf payloads carry the Confluent schema id in front of the payload.
- AMQP (RabbitMQ): a destination is a fanout exchange, each consumer group a durable
  queue bound to it; a message is acknowledged once handled.
- NATS: a consumer group is a queue group.
- SQS: a destination is a queue, redriven to its dead-letter queue after
  ``max_attempts`` receives.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventscope import config as cfg

KAFKA = "0.5.0"
AMQP = "0.3.0"
NATS = "0.1.0"
SQS = "0.2.0"


def server_bindings(server: cfg.Server, registry_url: str) -> dict[str, Any]:
    if server.protocol == "kafka" and registry_url:
        return {
            "kafka": {
                "schemaRegistryUrl": registry_url,
                "schemaRegistryVendor": "confluent",
                "bindingVersion": KAFKA,
            }
        }
    return {}


def channel_bindings(
    protocols: Iterable[str],
    destination: str,
    *,
    dead_letter: str | None = None,
    max_attempts: int | None = None,
) -> dict[str, Any]:
    """``dead_letter``: the SQS queue this one redrives to (``None`` for a dead-letter
    queue itself)."""
    found: dict[str, Any] = {}
    for protocol in sorted(set(protocols)):
        if protocol == "kafka":
            found["kafka"] = {"topic": destination, "bindingVersion": KAFKA}
        elif protocol == "amqp":
            found["amqp"] = {
                "is": "routingKey",
                "exchange": {"name": destination, "type": "fanout", "durable": True,
                             "autoDelete": False},
                "bindingVersion": AMQP,
            }  # fmt: skip
        elif protocol == "sqs":
            queue: dict[str, Any] = {
                "name": destination,
                "fifoQueue": destination.endswith(".fifo"),
            }
            if dead_letter is not None:
                queue["redrivePolicy"] = {"deadLetterQueue": {"name": dead_letter}}
                if max_attempts is not None:
                    queue["redrivePolicy"]["maxReceiveCount"] = max_attempts
            found["sqs"] = {"queue": queue, "bindingVersion": SQS}
    return found


def receive_bindings(protocols: Iterable[str], destination: str, group: str) -> dict[str, Any]:
    """How consumer group ``group`` is spelt to each broker."""
    found: dict[str, Any] = {}
    for protocol in sorted(set(protocols)):
        if protocol == "kafka":
            found["kafka"] = {
                "groupId": {"type": "string", "enum": [group]},
                "bindingVersion": KAFKA,
            }
        elif protocol == "amqp":
            found["amqp"] = {"ack": True, "bindingVersion": AMQP}
        elif protocol == "nats":
            found["nats"] = {"queue": group, "bindingVersion": NATS}
        elif protocol == "sqs":
            found["sqs"] = {
                "queues": [{"name": destination, "fifoQueue": destination.endswith(".fifo")}],
                "bindingVersion": SQS,
            }
    return found


def message_bindings(protocols: Iterable[str], fmt: str, strategy: str) -> dict[str, Any]:
    """Kafka: where a serialised Avro or Protobuf payload says its schema id."""
    if "kafka" not in set(protocols) or fmt not in ("avro", "protobuf"):
        return {}
    return {
        "kafka": {
            "schemaIdLocation": "payload",
            "schemaIdPayloadEncoding": "confluent",
            "schemaLookupStrategy": strategy,
            "bindingVersion": KAFKA,
        }
    }
