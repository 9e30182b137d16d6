"""Message adapters hand the consumer decorator their carrier; nothing is sniffed."""

from __future__ import annotations

from typing import Any

import pytest

from eventscope import consumer
from eventscope.catalog import Outcome
from eventscope.instrumentation import KafkaHeadersCarrier, register_message_type
from eventscope.instrumentation import consumer_decorator as consumer_module
from eventscope.instrumentation import headers as h

TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class _Record:
    def __init__(self, headers: Any) -> None:
        self.headers = headers


class _LegacyRecord(_Record):
    pass


class _LegacyAdapter:
    """An adapter written before adapters named their carrier."""

    system = "kafka"

    def headers(self, record: _Record) -> Any:
        return record.headers

    def destination(self, record: _Record) -> str:
        return "orders"

    def attempt(self, record: _Record) -> int | None:
        return None

    def attributes(self, record: _Record) -> None:
        return None

    def settle(self, record: _Record, outcome: Outcome, reason: str | None) -> bool:
        return False


class _Adapter(_LegacyAdapter):
    """An adapter in today's shape: it names its carrier."""

    carrier = KafkaHeadersCarrier


register_message_type(_Record, _Adapter())
register_message_type(_LegacyRecord, _LegacyAdapter())


def _seen_event_id(record: _Record) -> str | None:
    seen: list[str | None] = []

    @consumer(group="billing")
    def handle(message: Any, ctx: Any) -> None:
        seen.append(ctx.event_id)

    handle(record)
    return seen[0]


def test_adapter_carrier_is_used_without_sniffing(
    recorded: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_sniffing(headers: Any) -> Any:
        raise AssertionError("carrier_for called for a message with an adapter")

    monkeypatch.setattr(consumer_module, "carrier_for", no_sniffing)
    record = _Record([(h.TRACEPARENT, TP.encode()), (h.EVENT_ID, b"e-1")])
    assert _seen_event_id(record) == "e-1"
    assert _seen_event_id(_Record(None)) is None


def test_adapter_without_carrier_still_sniffs(recorded: Any) -> None:
    record = _LegacyRecord([(h.EVENT_ID, b"e-2")])
    assert _seen_event_id(record) == "e-2"
