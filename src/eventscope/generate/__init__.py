"""``eventscope generate``: dashboards, rules, provisioning files and runbooks on disk.

``generated_files(config)`` renders the whole set as bytes by relative path;
``write_files`` and ``differences`` put it on disk or compare it with a committed copy.
"""

from eventscope.generate.files import differences, generated_files, write_files

__all__ = ["differences", "generated_files", "write_files"]
