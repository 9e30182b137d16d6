"""The consumer side: declare the message you expect, hand it to your real handler.

An expectation is written with Pact matchers (``pact.match``), so it says what the
consumer relies on (an integer quantity, an order id of a given shape, a ``traceparent``
header) rather than one example.  ``deliver`` asks Pact for the example message, wraps
it as the broker's native message (an eventscope :class:`~eventscope.Message` by
default, so the ``@consumer`` decorator's header extraction runs exactly as in
production) and calls the handler.  Only an expectation the handler accepted is written
to the pact file: a contract nobody tested is not a contract.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from eventscope.contracts.errors import ContractError, missing_pact_python
from eventscope.contracts.headers import eventscope_headers
from eventscope.contracts.pact_files import (
    CONTENT_TYPE,
    DESTINATION,
    MessageInteraction,
    ProviderState,
    is_json_type,
)
from eventscope.contracts.report import describe_schema_verdict, shown_path
from eventscope.contracts.schema_check import check_interaction
from eventscope.contracts.schema_source import DirectorySource
from eventscope.contracts.strategy_check import check_interaction_by_strategy
from eventscope.contracts.subject_names import SubjectNameStrategy
from eventscope.memory_bus import Message
from eventscope.schemas import load_schema_directory

MessageFactory = Callable[[Any, dict[str, str], str], Any]
"""Builds the native message a handler receives from (body, headers, destination)."""

Given = str | Sequence[str] | Mapping[str, Mapping[str, Any]]


def memory_message(body: Any, headers: dict[str, str], destination: str) -> Message:
    """The example as an in-memory bus message, the default for :meth:`ExpectedMessage.deliver`."""
    return Message(destination, 0, 0, body, headers=headers)


class PactFiles:
    """The pact files of one run, in one directory.

    The first expectation written for a consumer-provider pair replaces that pair's
    file, later ones are merged into it, so a run's pact holds exactly the interactions
    its tests declared (one removed from the tests disappears from the file) while the
    tests of one pair still share a file.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self._written: set[tuple[str, str]] = set()

    @property
    def written(self) -> frozenset[tuple[str, str]]:
        """The (consumer, provider) pairs written so far."""
        return frozenset(self._written)

    def path(self, consumer: str, provider: str) -> Path:
        return self.directory / f"{consumer}-{provider}.json"

    def write(self, pact: Any) -> Path:
        key = (pact.consumer, pact.provider)
        self.directory.mkdir(parents=True, exist_ok=True)
        pact.write_file(self.directory, overwrite=key not in self._written)
        self._written.add(key)
        return self.path(*key)


class MessagePact:
    """The messages ``consumer`` expects from ``provider``.

    ``pacts`` is the directory (or a shared :class:`PactFiles`) the pact is written to;
    ``schemas``, when given, is a schemas directory: each example body must then fit
    the schema registered for its destination before it is delivered, the subject found
    by ``subject_strategy`` (default: ``<destination>-value``).
    """

    def __init__(
        self,
        consumer: str,
        provider: str,
        *,
        pacts: Path | str | PactFiles,
        schemas: Path | str | None = None,
        subject_strategy: SubjectNameStrategy | None = None,
    ) -> None:
        if not consumer or not provider:
            raise ValueError("a message pact needs a consumer and a provider name")
        self.consumer = consumer
        self.provider = provider
        self.files = pacts if isinstance(pacts, PactFiles) else PactFiles(pacts)
        self.schemas = Path(schemas) if schemas is not None else None
        self.subject_strategy = subject_strategy
        self.expectations: list[ExpectedMessage] = []

    @property
    def path(self) -> Path:
        """The pact file this consumer-provider pair is written to."""
        return self.files.path(self.consumer, self.provider)

    def expect(
        self,
        description: str,
        *,
        destination: str,
        body: Any,
        given: Given = (),
        headers: Mapping[str, Any] | None = None,
        trace_headers: bool = True,
        content_type: str = "application/json",
    ) -> ExpectedMessage:
        """Declare a message: ``body`` and ``headers`` may hold Pact matchers.

        ``given`` names the provider state(s): a name, a list of names, or a mapping of
        name to parameters.  ``trace_headers`` adds the shapes of the headers
        ``@producer`` writes (``traceparent``, ``eventscope-event-id``,
        ``eventscope-published-at``).  The destination is part of the contract: the
        provider must publish to it.
        """
        expected = ExpectedMessage(
            self,
            description,
            destination,
            body,
            _states(given),
            {
                **(eventscope_headers(f"{self.consumer}: {description}") if trace_headers else {}),
                **(headers or {}),
            },
            content_type,
        )
        self.expectations.append(expected)
        return expected

    def undelivered(self) -> list[ExpectedMessage]:
        return [expected for expected in self.expectations if not expected.delivered]


class ExpectedMessage:
    """One declared message; :meth:`deliver` tests the consumer with it."""

    def __init__(
        self,
        pact: MessagePact,
        description: str,
        destination: str,
        body: Any,
        states: tuple[ProviderState, ...],
        headers: dict[str, Any],
        content_type: str,
    ) -> None:
        self.pact = pact
        self.description = description
        self.destination = destination
        self.body = body
        self.states = states
        self.headers = headers
        self.content_type = content_type
        self.delivered = False

    def __repr__(self) -> str:
        return f"<ExpectedMessage {self.description!r} from {self.pact.provider}>"

    def deliver(
        self, handler: Callable[..., Any], *, build: MessageFactory = memory_message
    ) -> Any:
        """Give the example message to ``handler``; on success write it to the pact file.

        ``build(body, headers, destination)`` makes the native message (default: an
        eventscope :class:`~eventscope.Message`; :mod:`eventscope.contracts.messages`
        has one builder per client library).  A coroutine handler is run to completion
        on an event loop of its own; inside an async test, whose loop is running, use
        ``await expected.deliver_async(handler)`` instead.  The handler's own exceptions
        propagate unchanged, and then nothing is written.  Returns what the handler
        returned.
        """
        __tracebackhide__ = True
        pact, message = self._prepare(build)
        result = handler(message)
        if inspect.isawaitable(result):
            if _loop_running():
                _close(result)
                raise ContractError(
                    f"{self!r}: deliver() got a coroutine inside a running event loop; "
                    "in an async test write `await expected.deliver_async(handler)`"
                )
            result = asyncio.run(_awaited(result))
        self._delivered(pact)
        return result

    async def deliver_async(
        self, handler: Callable[..., Any], *, build: MessageFactory = memory_message
    ) -> Any:
        """:meth:`deliver` for async tests: awaits ``handler`` on the test's own loop.

        The handler may be ``async def`` or plain; what it returns is returned.
        """
        __tracebackhide__ = True
        pact, message = self._prepare(build)
        result = handler(message)
        if inspect.isawaitable(result):
            result = await result
        self._delivered(pact)
        return result

    def _prepare(self, build: MessageFactory) -> tuple[Any, Any]:
        """The pact holding this expectation, and its example as the native message."""
        __tracebackhide__ = True
        pact = self._pact()
        body, headers = self._example(pact)
        self._check_schema(body)
        return pact, build(body, headers, self.destination)

    def _delivered(self, pact: Any) -> None:
        self.pact.files.write(pact)
        self.delivered = True

    def _pact(self) -> Any:
        try:
            from pact import Pact
        except ImportError as exc:
            raise missing_pact_python(exc) from exc
        pact = Pact(self.pact.consumer, self.pact.provider).with_specification("V4")
        interaction = pact.upon_receiving(self.description, "Async")
        for state in self.states:
            if state.params:
                interaction.given(state.name, dict(state.params))
            else:
                interaction.given(state.name)
        interaction.with_body(self.body, self.content_type)
        interaction.with_metadata({DESTINATION: self.destination, **self.headers})
        return pact

    def _example(self, pact: Any) -> tuple[Any, dict[str, str]]:
        """The example Pact generates from the matchers: body and headers."""
        examples: list[tuple[Any, dict[str, object]]] = []
        pact.verify(lambda body, metadata: examples.append((body, metadata)), "Async")
        raw, metadata = examples[0]
        body: Any = raw.encode() if isinstance(raw, str) else raw
        if is_json_type(self.content_type):
            body = json.loads(body)
        headers = {
            key: value if isinstance(value, str) else json.dumps(value)
            for key, value in metadata.items()
            if key not in (DESTINATION, CONTENT_TYPE)
        }
        return body, headers

    def _check_schema(self, body: Any) -> None:
        __tracebackhide__ = True
        if self.pact.schemas is None:
            return
        interaction = MessageInteraction(
            self.pact.path,
            self.pact.consumer,
            self.pact.provider,
            self.description,
            self.states,
            {DESTINATION: self.destination},
            self.content_type,
            body,
        )
        subjects = load_schema_directory(self.pact.schemas)
        strategy = self.pact.subject_strategy
        if strategy is not None and strategy.needs_record_names:
            verdict = check_interaction_by_strategy(
                interaction, DirectorySource(subjects), strategy
            )
        else:
            verdict = check_interaction(interaction, subjects)
        if verdict.problems:
            raise ContractError(
                describe_schema_verdict(interaction, verdict, shown_path(self.pact.path))
            )


def _states(given: Given) -> tuple[ProviderState, ...]:
    if isinstance(given, str):
        return (ProviderState(given),)
    if isinstance(given, Mapping):
        return tuple(ProviderState(name, dict(params or {})) for name, params in given.items())
    return tuple(ProviderState(name) for name in given)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _close(awaitable: Any) -> None:
    """Close a coroutine that will not be awaited (no "never awaited" warning)."""
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()
