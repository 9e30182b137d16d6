"""The provider side: which function produces each message a consumer expects.

``@provides("an order placed event")`` marks a function that runs the real producer
code once; the verifier calls it for every interaction with that description and checks
what it sent.  ``@provider_state("an order is ready to be placed")`` marks the set-up a
consumer's ``given(...)`` asks for; a generator function is torn down after the
interaction (the code after its ``yield`` runs), like a pytest fixture.

Both take what they need by parameter name:

- ``bus``: a fresh in-memory bus for this interaction; what is published on it is captured;
- ``capture``: the :class:`~eventscope.contracts.MessageCapture` (``capture.send(...)`` for
  producers that call a broker client directly);
- ``params``: the provider state's parameters (for ``@provides``: all states' merged);
- ``given`` (``@provides`` only): each state's name → what its set-up returned or yielded.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

MESSAGE_PARAMETERS = ("bus", "capture", "params", "given")
STATE_PARAMETERS = ("bus", "capture", "params")


@dataclass(frozen=True, slots=True)
class Registration:
    """A decorated function: what it provides (a description or a state name), for
    which provider (``None``: the provider being verified)."""

    name: str
    provider: str | None
    function: Callable[..., Any]

    @property
    def location(self) -> str:
        """``module.function (file.py:12)``, for messages that must point at user code."""
        fn = inspect.unwrap(self.function)
        code = getattr(fn, "__code__", None)
        where = f" ({code.co_filename}:{code.co_firstlineno})" if code else ""
        return f"{fn.__module__}.{fn.__qualname__}{where}"

    def call(self, available: dict[str, Any]) -> Any:
        wanted = inspect.signature(self.function).parameters
        return self.function(**{name: available[name] for name in wanted if name in available})


class ProviderRegistry:
    """The ``@provides`` and ``@provider_state`` functions of a test session.

    A module imported again (pytest's own test runs do that) replaces its earlier
    registrations; two different functions claiming one description is an error.
    """

    def __init__(self) -> None:
        self._messages: dict[tuple[str | None, str], Registration] = {}
        self._states: dict[tuple[str | None, str], Registration] = {}

    def __bool__(self) -> bool:
        return bool(self._messages or self._states)

    def provides(self, description: str, *, provider: str | None = None) -> Callable[[F], F]:
        """Register the function that produces the message ``description``."""
        return self._decorator(
            self._messages, "@provides", description, provider, MESSAGE_PARAMETERS
        )

    def provider_state(self, name: str, *, provider: str | None = None) -> Callable[[F], F]:
        """Register the set-up of the provider state ``name``."""
        return self._decorator(self._states, "@provider_state", name, provider, STATE_PARAMETERS)

    def message_function(self, description: str, provider: str) -> Registration | None:
        return self._messages.get((provider, description)) or self._messages.get(
            (None, description)
        )

    def state_function(self, name: str, provider: str) -> Registration | None:
        return self._states.get((provider, name)) or self._states.get((None, name))

    def descriptions(self, provider: str) -> list[str]:
        return sorted({name for (owner, name) in self._messages if owner in (None, provider)})

    def providers(self) -> set[str | None]:
        """The provider names the registrations give (``None``: none given)."""
        return {owner for owner, _ in [*self._messages, *self._states]}

    def registrations(self) -> list[Registration]:
        return [*self._messages.values(), *self._states.values()]

    def clear(self) -> None:
        self._messages.clear()
        self._states.clear()

    def _decorator(
        self,
        table: dict[tuple[str | None, str], Registration],
        kind: str,
        name: str,
        provider: str | None,
        allowed: tuple[str, ...],
    ) -> Callable[[F], F]:
        if not isinstance(name, str) or not name:
            raise TypeError(f"{kind} needs the name it provides, as a non-empty string")

        def register(fn: F) -> F:
            registration = Registration(name, provider, fn)
            unknown = [p for p in inspect.signature(fn).parameters if p not in allowed]
            if unknown:
                raise TypeError(
                    f"{kind}({name!r}) {registration.location} asks for "
                    f"{', '.join(map(repr, unknown))}; it can take: {', '.join(allowed)}"
                )
            earlier = table.get((provider, name))
            if earlier is not None and not _same_function(earlier.function, fn):
                raise ValueError(
                    f"{kind}({name!r}) is registered twice: {earlier.location} and "
                    f"{registration.location}"
                )
            table[(provider, name)] = registration
            return fn

        return register


def _same_function(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    """The same source function, possibly from a re-imported module."""
    return (a.__module__, a.__qualname__) == (b.__module__, b.__qualname__)


REGISTRY = ProviderRegistry()
"""The registry ``provides`` and ``provider_state`` write to, and the plugin reads."""
provides = REGISTRY.provides
provider_state = REGISTRY.provider_state
