"""The pytest plugin (entry point ``pytest11``): contracts and schemas in a plain ``pytest``.

It gives consumer tests the ``message_pact`` fixture and, when a pacts or schemas
directory, a schema registry or a Pact Broker is configured, adds test items after the
ordinary ones (so the consumer tests of the same run write their pacts first); see
:mod:`eventscope.contracts.items` for what they check.  With a committed AsyncAPI
document named (``--eventscope-asyncapi``), one more item, last, compares it with what
the service declares and sent (:mod:`eventscope.asyncapi.drift_item`).

Nothing happens in a run that does not use it: no option set, no item.  Configured in
ini only, items are added to a run of the configured test paths (a plain ``pytest``),
to a run that imported ``@provides`` functions (the provider's contract tests), and
whenever an ``--eventscope-*`` source option is on the command line; a run narrowed
to other files (``pytest tests/unit/test_x.py``) gets none.

pytest loads this module in every test run of every project that installs eventscope,
so it holds the hooks and the plugin's vocabulary (options, ini keys, markers) only.
The contract machinery (:mod:`eventscope.contracts`, the schema checkers, the registry
client, pact-python) is imported by the hooks only when the run gets contract items, a
test requests ``message_pact``, or a registry or broker is configured (its URL is
checked at startup).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from eventscope.contracts.consumer import MessagePact
    from eventscope.contracts.provider import ProviderRegistry
    from eventscope.contracts.session import ContractSession

VERIFICATION_MARK = "eventscope_verification"
SCHEMA_MARK = "eventscope_schema"
PACT_MARK = "eventscope_pact"
ASYNCAPI_MARK = "eventscope_asyncapi"

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
    "subject-name-strategy": (
        "how a destination maps to its schema subject: topic (TopicNameStrategy, the "
        "default), record (RecordNameStrategy) or topic-record (TopicRecordNameStrategy)",
        "string",
    ),
    "asyncapi": (
        "the service's committed AsyncAPI document: a test item fails, listing the changes, "
        "when it differs from what `eventscope asyncapi` would write now",
        "string",
    ),
    "config": (
        "the eventscope.toml (or pyproject.toml) the AsyncAPI document is generated from "
        "(default: the one in the rootdir)",
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
_SOURCES = ("pacts", "schemas", "registry", "broker-url", "asyncapi")

_SESSION = pytest.StashKey["ContractSession"]()
_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


def _key(name: str) -> str:
    return "eventscope_" + name.replace("-", "_")


def _option(config: pytest.Config, name: str) -> tuple[str | None, bool]:
    """The option's value, and whether it came from the command line (else the ini)."""
    given = config.getoption(_key(name))
    if given is not None:
        return given, True
    if _OPTIONS[name][1] is None:
        return None, False
    return (config.getini(_key(name)) or None), False


def _configured(config: pytest.Config, names: tuple[str, ...]) -> bool:
    return any(_option(config, name)[0] is not None for name in names)


def _explicit(config: pytest.Config) -> bool:
    """A source was given on the command line."""
    return any(_option(config, name)[1] for name in _SOURCES)


def _provider_registry() -> ProviderRegistry | None:
    """The ``@provides`` registry, if anything imported it (else nothing registered)."""
    provider = sys.modules.get("eventscope.contracts.provider")
    return provider.REGISTRY if provider is not None else None


def _contracts(config: pytest.Config) -> ContractSession:
    """The run's contract state, created (and the contract machinery imported) on first
    use."""
    contracts = config.stash.get(_SESSION, None)
    if contracts is None:
        from eventscope.contracts.session import ContractSession, Settings

        settings = Settings.from_config(config, lambda name: _option(config, name))
        contracts = ContractSession(settings, VERIFICATION_MARK, SCHEMA_MARK)
        config.stash[_SESSION] = contracts
    return contracts


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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{PACT_MARK}(consumer, provider): the consumer and provider of the test's message_pact",
    )
    config.addinivalue_line("markers", f"{VERIFICATION_MARK}: eventscope provider verification")
    config.addinivalue_line("markers", f"{SCHEMA_MARK}: eventscope schema check")
    config.addinivalue_line("markers", f"{ASYNCAPI_MARK}: eventscope AsyncAPI drift guard")
    if _configured(config, ("registry", "broker-url")):
        _contracts(config)  # a wrong URL or a missing version is a usage error, at startup


def pytest_unconfigure(config: pytest.Config) -> None:
    registry = _provider_registry()
    if registry is not None:
        registry.clear()  # the next session (pytest's own in-process runs) starts empty


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
    contracts = _contracts(request.config)
    directory = contracts.settings.pacts or request.config.rootpath / "pacts"
    pact = MessagePact(
        names["consumer"],
        names["provider"],
        pacts=contracts.files(directory),
        schemas=contracts.settings.schemas,
        subject_strategy=contracts.settings.subject_strategy,
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
    """Append the contract items (before -k/-m selection, which sees them too): when a
    source is configured, for a run of the configured test paths, a run that imported
    ``@provides`` functions, or a source given on the command line."""
    if not _configured(config, _SOURCES):
        return
    wanted = (
        _explicit(config)
        or config.args_source is not pytest.Config.ArgsSource.ARGS
        or _provider_registry()
    )
    if not wanted:
        return
    from eventscope.contracts.items import add_contract_items

    contracts = _contracts(config)
    add_contract_items(session, contracts, items)
    settings = contracts.settings
    if settings.asyncapi is not None:
        from eventscope.asyncapi.drift_item import AsyncApiDocument

        items.append(
            AsyncApiDocument.create(
                session,
                settings.asyncapi,
                config_file=settings.config_file,
                schemas=settings.schemas,
                registry=settings.registry,
                mark=ASYNCAPI_MARK,
                sent=contracts.sent_destinations,
            )
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Verify what this run's consumer tests wrote after collection (a new pact has no
    item yet), and fail the run if that failed."""
    contracts = session.config.stash.get(_SESSION, None)
    if contracts is not None and contracts.verify_written() and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    contracts = config.stash.get(_SESSION, None)
    if contracts is not None:
        contracts.write_summary(terminalreporter, config)
