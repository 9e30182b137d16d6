"""Runs the example order system on a transport (the in-memory bus by default) and measures it."""

from __future__ import annotations

import contextlib
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from prometheus_client import CollectorRegistry

from eventscope import catalog
from eventscope.demo import stats
from eventscope.demo.durable import DemoOutbox, dedup_store
from eventscope.demo.faults import Faults, FaultyTransport, SendRefused
from eventscope.demo.tally import TraceTally
from eventscope.demo.transport import create_transport
from eventscope.demo.tree import render_trace
from eventscope.errors import UsageError
from eventscope.example import OrderSystem, make_order
from eventscope.example.system import GROUPS, TOPIC
from eventscope.instrumentation import DedupStore, configure, telemetry
from eventscope.instrumentation.headers import EVENT_ID

SERVICE_NAME = "eventscope-demo"
"""The demo's ``service.name`` on traces, metrics and logs (``OTEL_SERVICE_NAME`` wins)."""


@dataclass
class DemoOptions:
    broker: str = catalog.MEMORY.name
    connection: dict[str, Any] = field(default_factory=dict)
    """Broker connection flags (``bootstrap``, ``url``) for real-broker transports."""
    messages: int | None = 500
    duration: float | None = None
    rate: float = 250.0
    poison_rate: float = 0.02
    duplicate_rate: float = 0.01
    partitions: int = 3
    metrics_port: int | None = 9464
    seed: int = 42
    drain_timeout: float = 60.0
    outbox: str | None = None
    """Write orders through an outbox table in this database (``postgresql://``,
    ``sqlite:///``) and relay them in-process."""
    outbox_table: str | None = None
    """The outbox table's name (the run creates and drops it); a new one by default."""
    dedup_store: str | None = None
    """Share handled event ids among consumer instances in this store (``redis://``,
    ``postgresql://``) instead of each instance's memory."""
    instances: int = 1
    """Consumer instances per group."""
    topic: str = TOPIC
    """The topic's name to ask the broker for (a run may still get another, see
    :meth:`~eventscope.demo.transport.Transport.reserve`)."""
    lag_watch: bool = True
    """Export the broker's lag from this process; off when a standalone
    ``eventscope lag serve`` watches the same broker (two exports would add up)."""
    gateway_failure_rate: float = 0.03
    """Share of billing attempts the simulated payment gateway times out (retried)."""
    faults: Faults = field(default_factory=Faults)
    """Faults injected during the run; ``poison_rate`` follows their window too."""


@dataclass
class DemoResult:
    broker: str
    destination: str
    """The topic's name on the broker for this run (``orders``, or ``orders-<run id>``)."""
    virtual_host: str | None
    """The RabbitMQ virtual host the run created (and removed); None elsewhere."""
    published: int
    refused: int
    """Sends the broker refused (injected producer errors): not published."""
    resent: int
    processed: int
    retried: int
    dead_lettered: int
    duplicates: int
    traced: int
    lag: int
    dlq_depth: int
    p50_ms: float
    p99_ms: float
    e2e_p99_ms: float
    seconds: float
    throughput_per_s: float
    drained: bool
    metrics_port: int | None
    groups: dict[str, dict[str, int]] = field(default_factory=dict)
    sample_trace: list[str] = field(default_factory=list)
    outbox_pending: int | None = None
    """Outbox rows not yet relayed after the drain (``None`` without ``--outbox``)."""

    @property
    def invariants_hold(self) -> bool:
        return (
            self.processed + self.dead_lettered == self.published and self.traced == self.published
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["invariants_hold"] = self.invariants_hold
        return data


MULTI_INSTANCE = (catalog.MEMORY.name, catalog.REDIS.name)
"""Transports whose groups take several members (``--instances``)."""


def _check_options(options: DemoOptions) -> None:
    if options.instances > 1 and options.broker not in MULTI_INSTANCE:
        raise UsageError(
            f"--instances {options.instances}: the {options.broker} demo runs one consumer "
            f"per group; choose --broker {' or '.join(MULTI_INSTANCE)}"
        )
    if options.faults.stop_relay and (options.outbox is None or options.faults.window is None):
        # Without a window the relay would never run and the run could never drain.
        raise UsageError("--stop-relay needs --outbox and --fault-window")


class _Demo:
    def __init__(
        self, options: DemoOptions, live: TextIO | None, stop: threading.Event | None
    ) -> None:
        _check_options(options)
        self.options = options
        self.live = live
        self.stop = stop or threading.Event()
        self.registry = CollectorRegistry()
        self.random = random.Random(options.seed)
        self.started = time.monotonic()
        self.transport = FaultyTransport(
            create_transport(
                options.broker, {**options.connection, "partitions": options.partitions}
            ),
            options.faults,
            self.started,
            self.random.random,
        )
        try:
            self.topic = self.transport.reserve(options.topic)
            self.tally = TraceTally(self.topic)
            self.configuration = configure(
                SERVICE_NAME,
                registry=self.registry,
                metrics_port=options.metrics_port,
                span_processors=[self.tally],
                set_global=False,
            )
        except BaseException:
            self.transport.stop()
            raise
        self.outbox: DemoOutbox | None = None
        self._forget_store: Callable[[], None] | None = None
        try:
            if options.lag_watch:
                self.configuration.watch(self.transport.wrapped)
            deduplicate: int | DedupStore = 100_000
            if options.dedup_store:
                deduplicate, self._forget_store = dedup_store(options.dedup_store)
            self.system = OrderSystem(
                self.transport,
                seed=options.seed,
                topic=self.topic,
                gateway_failure_rate=options.gateway_failure_rate,
                extra_work_ms=self.transport.extra_work_ms,
                deduplicate=deduplicate,
                instances=options.instances,
            )
            if options.outbox:
                self.outbox = DemoOutbox(
                    options.outbox, self.transport, self.registry, options.outbox_table
                )
        except BaseException:
            self.close()
            raise
        self.published = 0
        self.refused = 0
        self.resent = 0

    def close(self) -> None:
        """Stop everything this run started and remove what it created."""
        try:
            if self.outbox is not None:
                self.outbox.close()
        finally:
            self.transport.stop()
            self.configuration.shutdown()
            telemetry.reset()
            if self._forget_store is not None:
                self._forget_store()

    def place_order(self, payload: dict, headers: dict[str, str]) -> None:
        if self.outbox is not None:
            self.outbox.place(self.topic, payload, headers)
        else:
            self.system.place_order(payload, headers)

    def start(self) -> None:
        self.transport.start()
        if self.outbox is not None:
            self.outbox.start()
            if self.options.faults.stop_relay and self.options.faults.window is not None:
                self.outbox.stop_relay_during(self.options.faults.window, self.started)

    def drain(self) -> bool:
        """The outbox first (its rows become messages), then the broker."""
        timeout = self.options.drain_timeout
        if self.outbox is not None and not self.outbox.drain(timeout):
            return False
        return self.transport.drain(timeout)

    def _should_publish(self) -> bool:
        o = self.options
        if self.stop.is_set() or (o.messages is not None and self.published >= o.messages):
            return False
        return o.duration is None or time.monotonic() - self.started < o.duration

    def publish_all(self, tick: Callable[[], None]) -> None:
        interval = 1.0 / self.options.rate if self.options.rate > 0 else 0.0
        next_tick = time.monotonic() + 1.0
        while self._should_publish():
            poisoning = self.options.faults.active(self.started)
            poison = poisoning and self.random.random() < self.options.poison_rate
            payload = make_order(self.published + self.refused, self.random, poison=poison)
            headers: dict[str, str] = {}
            try:
                self.place_order(payload, headers)
            except SendRefused:
                self.refused += 1
            else:
                self.published += 1
                if self.random.random() < self.options.duplicate_rate:
                    # The publisher "timed out" waiting for the broker and sent again:
                    # same event id, so the consumers must recognise a duplicate.
                    with contextlib.suppress(SendRefused):
                        self.place_order(payload, {EVENT_ID: headers[EVENT_ID]})
                        self.resent += 1
            now = time.monotonic()
            if now >= next_tick:
                tick()
                next_tick = now + 1.0
            if interval:
                delay = self.started + (self.published + self.refused) * interval - now
                if delay > 0:
                    time.sleep(delay)

    def lag(self) -> dict[str, int]:
        return {g: self.transport.lag(g, self.topic) for g in GROUPS}

    def line(self) -> str:
        r, topic = self.registry, self.topic
        elapsed = time.monotonic() - self.started
        processed = stats.outcome_count(r, topic, "ok")
        lag = " ".join(f"{g}={n}" for g, n in self.lag().items())
        return (
            f"[{elapsed:5.1f}s] published {self.published} ({self.published / elapsed:.0f}/s)"
            f" | handled ok {processed} | retried {stats.outcome_count(r, topic, 'retry')}"
            f" | dead-lettered {stats.outcome_count(r, topic, 'dead_letter')}"
            f" | duplicates {stats.outcome_count(r, topic, 'duplicate')}"
            f" | p50 {stats.latency_ms(r, catalog.PROCESS_DURATION, 0.5, topic):.2f} ms"
            f" p99 {stats.latency_ms(r, catalog.PROCESS_DURATION, 0.99, topic):.2f} ms"
            f" | e2e p99 {stats.latency_ms(r, catalog.END_TO_END_DURATION, 0.99, topic):.2f} ms"
            f" | lag {lag}"
        )

    def tick(self) -> None:
        if self.live is not None:
            print(self.line(), file=self.live, flush=True)

    def result(self, drained: bool) -> DemoResult:
        """The summary; processed/dead-lettered/traced come from the recorded spans."""
        r = self.registry
        seconds = time.monotonic() - self.started
        processed, dead = self.tally.outcomes(GROUPS)
        groups = {
            g: {
                outcome: int(
                    stats.counter_total(
                        r,
                        catalog.PROCESS_OUTCOMES,
                        **{
                            "messaging_destination_name": self.topic,
                            "messaging_consumer_group_name": g,
                            "eventscope_outcome": outcome,
                        },
                    )
                )
                for outcome in ("ok", "retry", "dead_letter", "duplicate", "error")
            }
            | {"lag": self.transport.lag(g, self.topic)}
            for g in GROUPS
        }
        depth = sum(d.messages for d in self.transport.dead_letter_depths())
        return DemoResult(
            broker=self.options.broker,
            destination=self.topic,
            virtual_host=self.transport.virtual_host,
            published=self.published,
            refused=self.refused,
            resent=self.resent,
            processed=processed,
            retried=stats.outcome_count(r, self.topic, "retry"),
            dead_lettered=dead,
            duplicates=stats.outcome_count(r, self.topic, "duplicate"),
            traced=self.tally.traced(),
            lag=sum(self.lag().values()),
            dlq_depth=depth,
            p50_ms=stats.latency_ms(r, catalog.PROCESS_DURATION, 0.5, self.topic),
            p99_ms=stats.latency_ms(r, catalog.PROCESS_DURATION, 0.99, self.topic),
            e2e_p99_ms=stats.latency_ms(r, catalog.END_TO_END_DURATION, 0.99, self.topic),
            seconds=round(seconds, 3),
            throughput_per_s=round(self.published / seconds, 1) if seconds else 0.0,
            drained=drained,
            metrics_port=self.configuration.metrics_port,
            groups=groups,
            sample_trace=render_trace(self.tally.sample_trace()),
            outbox_pending=None if self.outbox is None else self.outbox.pending(),
        )


def run_demo(
    options: DemoOptions, live: TextIO | None = sys.stderr, stop: threading.Event | None = None
) -> DemoResult:
    """Publish, drain, and report; ``live`` gets one summary line per second.

    Setting ``stop`` ends publishing early (the run still drains and reports).
    """
    demo = _Demo(options, live, stop)
    try:
        demo.start()
        if live is not None and demo.configuration.metrics_port is not None:
            print(
                f"metrics on http://127.0.0.1:{demo.configuration.metrics_port}/metrics",
                file=live,
                flush=True,
            )
        demo.publish_all(demo.tick)
        drained = demo.drain()
        demo.tick()
        return demo.result(drained)
    finally:
        demo.close()
