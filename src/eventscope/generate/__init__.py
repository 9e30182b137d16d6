"""``eventscope generate``: dashboards, rules, provisioning files and runbooks on disk.

``generated_files(config)`` renders the whole set as bytes by relative path;
``prometheus_files(config)`` only the rule files and runbooks; ``write_files`` and
``differences`` put a set on disk or compare it with a committed copy.

``generated_files`` needs grafana-foundation-sdk (the dashboards extra) and is imported
on first use, so the Prometheus half works where the SDK is not installed.
"""

from eventscope._lazy import lazy_names
from eventscope.generate.disk import differences, write_files
from eventscope.generate.prometheus import prometheus_files

__getattr__ = lazy_names(__name__, {"generated_files": "eventscope.generate.files"})


__all__ = ["differences", "generated_files", "prometheus_files", "write_files"]
