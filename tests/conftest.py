"""Fixtures shared by every test: a fresh telemetry setup that records in memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from eventscope.instrumentation import Configuration, configure, telemetry


@dataclass
class Recorded:
    """What one test's instrumented code exported."""

    exporter: InMemorySpanExporter
    registry: CollectorRegistry
    configuration: Configuration
    provider: TracerProvider

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        spans = list(self.exporter.get_finished_spans())
        return [s for s in spans if name is None or s.name == name]

    def value(self, sample_name: str, **labels: str) -> float:
        """Sum of the samples called ``sample_name`` whose labels include ``labels``."""
        total = 0.0
        for family in self.registry.collect():
            for sample in family.samples:
                if sample.name == sample_name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    total += sample.value
        return total


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    registry = CollectorRegistry()
    configuration = configure(
        "test", registry=registry, tracer_provider=provider, set_global=False, otlp=False
    )
    yield Recorded(exporter, registry, configuration, provider)
    configuration.shutdown()
    telemetry.reset()
