"""The pytest plugin's drift guard: one test item comparing the committed document with
what the service's configuration and schemas declare now (``--eventscope-asyncapi``),
and with what its producers really did in the run: a destination a verified provider
sent to must be one the document says the service sends to."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eventscope.errors import UsageError


class AsyncApiDrift(Exception):
    """The committed document is out of date; the message lists the changes."""


class AsyncApiDocument(pytest.Item):
    """``<document>::asyncapi``: fails, with a readable list of changes, when the
    committed document is not what ``eventscope asyncapi`` would write now."""

    def __init__(
        self,
        *,
        document: Path,
        config_file: Path | None,
        schemas: Path | None,
        registry: str | None,
        shown: str,
        sent: Callable[[], dict[str, set[str]]],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sent = sent
        self.document = document
        self.config_file = config_file
        self.schemas = schemas
        self.registry = registry
        self.shown = shown

    @classmethod
    def create(
        cls,
        session: pytest.Session,
        document: Path,
        *,
        config_file: Path | None,
        schemas: Path | None,
        registry: str | None,
        mark: str,
        sent: Callable[[], dict[str, set[str]]] = dict,
    ) -> AsyncApiDocument:
        """``sent``: provider → the destinations its producer sent to in this run's
        verifications (they run before this item)."""
        shown = _shown(document, session.config.rootpath)
        item = cls.from_parent(
            session,
            name=f"{shown}::asyncapi",
            nodeid=f"{shown}::asyncapi",
            path=document,
            document=document,
            config_file=config_file,
            schemas=schemas,
            registry=registry,
            shown=shown,
            sent=sent,
        )
        item.add_marker(mark)
        return item

    def runtest(self) -> None:
        from eventscope.asyncapi.drift import differences
        from eventscope.asyncapi.render import read_document
        from eventscope.asyncapi.service import service_document
        from eventscope.config import load_config

        config = load_config(self.config_file, directory=self.config.rootpath)
        current = service_document(config, self.schemas, self.registry)
        committed = read_document(self.document)
        source = _shown(Path(config.source), self.config.rootpath)
        reports = []
        changes = differences(committed, current)
        if changes:
            reports.append(
                f"{self.shown} is out of date with what the service declares "
                f"({source} and its schemas):\n"
                + "\n".join(f"  {line}" for line in changes)
                + f"\nregenerate it: eventscope asyncapi --config {source} --out {self.shown}"
            )
        undocumented = _undocumented_sends(committed, self.sent())
        if undocumented:
            reports.append(
                f"{self.shown} does not list every destination the service sends to; during "
                "this run's provider verification:\n"
                + "\n".join(f"  {line}" for line in undocumented)
                + f"\nadd them to asyncapi.sends in {source}, then regenerate the document"
            )
        if reports:
            raise AsyncApiDrift("\n\n".join(reports))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, AsyncApiDrift | UsageError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.document, None, f"AsyncAPI document {self.shown} against the code"


def _undocumented_sends(document: dict[str, Any], sent: dict[str, set[str]]) -> list[str]:
    from eventscope.asyncapi.document import sent_addresses

    documented = sent_addresses(document)
    return [
        f"{provider} sent to {destination!r}: the document has no send operation for it"
        for provider, destinations in sorted(sent.items())
        for destination in sorted(destinations - documented)
    ]


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)
