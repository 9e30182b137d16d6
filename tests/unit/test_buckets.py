"""Histogram buckets a service chooses: a 2 s objective needs a 2 s boundary."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from eventscope import InMemoryBus, catalog, consumer
from eventscope.errors import UsageError
from eventscope.instrumentation import configure, telemetry

E2E = "eventscope_end_to_end_duration_seconds"


@pytest.fixture
def clean():
    yield
    telemetry.reset()


def _bounds(registry: CollectorRegistry, histogram: str) -> set[str]:
    return {
        sample.labels["le"]
        for family in registry.collect()
        for sample in family.samples
        if sample.name == histogram + "_bucket"
    }


def test_chosen_end_to_end_buckets_are_exported_and_the_rest_keep_the_catalogs(clean) -> None:
    registry = CollectorRegistry()
    configure("payments", registry=registry, otlp=False, buckets={E2E: [0.5, 1, 2, 5]})
    bus = InMemoryBus()
    bus.subscribe("payments", "ledger", consumer(group="ledger")(lambda message: None))
    bus.publish("payments", {"n": 1}, headers={"eventscope-published-at": "1"})
    bus.dispatch()
    assert _bounds(registry, E2E) == {"0.5", "1.0", "2.0", "5.0", "+Inf"}
    process = _bounds(registry, catalog.PROCESS_DURATION.prometheus_name)
    assert process == {repr(b) for b in catalog.PROCESS_BUCKETS} | {"+Inf"}


@pytest.mark.parametrize(
    ("buckets", "problem"),
    [
        ({"eventscope_nope_seconds": [1]}, "is not a histogram"),
        ({E2E: [2, 1]}, "strictly increasing"),
        ({E2E: []}, "positive numbers"),
        ({"eventscope.end_to_end.duration": [0, 1]}, "positive numbers"),
    ],
)
def test_bad_buckets_fail_at_the_call_naming_the_metric(clean, buckets, problem) -> None:
    with pytest.raises(UsageError, match=problem):
        configure("payments", registry=CollectorRegistry(), otlp=False, buckets=buckets)


def test_one_registry_cannot_change_buckets(clean) -> None:
    registry = CollectorRegistry()
    configure("payments", registry=registry, otlp=False, buckets={E2E: [1, 2]})
    with pytest.raises(UsageError, match="other buckets"):
        configure("payments", registry=registry, otlp=False, buckets={E2E: [1, 3]})
