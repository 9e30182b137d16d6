"""One pytest session's contract state: the plugin's settings and what the run verified.

The hooks in :mod:`eventscope.pytest_plugin` import this module only when a run
configures a contract source or requests ``message_pact``: it (and through it the
rest of :mod:`eventscope.contracts`) is what a run that does not use contracts must
not pay for.  The hooks own the option names; :meth:`Settings.from_config` reads them
through the reader they pass, so nothing here imports the hooks back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from eventscope.contracts.provider import REGISTRY

if TYPE_CHECKING:
    from eventscope.contracts.consumer import PactFiles
    from eventscope.contracts.pact_files import MessageInteraction
    from eventscope.contracts.schema_check import SchemaVerdict
    from eventscope.contracts.schema_source import SchemaSource
    from eventscope.contracts.sent_check import SentVerdict
    from eventscope.contracts.subject_names import SubjectNameStrategy
    from eventscope.contracts.verification import (
        BrokerSource,
        InteractionOutcome,
        VerificationRun,
    )
    from eventscope.registry.client import RegistryClient
    from eventscope.schemas import Subject

OptionReader = Callable[[str], tuple[str | None, bool]]
"""An option's value by name (``"pacts"``, ``"broker-url"``...) and whether it came
from the command line (else from the ini file, or not set: ``None``)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The plugin's options, paths resolved: from the command line against the
    invocation directory, from the ini file against the ini file's directory."""

    pacts: Path | None
    schemas: Path | None
    provider: str | None
    broker: BrokerSource | None
    registry: str | None = None
    """The schema registry URL the cross-checks read schemas from."""
    subject_strategy: SubjectNameStrategy | None = None
    """How a destination maps to its schema subject (``None``: TopicNameStrategy)."""
    asyncapi: Path | None = None
    """The committed AsyncAPI document the drift guard compares with the code."""
    config_file: Path | None = None
    """The eventscope.toml that document is generated from (``None``: the rootdir's)."""

    @classmethod
    def from_config(cls, config: pytest.Config, value: OptionReader) -> Settings:
        """Read and check the options; a broker or registry configured wrongly is a
        usage error at startup, before any test runs."""

        def path(name: str) -> Path | None:
            text, from_command_line = value(name)
            if text is None:
                return None
            base = config.invocation_params.dir if from_command_line else _ini_dir(config)
            return (base / text).resolve()

        url = value("broker-url")[0]
        broker = None
        if url:
            from eventscope.contracts.verification import BrokerSource

            publish = bool(
                config.getoption("eventscope_publish") or config.getini("eventscope_publish")
            )
            version = value("provider-version")[0]
            if publish and not version:
                raise pytest.UsageError(
                    "--eventscope-publish needs the provider version "
                    "(--eventscope-provider-version or eventscope_provider_version)"
                )
            broker = BrokerSource(
                url,
                value("broker-username")[0],
                value("broker-password")[0],
                value("broker-token")[0],
                version,
                value("provider-branch")[0],
                publish,
            )
        registry = value("registry")[0]
        if registry:
            from eventscope.registry.client import RegistryClient

            try:
                RegistryClient(registry)
            except ValueError as exc:
                raise pytest.UsageError(
                    f"--eventscope-registry / eventscope_registry: {exc}"
                ) from None
        strategy = None
        strategy_name = value("subject-name-strategy")[0]
        if strategy_name:
            from eventscope.contracts.subject_names import SubjectNameStrategy

            try:
                strategy = SubjectNameStrategy.parse(strategy_name)
            except ValueError as exc:
                raise pytest.UsageError(
                    f"--eventscope-subject-name-strategy / eventscope_subject_name_strategy: {exc}"
                ) from None
        return cls(
            path("pacts"),
            path("schemas"),
            value("provider")[0],
            broker,
            registry or None,
            strategy,
            path("asyncapi"),
            path("config"),
        )

    def providers(self) -> list[str]:
        """The providers to verify: the configured one, else those ``@provides`` name."""
        if self.provider:
            return [self.provider]
        named = REGISTRY.providers()
        if None in named and (self.pacts is not None or self.broker is not None):
            nameless = next(r for r in REGISTRY.registrations() if r.provider is None)
            raise pytest.UsageError(
                f"{nameless.location} does not say which provider it belongs to: set "
                f"eventscope_provider (or --eventscope-provider), or pass provider= to it"
            )
        return sorted(name for name in named if name is not None)


def _ini_dir(config: pytest.Config) -> Path:
    return config.inipath.parent if config.inipath is not None else config.rootpath


@dataclass
class ContractSession:
    """What the plugin keeps for one test session."""

    settings: Settings
    verification_mark: str
    """The marker of provider verification items (the hooks declare it to pytest)."""
    schema_mark: str
    """The marker of schema check items."""
    pact_files: dict[Path, PactFiles] = field(default_factory=dict)
    runs: dict[tuple[str, str], VerificationRun] = field(default_factory=dict)
    collected: set[tuple[str, str, str, tuple[str, ...]]] = field(default_factory=set)
    verified: list[str] = field(default_factory=list)
    """The providers this run verifies (empty: the plugin added no items)."""
    _subjects: list[Subject] | None = None
    _registry: RegistryClient | None = None
    _source: SchemaSource | None = None

    def files(self, directory: Path) -> PactFiles:
        from eventscope.contracts.consumer import PactFiles

        return self.pact_files.setdefault(directory, PactFiles(directory))

    def local_run(self, provider: str) -> VerificationRun:
        """The verification of the pacts directory for ``provider``, run once, on first use."""
        key = (provider, "local")
        if key not in self.runs:
            from eventscope.contracts.pact_files import interactions_in
            from eventscope.contracts.verification import verify_provider

            pacts = self.settings.pacts
            assert pacts is not None
            destinations: dict[str, str] = {}
            for interaction in interactions_in(pacts):
                if interaction.provider == provider and interaction.destination:
                    destinations[interaction.description] = interaction.destination
            self.runs[key] = verify_provider(provider, [pacts], destinations=destinations)
        return self.runs[key]

    def broker_run(self, provider: str) -> VerificationRun:
        key = (provider, "broker")
        if key not in self.runs:
            from eventscope.contracts.verification import verify_provider

            self.runs[key] = verify_provider(provider, broker=self.settings.broker)
        return self.runs[key]

    def subjects(self) -> list[Subject]:
        if self._subjects is None:
            from eventscope.schemas import load_schema_directory

            assert self.settings.schemas is not None
            self._subjects = load_schema_directory(self.settings.schemas)
        return self._subjects

    def check_schema(self, interaction: MessageInteraction) -> SchemaVerdict:
        """The interaction's body against its schema: from the registry when one is
        configured, else from the schemas directory."""
        from eventscope.contracts.schema_check import (
            check_interaction,
            check_interaction_against_registry,
        )

        strategy = self.settings.subject_strategy
        if strategy is not None and strategy.needs_record_names:
            from eventscope.contracts.strategy_check import check_interaction_by_strategy

            return check_interaction_by_strategy(interaction, self.schema_source(), strategy)
        if self.settings.registry is None:
            return check_interaction(interaction, self.subjects())
        return check_interaction_against_registry(interaction, self.registry_client())

    def registry_client(self) -> RegistryClient:
        if self._registry is None:
            from eventscope.registry.client import RegistryClient

            assert self.settings.registry is not None
            self._registry = RegistryClient(self.settings.registry)
        return self._registry

    def check_sent(self, outcome: InteractionOutcome) -> SentVerdict | None:
        """What the provider sent for ``outcome`` against its destination's schema (the
        registry's when one is configured, else the schemas directory's); ``None`` when
        neither is configured or nothing was sent."""
        if outcome.sent is None:
            return None
        if self.settings.registry is None and self.settings.schemas is None:
            return None
        from eventscope.contracts.sent_check import check_sent
        from eventscope.contracts.subject_names import SubjectNameStrategy

        strategy = self.settings.subject_strategy or SubjectNameStrategy.TOPIC
        return check_sent(outcome.sent, self.schema_source(), strategy)

    def schema_source(self) -> SchemaSource:
        """The registry when one is configured, else the schemas directory."""
        if self._source is None:
            from eventscope.contracts.schema_source import DirectorySource, RegistrySource

            if self.settings.registry is not None:
                self._source = RegistrySource(self.registry_client())
            else:
                self._source = DirectorySource(self.subjects())
        return self._source

    def sent_failure(self, outcome: InteractionOutcome, provider: str, source: str) -> str | None:
        """The report of a sent message that breaks its schema, if it does."""
        verdict = self.check_sent(outcome)
        if verdict is None or verdict.fits:
            return None
        from eventscope.contracts.report import describe_sent_verdict

        return describe_sent_verdict(outcome, provider, source, verdict)

    def sent_destinations(self) -> dict[str, set[str]]:
        """Provider → the destinations its real producer sent to in this run's
        verifications so far (what the code does, for the AsyncAPI drift guard)."""
        found: dict[str, set[str]] = {}
        for (provider, _), run in self.runs.items():
            for outcome in run.outcomes:
                found.setdefault(provider, set()).update(outcome.destinations)
        return found

    def verify_written(self) -> bool:
        """Verify what this run's consumer tests wrote after collection (a new pact has
        no item yet); ``True`` when some of it failed."""
        pacts = self.settings.pacts
        if pacts is not None and pacts in self.pact_files:
            written = {provider for _, provider in self.pact_files[pacts].written}
            for provider in self.verified:
                if provider in written and (provider, "local") not in self.runs:
                    self.local_run(provider)
        return bool(self.uncollected_failures())

    def uncollected_failures(
        self, source: str = "pacts"
    ) -> list[tuple[VerificationRun, InteractionOutcome, str]]:
        """Failed outcomes of interactions no item was collected for (pacts that consumer
        tests wrote during this run, after collection), each with its report (naming the
        pacts directory as ``source``): the consumer's expectation broken, or the sent
        message breaking its schema."""
        from eventscope.contracts.report import describe_outcome

        found = []
        for (provider, where), run in self.runs.items():
            if where != "local":
                continue
            for outcome in run.outcomes:
                key = (provider, outcome.consumer, outcome.description, outcome.states)
                if key in self.collected or outcome.pending:
                    continue
                reports = [] if outcome.passed else [describe_outcome(outcome, provider, source)]
                against_schema = self.sent_failure(outcome, provider, source)
                if against_schema is not None:
                    reports.append(against_schema)
                if reports:
                    found.append((run, outcome, "\n\n".join(reports)))
        return found

    def write_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        """The terminal section listing :meth:`uncollected_failures`, if any."""
        pacts = self.settings.pacts
        if pacts is None:
            return
        failures = self.uncollected_failures(shown(config, pacts))
        if not failures:
            return
        terminalreporter.section("eventscope: pacts written during this run", red=True)
        terminalreporter.line(
            "These interactions were written by this run's consumer tests after collection, "
            "so they have no test item yet; they were verified and failed:"
        )
        for _, _, report in failures:
            terminalreporter.line(report)


def shown(config: pytest.Config, path: Path) -> str:
    """``path`` as the user would type it: relative to the rootdir when inside it."""
    try:
        return path.relative_to(config.rootpath).as_posix()
    except ValueError:
        return str(path)
