"""``eventscope generate``: dashboards, rules, provisioning files and runbooks on disk.

``generated_files(config)`` renders the whole set as bytes by relative path;
``prometheus_files(config)`` only the rule files and runbooks; ``write_files`` and
``differences`` put a set on disk or compare it with a committed copy.

``generated_files`` needs grafana-foundation-sdk (the dashboards extra) and is imported
on first use, so the Prometheus half works where the SDK is not installed.
"""

from typing import Any

from eventscope.generate.disk import differences, write_files
from eventscope.generate.prometheus import prometheus_files


def __getattr__(name: str) -> Any:
    """Load the SDK-built half only when someone asks for the whole set."""
    if name == "generated_files":
        from eventscope.generate.files import generated_files

        return generated_files
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["differences", "generated_files", "prometheus_files", "write_files"]
