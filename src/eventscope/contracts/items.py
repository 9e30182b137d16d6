"""The test items the pytest plugin adds: pact files, interactions, schema subjects.

- ``<pact file>::<description>::provider`` - the provider's real producer against the
  interaction (for the provider being verified), and what it sent against the schema
  of its destination (when a schemas directory or registry is configured);
- ``<pact file>::<description>::schema`` - the interaction's example body against the
  schema registered for its destination;
- ``<schemas dir>::<subject>`` - the subject's newest version against its history;
- ``pact broker <url> (<provider>)`` - every pact the broker has for the provider.

Each collector and item is handed the session's :class:`ContractSession` when it is
created, so nothing here reaches back into the hooks module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from eventscope.contracts.session import ContractSession, shown

if TYPE_CHECKING:
    from eventscope.contracts.pact_files import MessageInteraction
    from eventscope.schemas import Subject


def add_contract_items(
    session: pytest.Session, contracts: ContractSession, items: list[pytest.Item]
) -> None:
    """Append the items of the configured sources to ``items`` (the hooks decide whether
    this run wants them)."""
    settings = contracts.settings
    collectors: list[pytest.Collector] = []
    providers = settings.providers()
    contracts.verified = providers
    if settings.pacts is not None and settings.pacts.is_dir():
        from eventscope.contracts.pact_files import pact_files

        for path in pact_files(settings.pacts):
            collectors.append(
                PactFile.from_parent(session, path=path, providers=providers, contracts=contracts)
            )
    if settings.schemas is not None:
        collectors.append(
            SchemaDirectory.from_parent(session, path=settings.schemas, contracts=contracts)
        )
    for collector in collectors:
        items.extend(session.genitems(collector))
    if settings.broker is not None:
        for provider in providers:
            items.append(
                BrokerVerification.from_parent(session, provider=provider, contracts=contracts)
            )


class ContractItem(pytest.Item):
    """An eventscope item: a failure is reported as its message, without a traceback."""

    def __init__(self, *, contracts: ContractSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.contracts = contracts

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        from eventscope.contracts.errors import ContractError

        if isinstance(excinfo.value, ContractError):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    headline: str
    """The failure report's title.  Not a suffix of the node id: pytest would rewrite
    the dots in it, taking it for a Python dotted name."""

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.headline


class PactFile(pytest.File):
    """One pact file: an :class:`Interaction` per asynchronous message."""

    def __init__(self, *, providers: list[str], contracts: ContractSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.providers = providers
        self.contracts = contracts

    def collect(self) -> Iterator[pytest.Collector]:
        from eventscope.contracts.pact_files import PactFileError, read_pact

        try:
            document = read_pact(self.path)
        except PactFileError as exc:
            raise self.CollectError(str(exc)) from None
        descriptions = [message.description for message in document.messages]
        for message in document.messages:
            unique = descriptions.count(message.description) == 1
            name = message.description if unique else message.label()
            yield Interaction.from_parent(self, name=name, message=message)


class Interaction(pytest.Collector):
    """One interaction of a pact file: its provider verification and its schema check."""

    parent: PactFile

    def __init__(self, *, message: MessageInteraction, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def collect(self) -> Iterator[pytest.Item]:
        message = self.message
        contracts = self.parent.contracts
        if message.provider in self.parent.providers:
            contracts.collected.add(
                (message.provider, message.consumer, message.description, message.state_names)
            )
            yield ProviderVerification.from_parent(
                self, name="provider", message=message, contracts=contracts
            )
        if contracts.settings.schemas is not None or contracts.settings.registry is not None:
            yield SchemaCheck.from_parent(self, name="schema", message=message, contracts=contracts)


class ProviderVerification(ContractItem):
    """The provider's producer against one interaction of a local pact file."""

    def __init__(self, *, message: MessageInteraction, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message
        self.headline = f"{message.provider} against {message.consumer}: {message.label()}"
        self.add_marker(self.contracts.verification_mark)

    def runtest(self) -> None:
        from eventscope.contracts.errors import ContractError
        from eventscope.contracts.report import describe_outcome

        message = self.message
        run = self.contracts.local_run(message.provider)
        if self.config.get_verbosity() >= 2 and run.output:
            self.add_report_section("call", "pact verifier output", run.output)
        outcome = run.claim(message.consumer, message.description, message.state_names)
        if outcome is None:
            reasons = "; ".join(run.errors) or (
                "it is no longer in the file (a consumer test of this run rewrote it)"
            )
            raise ContractError(
                f"{message.consumer} expects {message.label()} from {message.provider} "
                f"({message.file}), but it was not verified: {reasons}"
            )
        source = shown(self.config, message.file)
        failures = [] if outcome.passed else [describe_outcome(outcome, message.provider, source)]
        against_schema = self.contracts.sent_failure(outcome, message.provider, source)
        if against_schema is not None:
            failures.append(against_schema)
        if not failures:
            return
        text = "\n\n".join(failures)
        if outcome.pending:
            pytest.xfail(f"pending interaction: {text}")
        raise ContractError(text)


class SchemaCheck(ContractItem):
    """One interaction's example body against its destination's newest schema."""

    def __init__(self, *, message: MessageInteraction, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message
        self.headline = f"schema of {message.consumer}'s {message.label()}"
        self.add_marker(self.contracts.schema_mark)

    def runtest(self) -> None:
        from eventscope.contracts.errors import ContractError
        from eventscope.contracts.pact_files import read_pact
        from eventscope.contracts.report import describe_schema_verdict, schema_version

        wanted = self.message
        current = [  # the file as it is now: a consumer test may have rewritten it
            message
            for message in read_pact(wanted.file).messages
            if (message.consumer, message.description, message.states)
            == (wanted.consumer, wanted.description, wanted.states)
        ]
        if not current:
            raise ContractError(
                f"{wanted.label()} is no longer in {wanted.file} (a consumer test of this run "
                "rewrote it)"
            )
        verdict = self.contracts.check_schema(current[0])
        if verdict.unchecked:
            pytest.skip(f"not validated against {schema_version(verdict)}: {verdict.unchecked}")
        if verdict.problems:
            source = shown(self.config, wanted.file)
            raise ContractError(describe_schema_verdict(current[0], verdict, source))


class SchemaDirectory(pytest.Directory):
    """The schemas directory: one :class:`SubjectCompatibility` per subject."""

    def __init__(self, *, contracts: ContractSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.contracts = contracts

    def collect(self) -> Iterator[pytest.Item]:
        from eventscope.schemas import SchemaDirectoryError

        try:
            subjects = self.contracts.subjects()
        except SchemaDirectoryError as exc:
            raise self.CollectError(str(exc)) from None
        for subject in subjects:
            yield SubjectCompatibility.from_parent(
                self, name=subject.name, subject=subject, contracts=self.contracts
            )


class SubjectCompatibility(ContractItem):
    """A subject's newest version against the history its compatibility mode names."""

    def __init__(self, *, subject: Subject, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.subject = subject
        self.headline = f"schema subject {subject.name!r}: newest version against its history"
        self.add_marker(self.contracts.schema_mark)

    def runtest(self) -> None:
        from eventscope.contracts.errors import ContractError
        from eventscope.contracts.report import describe_subject_report
        from eventscope.schemas import check_subject
        from eventscope.schemas.directory import Status

        report = check_subject(self.subject)
        if report.status is not Status.OK:
            raise ContractError(describe_subject_report(report))


class BrokerVerification(ContractItem):
    """Every pact a Pact Broker has for the provider (the broker decides which pacts,
    so this is one item; its failure lists each failed interaction)."""

    def __init__(self, *, provider: str, contracts: ContractSession, **kwargs: Any) -> None:
        broker = contracts.settings.broker
        assert broker is not None
        name = f"pact broker {_public(broker.url)} ({provider})"
        super().__init__(name=name, contracts=contracts, **kwargs)
        self.provider = provider
        self.headline = f"{provider} against the pacts of {_public(broker.url)}"
        self.add_marker(self.contracts.verification_mark)

    def runtest(self) -> None:
        from eventscope.contracts.errors import ContractError
        from eventscope.contracts.report import describe_outcome

        run = self.contracts.broker_run(self.provider)
        failures = [f"could not verify: {error}" for error in run.errors]
        for outcome in run.outcomes:
            if outcome.pending:
                continue
            if not outcome.passed:
                failures.append(describe_outcome(outcome, self.provider, "pact broker"))
            against_schema = self.contracts.sent_failure(outcome, self.provider, "pact broker")
            if against_schema is not None:
                failures.append(against_schema)
        if failures:
            raise ContractError("\n\n".join(failures))


def _public(url: str) -> str:
    """``url`` without the user and password it may carry (item names are printed)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=host))
