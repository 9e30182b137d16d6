"""Which collector reads which broker, built from plain options.

Options come from ``lag.yaml`` or from ``eventscope lag`` flags; each broker's module
has ``from_options(options) -> LagCollector`` and raises ``UsageError`` naming the
option it cannot use.  Modules are imported only when their broker is asked for, so
a Redis user never needs the Kafka client.
"""

from __future__ import annotations

import importlib
from typing import Any

from eventscope.catalog import KAFKA, NATS, RABBITMQ, REDIS
from eventscope.errors import UsageError
from eventscope.lag.collector import LagCollector

COLLECTORS = {
    system.name: f"eventscope.lag.{system.name}" for system in (KAFKA, RABBITMQ, NATS, REDIS)
}
"""Broker name (the system's ``messaging.system`` value) → its collector's module."""


def build_collector(broker: str, options: dict[str, Any]) -> LagCollector:
    module_name = COLLECTORS.get(broker)
    if module_name is None:
        raise UsageError(f"unknown broker {broker!r}; choose from {', '.join(COLLECTORS)}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(
            f"the {broker} lag collector needs its client: pip install 'eventscope[{broker}]'"
            f" ({exc})"
        ) from exc
    return module.from_options(options)
