"""The system a generated set of dashboards and alerts describes, read from one TOML file.

Everything has a default, so an empty file (or none) gives a working set; what a team
writes narrows the scope (services, destinations, groups) and sets the SLOs and the
alert thresholds.  The file is ``eventscope.toml`` (top-level keys) or a
``[tool.eventscope]`` table in ``pyproject.toml``.  A bad value is reported with the
file and the dotted key, as a :class:`~eventscope.errors.UsageError` (exit code 2).
"""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from eventscope import catalog
from eventscope.errors import UsageError

_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_DURATION_UNITS = (7 * 86400, 86400, 3600, 60, 1)
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_LONGEST_BURN_WINDOW = 3 * 86400


def duration_seconds(text: str) -> int | None:
    """Seconds in a Prometheus duration such as ``28d`` or ``1h30m``; ``None`` if not one."""
    match = _DURATION.match(text)
    if not text or match is None:
        return None
    return sum(int(n) * unit for n, unit in zip(match.groups(), _DURATION_UNITS, strict=True) if n)


def scaled_duration(text: str, time_scale: float) -> str:
    """``text`` (a Prometheus duration) times ``time_scale``, in whole seconds (at least 1).

    With a scale of 1 the text is returned as written, so production rules keep their
    familiar ``5m`` and ``1h``; a test stack that cannot wait hours passes a smaller
    scale and gets every ``for`` and every window shortened alike.
    """
    seconds = duration_seconds(text)
    if time_scale == 1 or seconds is None:
        return text
    return f"{max(1, round(seconds * time_scale))}s"


@dataclass(frozen=True)
class Slo:
    """The two objectives every consumer group is held to, over ``window``."""

    window: str = "28d"
    latency_seconds: float = 5.0
    """End-to-end latency objective: a message is good if processed within this."""
    latency_percentile: float = 99.0
    """Share of messages (percent) that must meet ``latency_seconds``."""
    error_ratio: float = 0.001
    """Largest share of messages that may end in error or the dead-letter destination."""
    latency_buckets: tuple[float, ...] = catalog.END_TO_END_BUCKETS
    """The end-to-end histogram's boundaries, as the services configure them
    (``configure(buckets=...)``); ``latency_seconds`` must be one of them."""

    @property
    def latency_budget(self) -> float:
        return 1 - self.latency_percentile / 100


@dataclass(frozen=True)
class Thresholds:
    """Alert thresholds (and the red lines on the matching panels)."""

    lag_messages: float = 1000
    lag_seconds: float = 60
    dead_letter_rate: float = 0
    """Dead-lettered messages per second above which an alert fires (0: any)."""
    dead_letter_depth: float = 0
    """Messages waiting in a dead-letter destination above which an alert fires."""
    error_ratio: float = 0.05
    p99_processing_seconds: float = 1.0
    send_error_ratio: float = 0.01
    stalled_after: str = "10m"
    """How long the committed position must stay flat, with lag, to call a group stalled."""
    outbox_waiting: float = 1000
    """Unpublished outbox rows above which a growing outbox alerts."""
    outbox_age_seconds: float = 300
    """Age of the oldest unpublished outbox row above which the outbox is called stuck."""


@dataclass(frozen=True)
class Grafana:
    """Where the generated files go in Grafana, and how links reach it."""

    url: str = "http://localhost:3000"
    folder: str = "eventscope"
    datasource_uid: str = "eventscope-prometheus"
    prometheus_url: str = "http://localhost:9090"
    dashboards_path: str = "/var/lib/grafana/dashboards/eventscope"


PROTOCOLS: Mapping[str, catalog.System] = {
    "kafka": catalog.KAFKA,
    "amqp": catalog.RABBITMQ,
    "nats": catalog.NATS,
    "redis": catalog.REDIS,
    "sqs": catalog.AWS_SQS,
}
"""AsyncAPI protocol names of the brokers eventscope instruments → their messaging system."""


@dataclass(frozen=True)
class Server:
    """A broker the service connects to, as an AsyncAPI server."""

    host: str
    protocol: str
    """An AsyncAPI protocol name: one of :data:`PROTOCOLS`."""
    description: str = ""

    @property
    def system(self) -> catalog.System:
        return PROTOCOLS[self.protocol]


@dataclass(frozen=True)
class AsyncApi:
    """What ``eventscope asyncapi`` documents: the service's servers, what it sends and
    which of its consumer groups receive what.  Empty ``sends`` and ``receives`` mean
    every destination, received by every consumer group."""

    title: str = ""
    """Document title (empty: the configuration's ``name``)."""
    version: str = "1.0.0"
    description: str = ""
    servers: Mapping[str, Server] = field(default_factory=dict)
    schemas: Path | None = None
    """The schemas directory payloads come from (relative paths: to the config file)."""
    schema_registry_url: str = ""
    """Written into the Kafka servers' bindings; ``eventscope asyncapi --registry`` reads
    payloads from a registry instead of the schemas directory."""
    subject_name_strategy: str = "topic"
    sends: tuple[str, ...] = ()
    receives: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    max_attempts: int | None = None
    """Deliveries before a message is dead-lettered (an SQS redrive policy's count)."""


@dataclass(frozen=True)
class Config:
    """One system: what to watch, what to promise, when to wake someone."""

    name: str = "eventscope"
    """Prefix of dashboard uids and titles, rule group names and Grafana rule uids."""
    services: tuple[str, ...] = ()
    """Prometheus ``job`` names of the instrumented services (empty: every job)."""
    destinations: tuple[str, ...] = ()
    dead_letter_destinations: tuple[str, ...] = ()
    consumer_groups: tuple[str, ...] = ()
    lag_targets: tuple[str, ...] = ()
    """``eventscope_lag_target`` values (lag.yaml target names, or the ``target`` given to
    ``watch_lag``) whose health this team's exporter-down alert watches (empty: all)."""
    runbook_url: str = "runbooks"
    """Base of the ``runbook_url`` annotations: ``<runbook_url>/<AlertName>.md``."""
    alert_labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels on every alert (team, routing keys)."""
    slo: Slo = field(default_factory=Slo)
    thresholds: Thresholds = field(default_factory=Thresholds)
    grafana: Grafana = field(default_factory=Grafana)
    asyncapi: AsyncApi = field(default_factory=AsyncApi)
    time_scale: float = 1.0
    """Multiplies every ``for`` and every range window of the generated rules (never
    the names of recorded series): below 1 only for a test or demo stack that must see
    alerts fire and resolve in minutes instead of hours."""
    source: str = "defaults"
    """The file the configuration came from (for messages)."""


# --- loading ------------------------------------------------------------------------


class _Reader:
    """Reads one table, remembering the dotted path for error messages."""

    def __init__(self, source: str, table: Mapping[str, Any], path: str) -> None:
        self.source = source
        self.table = table
        self.path = path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, problem: str) -> UsageError:
        return UsageError(f"{self.source}: {self.key(name)}: {problem}")

    def check_keys(self, allowed: set[str]) -> None:
        for name in sorted(set(self.table) - allowed):
            raise self.fail(name, f"unknown key (known: {', '.join(sorted(allowed))})")

    def sub(self, name: str) -> _Reader:
        value = self.table.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, f"must be a table, not {value!r}")
        return _Reader(self.source, value, self.key(name))

    def number(self, name: str, default: float, low: float, high: float | None = None) -> float:
        value = self.table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise self.fail(name, f"must be a number, not {value!r}")
        if value < low or (high is not None and value > high):
            bound = f"between {low:g} and {high:g}" if high is not None else f"≥ {low:g}"
            raise self.fail(name, f"must be {bound}, not {value!r}")
        return float(value)

    def text(self, name: str, default: str, pattern: re.Pattern[str] | None = None) -> str:
        value = self.table.get(name, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, f"must be a non-empty string, not {value!r}")
        if pattern is not None and not pattern.match(value):
            raise self.fail(name, f"{value!r} does not match {pattern.pattern}")
        return value

    def optional_text(self, name: str) -> str:
        """The key's non-empty string, or ``""`` when the key is absent."""
        return self.text(name, "") if name in self.table else ""

    def names(self, name: str) -> tuple[str, ...]:
        value = self.table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(name, f"must be a list of non-empty strings, not {value!r}")
        if len(set(value)) != len(value):
            raise self.fail(name, f"lists a name twice: {value!r}")
        return tuple(value)

    def bounds(self, name: str, default: tuple[float, ...]) -> tuple[float, ...]:
        value = self.table.get(name, list(default))
        if (
            not isinstance(value, list)
            or not value
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and 0 < v < math.inf
                for v in value
            )
        ):
            raise self.fail(name, f"must be a non-empty list of positive numbers, not {value!r}")
        if any(b <= a for a, b in itertools.pairwise(value)):
            raise self.fail(name, f"must be strictly increasing, not {value!r}")
        return tuple(float(v) for v in value)

    def duration(self, name: str, default: str, minimum: int = 1) -> str:
        value = self.text(name, default)
        seconds = duration_seconds(value)
        if seconds is None:
            raise self.fail(
                name, f"must be a Prometheus duration such as 28d or 10m, not {value!r}"
            )
        if seconds < minimum:
            raise self.fail(name, f"must be at least {minimum} s, not {value!r}")
        return value

    def labels(self, name: str) -> dict[str, str]:
        value = self.table.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, f"must be a table of label = value, not {value!r}")
        for label, text in value.items():
            if not _LABEL_NAME.match(label) or label.startswith("__"):
                raise self.fail(f"{name}.{label}", "is not a valid Prometheus label name")
            if label in ("severity", "alertname"):
                raise self.fail(f"{name}.{label}", "is set by the generator")
            if not isinstance(text, str):
                raise self.fail(f"{name}.{label}", f"must be a string, not {text!r}")
        return dict(sorted(value.items()))


def _slo(reader: _Reader) -> Slo:
    d = Slo()
    reader.check_keys({f.name for f in fields(Slo)})
    bounds = reader.bounds("latency_buckets", d.latency_buckets)
    latency = reader.number("latency_seconds", d.latency_seconds, 0)
    if latency not in bounds:
        allowed = ", ".join(f"{b:g}" for b in bounds)
        raise reader.fail(
            "latency_seconds",
            f"must be a bucket boundary of {catalog.END_TO_END_DURATION.prometheus_name} "
            f"(one of {allowed}; services with other buckets list theirs in "
            f"slo.latency_buckets), not {latency:g}",
        )
    percentile = reader.number("latency_percentile", d.latency_percentile, 0, 100)
    if percentile in (0, 100):
        raise reader.fail("latency_percentile", "must be strictly between 0 and 100")
    error_ratio = reader.number("error_ratio", d.error_ratio, 0, 1)
    if error_ratio in (0, 1):
        raise reader.fail("error_ratio", "must be strictly between 0 and 1")
    return Slo(
        window=reader.duration("window", d.window, _LONGEST_BURN_WINDOW),
        latency_seconds=latency,
        latency_buckets=bounds,
        latency_percentile=percentile,
        error_ratio=error_ratio,
    )


def _thresholds(reader: _Reader) -> Thresholds:
    d = Thresholds()
    reader.check_keys({f.name for f in fields(Thresholds)})
    return Thresholds(
        lag_messages=reader.number("lag_messages", d.lag_messages, 0),
        lag_seconds=reader.number("lag_seconds", d.lag_seconds, 0),
        dead_letter_rate=reader.number("dead_letter_rate", d.dead_letter_rate, 0),
        dead_letter_depth=reader.number("dead_letter_depth", d.dead_letter_depth, 0),
        error_ratio=reader.number("error_ratio", d.error_ratio, 0, 1),
        p99_processing_seconds=reader.number("p99_processing_seconds", d.p99_processing_seconds, 0),
        send_error_ratio=reader.number("send_error_ratio", d.send_error_ratio, 0, 1),
        stalled_after=reader.duration("stalled_after", d.stalled_after, 60),
        outbox_waiting=reader.number("outbox_waiting", d.outbox_waiting, 0),
        outbox_age_seconds=reader.number("outbox_age_seconds", d.outbox_age_seconds, 0),
    )


def _grafana(reader: _Reader) -> Grafana:
    d = Grafana()
    reader.check_keys({f.name for f in fields(Grafana)})
    return Grafana(
        url=reader.text("url", d.url).rstrip("/"),
        folder=reader.text("folder", d.folder),
        datasource_uid=reader.text(
            "datasource_uid", d.datasource_uid, re.compile(r"^[\w-]{1,40}$")
        ),
        prometheus_url=reader.text("prometheus_url", d.prometheus_url),
        dashboards_path=reader.text("dashboards_path", d.dashboards_path),
    )


def _asyncapi(reader: _Reader, base: Path | None) -> AsyncApi:
    d = AsyncApi()
    reader.check_keys({f.name for f in fields(AsyncApi)})
    servers = {}
    table = reader.sub("servers")
    for name in table.table:
        server = table.sub(name)
        server.check_keys({f.name for f in fields(Server)})
        protocol = server.text("protocol", "kafka")
        if protocol not in PROTOCOLS:
            known = ", ".join(PROTOCOLS)
            raise server.fail("protocol", f"must be one of {known}, not {protocol!r}")
        servers[name] = Server(
            server.text("host", ""), protocol, server.optional_text("description")
        )
    receives = {}
    table = reader.sub("receives")
    for destination in table.table:
        receives[destination] = table.names(destination)
    schemas = None
    if reader.optional_text("schemas"):
        text = reader.optional_text("schemas")
        schemas = Path(text) if base is None else base / text
    max_attempts = None
    if "max_attempts" in reader.table:
        max_attempts = int(reader.number("max_attempts", 1, 1))
        if max_attempts != reader.table["max_attempts"]:
            raise reader.fail("max_attempts", "must be a whole number")
    return AsyncApi(
        title=reader.optional_text("title"),
        version=reader.text("version", d.version),
        description=reader.optional_text("description"),
        servers=servers,
        schemas=schemas,
        schema_registry_url=reader.optional_text("schema_registry_url"),
        subject_name_strategy=reader.text("subject_name_strategy", d.subject_name_strategy),
        sends=reader.names("sends"),
        receives=receives,
        max_attempts=max_attempts,
    )


def _time_scale(reader: _Reader) -> float:
    scale = reader.number("time_scale", 1.0, 0, 1)
    if scale == 0:
        raise reader.fail("time_scale", "must be above 0")
    return scale


_TOP_LEVEL = {
    "name",
    "services",
    "destinations",
    "dead_letter_destinations",
    "consumer_groups",
    "lag_targets",
    "runbook_url",
    "alert_labels",
    "slo",
    "thresholds",
    "grafana",
    "asyncapi",
    "time_scale",
}


def config_from_mapping(
    table: Mapping[str, Any], source: str, path: str = "", base: Path | None = None
) -> Config:
    """Validate a parsed TOML table; ``path`` is where it sits in its file (for messages),
    ``base`` the directory relative paths in it are read from (its file's)."""
    reader = _Reader(source, table, path)
    reader.check_keys(_TOP_LEVEL)
    d = Config()
    return Config(
        name=reader.text("name", d.name, _NAME),
        services=reader.names("services"),
        destinations=reader.names("destinations"),
        dead_letter_destinations=reader.names("dead_letter_destinations"),
        consumer_groups=reader.names("consumer_groups"),
        lag_targets=reader.names("lag_targets"),
        runbook_url=reader.text("runbook_url", d.runbook_url).rstrip("/"),
        alert_labels=reader.labels("alert_labels"),
        slo=_slo(reader.sub("slo")),
        thresholds=_thresholds(reader.sub("thresholds")),
        grafana=_grafana(reader.sub("grafana")),
        asyncapi=_asyncapi(reader.sub("asyncapi"), base),
        time_scale=_time_scale(reader),
        source=source,
    )


def _parse(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None


def load_config(path: str | Path | None = None, directory: str | Path = ".") -> Config:
    """Read ``path``, or find ``eventscope.toml`` / ``pyproject.toml`` in ``directory``.

    A ``pyproject.toml`` is read from its ``[tool.eventscope]`` table; with no file at
    all (or a pyproject without that table), every default applies.
    """
    if path is None:
        for candidate in ("eventscope.toml", "pyproject.toml"):
            found = Path(directory) / candidate
            if found.is_file():
                return load_config(found)
        return Config()
    path = Path(path)
    data = _parse(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("eventscope", {}) if isinstance(tool, dict) else {}
        if not isinstance(table, dict):
            raise UsageError(f"{path}: tool.eventscope: must be a table")
        return config_from_mapping(table, str(path), "tool.eventscope", path.parent)
    return config_from_mapping(data, str(path), base=path.parent)
