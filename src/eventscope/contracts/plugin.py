"""The pytest plugin (entry point ``pytest11``): contracts and schemas in a plain ``pytest``.

It gives consumer tests the ``message_pact`` fixture and, when a pacts or schemas
directory or a schema registry is configured, adds test items after the ordinary ones
(so the consumer tests of the same run write their pacts first):

- ``<pact file>::<description>::provider`` - the provider's real producer against the
  interaction (for the provider being verified);
- ``<pact file>::<description>::schema`` - the interaction's example body against the
  schema registered for its destination (in the schema registry when one is configured,
  else in the schemas directory);
- ``<schemas dir>::<subject>`` - the subject's newest version against its history;
- ``pact broker <url> (<provider>)`` - every pact the broker has for the provider.

Nothing happens in a run that does not use it: no option set, no item.  Configured in
ini only, items are added to a run of the configured test paths (a plain ``pytest``),
to a run that imported ``@provides`` functions (the provider's contract tests), and
whenever an ``--eventscope-*`` source option is on the command line; a run narrowed
to other files (``pytest tests/unit/test_x.py``) gets none.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from eventscope.contracts.provider import REGISTRY

if TYPE_CHECKING:
    from eventscope.contracts.consumer import MessagePact, PactFiles
    from eventscope.contracts.pact_files import MessageInteraction
    from eventscope.contracts.schema_check import SchemaVerdict
    from eventscope.contracts.verification import (
        BrokerSource,
        InteractionOutcome,
        VerificationRun,
    )
    from eventscope.registry.client import RegistryClient
    from eventscope.schemas import Subject

VERIFICATION_MARK = "eventscope_verification"
SCHEMA_MARK = "eventscope_schema"
PACT_MARK = "eventscope_pact"

_OPTIONS = {
    # name: (help, ini type or None for command line only)
    "pacts": (
        "directory of pact files: written by consumer tests, verified for the provider",
        "string",
    ),
    "schemas": ("schemas directory (see docs/schemas.md) for schema cross-checks", "string"),
    "registry": (
        "Confluent-compatible schema registry URL: schema cross-checks read the latest "
        "version of each destination's subject from it (instead of the schemas directory)",
        "string",
    ),
    "provider": ("name of the provider to verify (as the pacts spell it)", "string"),
    "provider-version": ("provider version for published verification results", "string"),
    "provider-branch": ("provider branch: broker pact selection and published results", "string"),
    "broker-url": ("Pact Broker base URL to verify the provider's pacts from", "string"),
    "broker-username": ("Pact Broker user (default: $PACT_BROKER_USERNAME)", None),
    "broker-password": ("Pact Broker password (default: $PACT_BROKER_PASSWORD)", None),
    "broker-token": ("Pact Broker bearer token (default: $PACT_BROKER_TOKEN)", None),
}
_SOURCES = ("pacts", "schemas", "registry", "broker-url")


def _key(name: str) -> str:
    return "eventscope_" + name.replace("-", "_")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("eventscope", "eventscope contracts (Pact messages and schemas)")
    for name, (help_text, ini_type) in _OPTIONS.items():
        group.addoption(f"--eventscope-{name}", dest=_key(name), default=None, help=help_text)
        if ini_type is not None:
            parser.addini(_key(name), help_text, type=ini_type, default="")
    publish = "publish verification results to the broker (needs the provider version)"
    group.addoption(
        "--eventscope-publish", dest="eventscope_publish", action="store_true", help=publish
    )
    parser.addini("eventscope_publish", publish, type="bool", default=False)


@dataclass(frozen=True, slots=True)
class Settings:
    """The plugin's options, paths resolved: from the command line against the
    invocation directory, from the ini file against the ini file's directory."""

    pacts: Path | None
    schemas: Path | None
    provider: str | None
    broker: BrokerSource | None
    explicit: bool
    """A source (pacts, schemas, registry, broker) was given on the command line."""
    registry: str | None = None
    """The schema registry URL the cross-checks read schemas from."""

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        def value(name: str) -> tuple[str | None, bool]:
            given = config.getoption(_key(name))
            if given is not None:
                return given, True
            if _OPTIONS[name][1] is None:
                return None, False
            return (config.getini(_key(name)) or None), False

        def path(name: str) -> Path | None:
            text, from_command_line = value(name)
            if text is None:
                return None
            base = config.invocation_params.dir if from_command_line else _ini_dir(config)
            return (base / text).resolve()

        explicit = any(value(name)[1] for name in _SOURCES)
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
        return cls(
            path("pacts"),
            path("schemas"),
            value("provider")[0],
            broker,
            explicit,
            registry or None,
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
    pact_files: dict[Path, PactFiles] = field(default_factory=dict)
    runs: dict[tuple[str, str], VerificationRun] = field(default_factory=dict)
    collected: set[tuple[str, str, str, tuple[str, ...]]] = field(default_factory=set)
    verified: list[str] = field(default_factory=list)
    """The providers this run verifies (empty: the plugin added no items)."""
    _subjects: list[Subject] | None = None
    _registry: RegistryClient | None = None

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

        if self.settings.registry is None:
            return check_interaction(interaction, self.subjects())
        if self._registry is None:
            from eventscope.registry.client import RegistryClient

            self._registry = RegistryClient(self.settings.registry)
        return check_interaction_against_registry(interaction, self._registry)

    def uncollected_failures(self) -> list[tuple[VerificationRun, InteractionOutcome]]:
        """Failed outcomes of interactions no item was collected for: pacts that consumer
        tests wrote during this run, after collection."""
        found = []
        for (provider, where), run in self.runs.items():
            if where != "local":
                continue
            for outcome in run.outcomes:
                key = (provider, outcome.consumer, outcome.description, outcome.states)
                if key not in self.collected and not (outcome.passed or outcome.pending):
                    found.append((run, outcome))
        return found


_SESSION = pytest.StashKey[ContractSession]()
_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{PACT_MARK}(consumer, provider): the consumer and provider of the test's message_pact",
    )
    config.addinivalue_line("markers", f"{VERIFICATION_MARK}: eventscope provider verification")
    config.addinivalue_line("markers", f"{SCHEMA_MARK}: eventscope schema check")
    config.stash[_SESSION] = ContractSession(Settings.from_config(config))


def pytest_unconfigure(config: pytest.Config) -> None:
    REGISTRY.clear()  # the next session (pytest's own in-process runs) starts empty


@pytest.fixture
def message_pact(request: pytest.FixtureRequest) -> Iterator[MessagePact]:
    """The messages this test's consumer expects; mark the test (or module) with
    ``@pytest.mark.eventscope_pact(consumer=..., provider=...)``.

    Pacts go to the configured pacts directory (default ``<rootdir>/pacts``); with a
    schemas directory configured, each example body must fit its destination's schema.
    An expectation declared but never delivered fails the test.
    """
    from eventscope.contracts.consumer import MessagePact

    marker = request.node.get_closest_marker(PACT_MARK)
    names = marker.kwargs if marker is not None else {}
    if not names.get("consumer") or not names.get("provider"):
        pytest.fail(
            f"message_pact needs @pytest.mark.{PACT_MARK}(consumer=..., provider=...) "
            "on the test or its module",
            pytrace=False,
        )
    session = request.config.stash[_SESSION]
    directory = session.settings.pacts or request.config.rootpath / "pacts"
    pact = MessagePact(
        names["consumer"],
        names["provider"],
        pacts=session.files(directory),
        schemas=session.settings.schemas,
    )
    yield pact
    report = request.node.stash.get(_CALL_REPORT, None)
    undelivered = pact.undelivered()
    if report is not None and report.passed and undelivered:
        listed = ", ".join(repr(expected.description) for expected in undelivered)
        pytest.fail(
            f"expected message(s) {listed} were declared but never delivered to a handler; "
            "call .deliver(handler) so the contract is tested before it is written",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Append the contract items (before -k/-m selection, which sees them too)."""
    contracts = config.stash[_SESSION]
    settings = contracts.settings
    wanted = (
        settings.explicit or config.args_source is not pytest.Config.ArgsSource.ARGS or REGISTRY
    )
    if not wanted:
        return
    collectors: list[pytest.Collector] = []
    providers = settings.providers()
    contracts.verified = providers
    if settings.pacts is not None and settings.pacts.is_dir():
        from eventscope.contracts.pact_files import pact_files

        for path in pact_files(settings.pacts):
            collectors.append(PactFile.from_parent(session, path=path, providers=providers))
    if settings.schemas is not None:
        collectors.append(SchemaDirectory.from_parent(session, path=settings.schemas))
    for collector in collectors:
        items.extend(session.genitems(collector))
    if settings.broker is not None:
        for provider in providers:
            items.append(
                BrokerVerification.from_parent(session, provider=provider, settings=settings)
            )


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Verify what this run's consumer tests wrote after collection (a new pact has no
    item yet), and fail the run if that failed."""
    contracts = session.config.stash[_SESSION]
    pacts = contracts.settings.pacts
    if pacts is not None and pacts in contracts.pact_files:
        written = {provider for _, provider in contracts.pact_files[pacts].written}
        for provider in contracts.verified:
            if provider in written and (provider, "local") not in contracts.runs:
                contracts.local_run(provider)
    if contracts.uncollected_failures() and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    from eventscope.contracts.report import describe_outcome

    contracts = config.stash[_SESSION]
    failures = contracts.uncollected_failures()
    pacts = contracts.settings.pacts
    if not failures or pacts is None:
        return
    terminalreporter.section("eventscope: pacts written during this run", red=True)
    terminalreporter.line(
        "These interactions were written by this run's consumer tests after collection, "
        "so they have no test item yet; they were verified and failed:"
    )
    for run, outcome in failures:
        terminalreporter.line(describe_outcome(outcome, run.provider, _shown(config, pacts)))


class ContractItem(pytest.Item):
    """An eventscope item: a failure is reported as its message, without a traceback."""

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

    def __init__(self, *, providers: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.providers = providers

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

    def __init__(self, *, message: MessageInteraction, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def collect(self) -> Iterator[pytest.Item]:
        message = self.message
        contracts = self.config.stash[_SESSION]
        if message.provider in self.parent.providers:  # type: ignore[attr-defined]
            contracts.collected.add(
                (message.provider, message.consumer, message.description, message.state_names)
            )
            yield ProviderVerification.from_parent(self, name="provider", message=message)
        if contracts.settings.schemas is not None or contracts.settings.registry is not None:
            yield SchemaCheck.from_parent(self, name="schema", message=message)


class ProviderVerification(ContractItem):
    """The provider's producer against one interaction of a local pact file."""

    def __init__(self, *, message: MessageInteraction, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message
        self.headline = f"{message.provider} against {message.consumer}: {message.label()}"
        self.add_marker(VERIFICATION_MARK)

    def runtest(self) -> None:
        from eventscope.contracts.errors import ContractError
        from eventscope.contracts.report import describe_outcome

        message = self.message
        run = self.config.stash[_SESSION].local_run(message.provider)
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
        if outcome.passed:
            return
        text = describe_outcome(outcome, message.provider, _shown(self.config, message.file))
        if outcome.pending:
            pytest.xfail(f"pending interaction: {text}")
        raise ContractError(text)


class SchemaCheck(ContractItem):
    """One interaction's example body against its destination's newest schema."""

    def __init__(self, *, message: MessageInteraction, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message
        self.headline = f"schema of {message.consumer}'s {message.label()}"
        self.add_marker(SCHEMA_MARK)

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
        verdict = self.config.stash[_SESSION].check_schema(current[0])
        if verdict.unchecked:
            pytest.skip(f"not validated against {schema_version(verdict)}: {verdict.unchecked}")
        if verdict.problems:
            source = _shown(self.config, wanted.file)
            raise ContractError(describe_schema_verdict(current[0], verdict, source))


class SchemaDirectory(pytest.Directory):
    """The schemas directory: one :class:`SubjectCompatibility` per subject."""

    def collect(self) -> Iterator[pytest.Item]:
        from eventscope.schemas import SchemaDirectoryError

        try:
            subjects = self.config.stash[_SESSION].subjects()
        except SchemaDirectoryError as exc:
            raise self.CollectError(str(exc)) from None
        for subject in subjects:
            yield SubjectCompatibility.from_parent(self, name=subject.name, subject=subject)


class SubjectCompatibility(ContractItem):
    """A subject's newest version against the history its compatibility mode names."""

    def __init__(self, *, subject: Subject, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.subject = subject
        self.headline = f"schema subject {subject.name!r}: newest version against its history"
        self.add_marker(SCHEMA_MARK)

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

    def __init__(self, *, provider: str, settings: Settings, **kwargs: Any) -> None:
        assert settings.broker is not None
        super().__init__(name=f"pact broker {_public(settings.broker.url)} ({provider})", **kwargs)
        self.provider = provider
        self.headline = f"{provider} against the pacts of {_public(settings.broker.url)}"
        self.add_marker(VERIFICATION_MARK)

    def runtest(self) -> None:
        from eventscope.contracts.errors import ContractError
        from eventscope.contracts.report import describe_outcome

        run = self.config.stash[_SESSION].broker_run(self.provider)
        failures = [f"could not verify: {error}" for error in run.errors]
        failures += [
            describe_outcome(outcome, self.provider, "pact broker")
            for outcome in run.outcomes
            if not (outcome.passed or outcome.pending)
        ]
        if failures:
            raise ContractError("\n\n".join(failures))


def _shown(config: pytest.Config, path: Path) -> str:
    """``path`` as the user would type it: relative to the rootdir when inside it."""
    try:
        return path.relative_to(config.rootpath).as_posix()
    except ValueError:
        return str(path)


def _public(url: str) -> str:
    """``url`` without the user and password it may carry (item names are printed)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=host))
