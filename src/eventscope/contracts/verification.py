"""Provider verification: replay every consumer's expectation against the real producer.

pact-python's verifier (the Pact reference implementation, through its FFI) does the
matching.  eventscope supplies the two callbacks it makes — provider-state set-up and
"produce the message called X" — from the ``@provider_state`` and ``@provides``
registrations, captures what the producer really sent, and turns the verifier's JSON
results into one :class:`InteractionOutcome` per interaction.

The verifier prints a coloured report and raises a bare ``RuntimeError`` when anything
fails; neither is shown.  Its output is kept in :attr:`VerificationRun.output` (ANSI
codes stripped) for whoever wants it, and each outcome says in plain words which
interaction, which field, expected and actual.  A failure *inside* the provider's own
code (a state set-up or a ``@provides`` function raising) is reported as that
exception, with its traceback, instead of the mismatches the verifier would derive
from the missing message.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import re
import sys
import tempfile
import traceback
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventscope.contracts.awaiting import ProviderLoop, exhausted
from eventscope.contracts.capture import CapturedMessage, MessageCapture
from eventscope.contracts.errors import missing_pact_python
from eventscope.contracts.provider import REGISTRY, ProviderRegistry, Registration
from eventscope.contracts.tracing import producer_tracing

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_OWN_FILES = str(Path(__file__).parent)


@dataclass(frozen=True, slots=True)
class BrokerSource:
    """Pacts fetched from a Pact Broker for the provider being verified.

    Credentials left ``None`` are read by pact-python from ``PACT_BROKER_USERNAME``,
    ``PACT_BROKER_PASSWORD`` and ``PACT_BROKER_TOKEN``.  The consumer versions verified
    are the Pact Broker's recommended selectors: each consumer's main branch, every
    deployed or released version and, with ``provider_branch``, the consumers' branch of
    the same name; pending pacts are included (their failures do not fail the build).
    With ``publish``, the verifier publishes every result (passes and failures, which
    ``can-i-deploy`` needs alike) as ``provider_version`` on ``provider_branch``.
    """

    url: str
    username: str | None = None
    password: str | None = None
    token: str | None = None
    provider_version: str | None = None
    provider_branch: str | None = None
    publish: bool = False


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One difference the verifier found between the expected and the produced message."""

    part: str
    """``body``, ``metadata``, ``content type`` or ``message``."""
    where: str
    """A JSON path in the body (``$.quantity``) or a metadata key (``traceparent``)."""
    text: str
    expected: Any = None
    actual: Any = None

    def describe(self) -> str:
        head = f"{self.part} {self.where}" if self.where else self.part
        return f"{head}: {self.text}"


@dataclass(slots=True)
class InteractionOutcome:
    consumer: str
    description: str
    states: tuple[str, ...]
    passed: bool
    pending: bool = False
    mismatches: tuple[Mismatch, ...] = ()
    problem: str | None = None
    """The provider's own code failed (set-up or ``@provides`` function); why, with traceback."""
    sent: CapturedMessage | None = None
    destinations: tuple[str, ...] = ()
    """Every destination the ``@provides`` function sent to (``sent`` is one of them)."""

    def label(self) -> str:
        text = repr(self.description)
        if self.states:
            text += " given " + ", ".join(map(repr, self.states))
        return text


@dataclass(slots=True)
class VerificationRun:
    """Every interaction the verifier checked for ``provider``, plus source-level errors
    (a pact that cannot be loaded, a broker that cannot be reached)."""

    provider: str
    outcomes: list[InteractionOutcome]
    errors: list[str] = field(default_factory=list)
    output: str = ""
    _claimed: set[int] = field(default_factory=set)

    def claim(
        self, consumer: str, description: str, states: Sequence[str]
    ) -> InteractionOutcome | None:
        """The outcome of that interaction, each outcome handed out once (so two equal
        interactions in two pacts each get their own)."""
        for index, outcome in enumerate(self.outcomes):
            if index in self._claimed:
                continue
            if (outcome.consumer, outcome.description, outcome.states) == (
                consumer,
                description,
                tuple(states),
            ):
                self._claimed.add(index)
                return outcome
        return None


def verify_provider(
    provider: str,
    pacts: Sequence[Path | str] = (),
    *,
    broker: BrokerSource | None = None,
    registry: ProviderRegistry = REGISTRY,
    destinations: Mapping[str, str] | None = None,
) -> VerificationRun:
    """Verify ``provider`` against the pact files or directories in ``pacts`` and/or the
    pacts a broker has for it, producing each message with the ``@provides`` functions.

    ``destinations`` (description → destination, known from local pact files) picks the
    right message when a ``@provides`` function sends several.
    """
    try:
        from pact import Verifier
    except ImportError as exc:
        raise missing_pact_python(exc) from exc
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")  # no usage report from CI machines
    side = _ProviderSide(provider, registry, dict(destinations or {}))
    verifier = (
        Verifier(provider)
        .message_handler(side.message)
        .state_handler(side.state, teardown=True)
        .set_coloured_output(enabled=False)
    )
    for source in pacts:
        verifier.add_source(Path(source))
    if broker is not None:
        verifier = _with_broker(verifier, broker)
    # verify() raises a bare RuntimeError when anything failed; the results say what.
    try:
        with producer_tracing(), _captured_output() as output, contextlib.suppress(RuntimeError):
            verifier.verify()
    finally:
        side.loop.close()
    results = verifier.results
    run = VerificationRun(provider, [], output=_ANSI.sub("", output.getvalue()))
    run.errors = [
        _plain(error.get("mismatch", {}).get("message", ""))
        for error in results.get("errors", [])
        if error.get("mismatch", {}).get("type") == "error"
    ]
    for result in results.get("interactionResults", []):
        run.outcomes.append(side.outcome(result))
    return run


def _with_broker(verifier: Any, broker: BrokerSource) -> Any:
    credentials: dict[str, Any] = {}
    if broker.token is not None:
        credentials["token"] = broker.token
    if broker.username is not None:
        credentials["username"] = broker.username
    if broker.password is not None:
        credentials["password"] = broker.password
    selector = verifier.broker_source(broker.url, selector=True, **credentials)
    selector.consumer_version(main_branch=True).consumer_version(deployed_or_released=True)
    if broker.provider_branch:
        selector.provider_branch(broker.provider_branch).consumer_version(matching_branch=True)
    verifier = selector.include_pending().build()
    if broker.publish:
        if not broker.provider_version:
            raise ValueError("publishing verification results needs the provider version")
        verifier.set_publish_options(broker.provider_version, branch=broker.provider_branch)
    return verifier


@dataclass(slots=True)
class _Scope:
    """One interaction while it is being verified: its capture and its states' set-ups."""

    capture: MessageCapture = field(default_factory=MessageCapture)
    given: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    teardowns: dict[str, Iterator[Any] | AsyncIterator[Any]] = field(default_factory=dict)
    problem: str | None = None
    produced: bool = False
    sent: CapturedMessage | None = None
    destinations: tuple[str, ...] = ()


class _ProviderSide:
    """The verifier's two callbacks, and what they saw, per interaction."""

    def __init__(
        self, provider: str, registry: ProviderRegistry, destinations: dict[str, str]
    ) -> None:
        self.provider = provider
        self.registry = registry
        self.destinations = destinations
        self.scope = _Scope()
        self.loop = ProviderLoop()
        # (description, state names) -> what happened, in verification order
        self.seen: dict[tuple[str, tuple[str, ...]], deque[_Scope]] = defaultdict(deque)

    # --- the verifier's callbacks (they must not raise: failures are recorded) -------

    def state(self, state: str, action: str, parameters: dict[str, Any] | None) -> None:
        if not state:
            return
        if action == "teardown":
            self._teardown(state)
            return
        if self.scope.produced:
            self.scope = _Scope()
        self._setup(state, dict(parameters or {}))

    def message(self, name: str, metadata: dict[str, Any] | None) -> dict[str, Any]:
        if self.scope.produced:  # an interaction without states: nothing was set up
            self.scope = _Scope()
        scope = self.scope
        scope.produced = True
        states = tuple(s.get("name", "") for s in (metadata or {}).get("providerStates", []))
        self.seen[(name, states)].append(scope)
        if scope.problem is None:
            scope.problem = self._produce(name, scope)
        sent = scope.sent
        if scope.problem is not None or sent is None:
            # A stand-in the verifier can parse; the outcome reports the problem instead.
            return {"contents": b"{}", "metadata": None, "content_type": "application/json"}
        return {
            "contents": sent.contents(),
            "metadata": sent.metadata(),
            "content_type": sent.content_type,
        }

    # --- what they do ------------------------------------------------------------------

    def _setup(self, state: str, params: dict[str, Any]) -> None:
        scope = self.scope
        scope.params.update(params)
        if scope.problem is not None:
            return
        registration = self.registry.state_function(state, self.provider)
        if registration is None:
            scope.problem = (
                f"no @provider_state({state!r}) for provider {self.provider!r}: a consumer "
                f"expects this state, so the provider must say how to set it up"
            )
            return
        try:
            value = registration.call(
                {"bus": scope.capture.bus, "capture": scope.capture, "params": params}
            )
            if inspect.isasyncgen(value):
                scope.teardowns[state] = value
                value = self.loop.next_of(value)
                if exhausted(value):
                    raise RuntimeError("the async generator ended without yielding")
            elif isinstance(value, Iterator) and hasattr(value, "throw"):
                scope.teardowns[state] = value
                value = next(value)
            else:
                value = self.loop.resolve(value)
            scope.given[state] = value
        except Exception as exc:
            scope.problem = _raised(f"@provider_state({state!r}) {registration.location}", exc)

    def _teardown(self, state: str) -> None:
        scope = self.scope
        generator = scope.teardowns.pop(state, None)
        if generator is None:
            return
        try:
            if inspect.isasyncgen(generator):
                if exhausted(self.loop.next_of(generator)):
                    return
            else:
                next(generator)
        except StopIteration:
            return
        except Exception as exc:
            scope.problem = scope.problem or _raised(
                f"the teardown of @provider_state({state!r})", exc
            )
            return
        scope.problem = scope.problem or f"@provider_state({state!r}) yields more than once"

    def _produce(self, description: str, scope: _Scope) -> str | None:
        registration = self.registry.message_function(description, self.provider)
        if registration is None:
            known = ", ".join(map(repr, self.registry.descriptions(self.provider))) or "none"
            return (
                f"no @provides({description!r}) for provider {self.provider!r} (registered: "
                f"{known}); decorate the function that runs the producer with it"
            )
        capture = scope.capture
        available = {
            "bus": capture.bus,
            "capture": capture,
            "params": scope.params,
            "given": scope.given,
        }
        try:
            self.loop.resolve(registration.call(available))
        except Exception as exc:
            return _raised(f"@provides({description!r}) {registration.location}", exc)
        messages = capture.messages()
        scope.destinations = tuple(dict.fromkeys(m.destination for m in messages))
        return self._choose(description, registration, messages, scope)

    def _choose(
        self,
        description: str,
        registration: Registration,
        sent: list[CapturedMessage],
        scope: _Scope,
    ) -> str | None:
        destination = self.destinations.get(description)
        candidates = [m for m in sent if destination is None or m.destination == destination]
        if len(candidates) == 1:
            scope.sent = candidates[0]
            return None
        where = f" to {destination!r}" if destination else ""
        elsewhere = sorted({m.destination for m in sent} - {destination})
        also = f" (it sent to: {', '.join(elsewhere)})" if elsewhere and destination else ""
        if not candidates:
            return (
                f"@provides({description!r}) {registration.location} sent no message{where}"
                f"{also}; it must run the producer code that publishes it, on `bus` or "
                f"through `capture.send`"
            )
        return (
            f"@provides({description!r}) {registration.location} sent {len(candidates)} "
            f"messages{where}; a contract describes one message"
        )

    # --- results -----------------------------------------------------------------------

    def outcome(self, result: dict[str, Any]) -> InteractionOutcome:
        description = result.get("description", "")
        states = tuple(result.get("providerStates") or ())
        queue = self.seen.get((description, states))
        scope = queue.popleft() if queue else None
        outcome = InteractionOutcome(
            consumer=result.get("consumer", ""),
            description=description,
            states=states,
            passed=result.get("result") == "OK",
            pending=bool(result.get("pending")),
            sent=scope.sent if scope else None,
            destinations=scope.destinations if scope else (),
        )
        if scope is not None and scope.problem is not None:
            outcome.passed = False
            outcome.problem = scope.problem
        elif not outcome.passed:
            outcome.mismatches = tuple(_mismatches(result.get("mismatch") or {}))
        return outcome


def _mismatches(mismatch: dict[str, Any]) -> list[Mismatch]:
    if mismatch.get("type") == "error":
        return [Mismatch("message", "", _plain(mismatch.get("message", "")))]
    found = []
    for item in mismatch.get("mismatches", []):
        kind = item.get("type", "")
        if kind == "MetadataMismatch":
            # "Expected metadata key 'k' to have value '"x"' but was '"y"' - Expected 'y'
            # to match '^...$'": the part after the dash is the matcher's verdict.
            reason = _plain(item.get("mismatch", "")).rsplit(" - ", 1)[-1]
            found.append(
                Mismatch(
                    "metadata",
                    repr(item.get("key", "")),
                    reason,
                    item.get("expected"),
                    item.get("actual"),
                )
            )
        elif kind == "BodyTypeMismatch":
            found.append(
                Mismatch(
                    "content type",
                    "",
                    _plain(item.get("mismatch", "")),
                    item.get("expected"),
                    item.get("actual"),
                )
            )
        else:
            found.append(
                Mismatch(
                    "body",
                    item.get("path", "$"),
                    _plain(item.get("mismatch", "")),
                    item.get("expected"),
                    item.get("actual"),
                )
            )
    return found


def _plain(text: str) -> str:
    return _ANSI.sub("", text).strip()


def _raised(who: str, exc: BaseException) -> str:
    """``who raised ValueError: boom`` and the traceback through the user's code only."""
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_OWN_FILES)
    ]
    return (
        f"{who} raised {type(exc).__name__}: {exc}\n"
        + "".join(traceback.format_list(frames)).rstrip()
    )


@contextlib.contextmanager
def _captured_output() -> Iterator[io.StringIO]:
    """Keep what the verifier writes (its report on file descriptor 1, the message relay's
    request log on ``sys.stderr``) out of the terminal and the test report."""
    text = io.StringIO()
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            with contextlib.redirect_stdout(text), contextlib.redirect_stderr(text):
                yield text
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            text.write(sink.read().decode("utf-8", "replace"))
