"""Errors for schemas that cannot be read, with enough context to fix them."""

from __future__ import annotations


class SchemaParseError(ValueError):
    """A schema is not valid in its format.

    ``source`` names the file (or ``candidate`` / ``previous[i]`` for in-memory
    schemas), ``location`` the line (``line 12``) or JSON path (``$.fields[3].type``)
    where the problem is, and ``reason`` what is wrong.
    """

    def __init__(self, reason: str, *, location: str | None = None, source: str | None = None):
        self.reason = reason
        self.location = location
        self.source = source
        super().__init__(self._render())

    def _render(self) -> str:
        where = ", ".join(p for p in (self.source, self.location) if p)
        return f"{where}: {self.reason}" if where else self.reason

    def within(self, source: str) -> SchemaParseError:
        """The same error, attributed to ``source`` unless it already names one."""
        return SchemaParseError(self.reason, location=self.location, source=self.source or source)


def crash_report(exc: Exception) -> str:
    """An exception nobody foresaw, as the end of a one-line error: the commands turn it
    into exit 2 and one subject's error rather than a traceback and exit 1."""
    return f"internal error, please report it: {type(exc).__name__}: {exc}"
