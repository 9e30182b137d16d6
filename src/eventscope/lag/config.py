"""``lag.yaml``: the brokers and groups a standalone lag exporter watches.

```yaml
scrape_timeout: 5          # seconds per broker and scrape (default 5)
targets:
  - name: orders-kafka     # becomes the eventscope_lag_target label
    broker: kafka          # kafka | rabbitmq | nats | redis
    bootstrap: 127.0.0.1:9092
    groups: [billing, shipping]     # optional: default every group the broker knows
    dead_letters: [orders.dlq]      # optional: default every destination ending in .dlq
  - name: rabbit
    broker: rabbitmq
    url: http://guest:guest@127.0.0.1:15672
```

Every other key of a target is passed to its collector as an option.  Mistakes are
reported with the file and the path of the offending key (``targets[1].broker``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventscope.errors import UsageError
from eventscope.lag.deadline import checked_seconds
from eventscope.lag.targets import COLLECTORS

DEFAULT_SCRAPE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Target:
    name: str
    broker: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LagConfig:
    targets: list[Target]
    scrape_timeout: float = DEFAULT_SCRAPE_TIMEOUT


def load_config(path: str | Path) -> LagConfig:
    """Read and check a lag configuration file."""
    import yaml

    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start : exc.start + 1]!r})"
        ) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise UsageError(f"{path}: {where}not valid YAML: {problem}") from exc
    return parse_config(document, str(path))


def parse_config(document: Any, source: str) -> LagConfig:
    def fail(where: str, what: str) -> UsageError:
        return UsageError(f"{source}: {where}: {what}")

    if not isinstance(document, dict):
        raise fail("$", "expected a mapping with a 'targets' list")
    unknown = set(document) - {"targets", "scrape_timeout"}
    if unknown:
        raise fail(sorted(unknown)[0], "unknown key (expected 'targets', 'scrape_timeout')")
    timeout = document.get("scrape_timeout", DEFAULT_SCRAPE_TIMEOUT)
    if not isinstance(timeout, int | float):
        raise fail("scrape_timeout", f"expected a number of seconds, got {timeout!r}")
    try:
        timeout = checked_seconds(timeout, "scrape_timeout")
    except UsageError as exc:
        raise UsageError(f"{source}: {exc}") from None
    raw_targets = document.get("targets")
    if not isinstance(raw_targets, list) or not raw_targets:
        raise fail("targets", "expected a non-empty list of targets")
    targets: list[Target] = []
    for i, raw in enumerate(raw_targets):
        where = f"targets[{i}]"
        if not isinstance(raw, dict):
            raise fail(where, "expected a mapping with 'name' and 'broker'")
        options = dict(raw)
        name = options.pop("name", None)
        broker = options.pop("broker", None)
        if not isinstance(name, str) or not name:
            raise fail(f"{where}.name", "expected a non-empty string")
        if broker not in COLLECTORS:
            raise fail(
                f"{where}.broker", f"expected one of {', '.join(COLLECTORS)}, got {broker!r}"
            )
        if any(t.name == name for t in targets):
            raise fail(f"{where}.name", f"{name!r} is used by an earlier target")
        for key in ("groups", "dead_letters"):
            value = options.get(key)
            if value is not None and not (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            ):
                raise fail(f"{where}.{key}", "expected a list of names")
        targets.append(Target(name, broker, options))
    return LagConfig(targets, timeout)
