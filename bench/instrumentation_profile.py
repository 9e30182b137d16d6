"""Where one message's time goes, by owner: the OpenTelemetry SDK, the OpenTelemetry
API, prometheus-client, eventscope, the broker client, and the rest.

cProfile runs one variant of ``bench/instrumentation.py`` many times; each function's
own time is charged to the package its file belongs to, and a built-in's (``dict.get``,
``time.time``) to the callers that called it, in proportion to their calls.  cProfile
makes every Python call dearer, so the shares matter more than the microseconds; the
timed figures are ``bench/instrumentation.py``'s.

Run: ``python bench/instrumentation_profile.py [--variant NAME] [--iterations N] [--top N]``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from collections import defaultdict
from collections.abc import Callable

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from prometheus_client import CollectorRegistry

import instrumentation as bench
import instrumentation_variants as v
from eventscope import consumer
from eventscope.instrumentation import telemetry

OWNERS = (
    ("opentelemetry/sdk/", "OpenTelemetry SDK"),
    ("opentelemetry/", "OpenTelemetry API"),
    ("prometheus_client/", "prometheus-client"),
    ("eventscope/", "eventscope"),
    ("confluent_kafka/", "broker client"),
    ("pika/", "broker client"),
    ("/bench/", "benchmark harness"),
)


def _owner(filename: str) -> str | None:
    """The owner of a file, ``None`` for a built-in (charged to its callers)."""
    if filename == "~" or filename.startswith("<"):
        return None
    for marker, owner in OWNERS:
        if marker in filename:
            return owner
    return "Python standard library"


SDK, API = "OpenTelemetry SDK", "OpenTelemetry API"


def shares(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of own time per owner.

    A built-in is charged to its callers; so is an OpenTelemetry API function (its
    attribute checks, its context helpers), to the SDK when the SDK called it, for
    that is the SDK's work wherever its helpers live.
    """
    table = stats.stats  # type: ignore[attr-defined]
    totals: dict[str, float] = defaultdict(float)

    def charge(func: tuple, seconds: float, depth: int = 0, in_api: bool = False) -> None:
        owner = _owner(func[0])
        if owner == SDK or (owner is not None and owner != API):
            totals[API if in_api and owner != SDK else owner] += seconds
            return
        in_api = in_api or owner == API
        callers = table[func][4]
        if not callers or depth > 12:
            totals[API if in_api else "Python standard library"] += seconds
            return
        calls = sum(numbers[0] for numbers in callers.values()) or 1
        for caller, numbers in callers.items():
            charge(caller, seconds * numbers[0] / calls, depth + 1, in_api)

    for func, (_cc, _nc, own, _cum, _callers) in table.items():
        charge(func, own)
    return dict(totals)


def variants(provider: TracerProvider) -> dict[str, Callable[[], Callable[[], object]]]:
    """Every variant behind a row of ``bench/instrumentation.py``, by name: each builder
    configures eventscope as its row needs and returns the one-message callable."""

    def headers() -> dict:
        return bench._message(provider)["headers"]

    def decorated(tracing: bool, sampled: bool = False) -> Callable[[], object]:
        ratio = TracerProvider(sampler=TraceIdRatioBased(0.01)) if sampled else provider
        message = (
            {"value": b"{}", "headers": {"eventscope-event-id": "e1"}}
            if sampled
            else bench._message(provider)
        )
        handle = consumer("orders", group="billing", system="kafka")(bench._handler)
        bench._configure(ratio, tracing=tracing)
        return lambda: handle(message)

    def configured(build: Callable[[], Callable[[], object]], tracing: bool = True):
        def built() -> Callable[[], object]:
            fn = build()
            bench._configure(provider, tracing=tracing)
            return fn

        return built

    def raw_consumer() -> Callable[[], object]:
        around = v.raw_consumer_prometheus(CollectorRegistry())
        return lambda: around(lambda: bench._handler(None))

    def handwritten(sampled: bool = False) -> Callable[[], object]:
        if sampled:
            ratio = TracerProvider(sampler=TraceIdRatioBased(0.01))
            message = {"value": b"{}", "headers": {"eventscope-event-id": "e1"}}
            return v.handwritten(ratio, message, v.raw_consumer_prometheus(CollectorRegistry()))
        message = bench._message(provider)
        return v.handwritten(provider, message, v.raw_consumer_prometheus(CollectorRegistry()))

    def pipeline(instrumented: bool) -> Callable[[], object]:
        bench._configure(provider, tracing=False)
        return v.pipeline_round(instrumented)

    return {
        "traced": lambda: decorated(tracing=True),
        "handwritten_prometheus": handwritten,
        "pika": configured(lambda: v.pika_eventscope(headers())),
        "pika_contrib": lambda: v.pika_contrib(provider, headers()),
        "kafka": configured(lambda: v.kafka_eventscope(headers())),
        "kafka_contrib": lambda: v.kafka_contrib(provider, headers()),
        "consumer_metrics_only": lambda: decorated(tracing=False),
        "raw_consumer": raw_consumer,
        "bare_handler": lambda: lambda: bench._handler(None),
        "producer_metrics_only": configured(v.producer_eventscope, tracing=False),
        "raw_producer": lambda: v.raw_producer_prometheus(CollectorRegistry()),
        "bare_send": lambda: lambda: v.send(b"{}", {}),
        "pipeline_instrumented": lambda: pipeline(True),
        "pipeline_bare": lambda: pipeline(False),
        "sampled_traced": lambda: decorated(tracing=True, sampled=True),
        "sampled_handwritten_prometheus": lambda: handwritten(sampled=True),
        # not rows of the table: where the traced consumer's time goes, by subtraction
        "sdk_span_floor": lambda: bench._span_floor(provider, bench._message(provider)),
        "handwritten": lambda: v.handwritten(provider, bench._message(provider)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    provider = TracerProvider()
    provider.add_span_processor(bench._Count())
    table = variants(provider)
    parser.add_argument("--variant", choices=sorted(table), default="traced")
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--top", type=int, default=0, help="also list the N dearest functions")
    args = parser.parse_args()
    one = table[args.variant]()
    for _ in range(1000):
        one()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.iterations):
        one()
    profile.disable()
    telemetry.reset()
    stats = pstats.Stats(profile)
    totals = shares(stats)
    harness = totals.pop("benchmark harness", 0.0)
    whole = sum(totals.values())
    print(f"{args.variant}: {whole / args.iterations * 1e6:.2f} µs per message under cProfile")
    print(f"  (benchmark harness {harness / args.iterations * 1e6:.2f} µs left out)")
    for owner, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        per = seconds / args.iterations * 1e6
        print(f"  {owner:<28}{per:>8.2f} µs {seconds / whole:>6.1%}")
    if args.top:
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
