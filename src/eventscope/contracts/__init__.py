"""Pact message contracts: consumer expectations, provider verification, schema checks.

Consumer side: :class:`MessagePact` (or the ``message_pact`` pytest fixture) declares the
messages a consumer expects, with Pact matchers, and delivers each example to the real
handler.  Provider side: :func:`provides` and :func:`provider_state` name the code that
produces each message; :func:`verify_provider` (or the pytest plugin) replays every
consumer's expectations against it.  :func:`check_interaction` validates a contract's
example body against the schema registered for its destination, and :func:`check_sent`
what the provider really sent (the plugin does both), the subject found by a Confluent
:class:`SubjectNameStrategy`.

pact-python is imported only when a pact is written or verified.  The pytest plugin
(:mod:`eventscope.pytest_plugin`) imports this package only for a run that uses
contracts.
"""

from eventscope.contracts.capture import CapturedMessage, MessageCapture
from eventscope.contracts.consumer import ExpectedMessage, MessagePact, PactFiles, memory_message
from eventscope.contracts.errors import ContractError
from eventscope.contracts.headers import (
    EVENT_ID_PATTERN,
    PUBLISHED_AT_PATTERN,
    TRACEPARENT_PATTERN,
    eventscope_headers,
)
from eventscope.contracts.pact_files import MessageInteraction, PactFileError, read_pact
from eventscope.contracts.provider import REGISTRY, ProviderRegistry, provider_state, provides
from eventscope.contracts.schema_check import SchemaVerdict, check_interaction, subject_for
from eventscope.contracts.schema_source import (
    DirectorySource,
    RegistrySource,
    ResolvedSchema,
    SchemaSource,
    SchemaUnavailable,
)
from eventscope.contracts.sent_check import SentVerdict, check_sent
from eventscope.contracts.subject_names import SubjectNameStrategy, record_name
from eventscope.contracts.verification import (
    BrokerSource,
    InteractionOutcome,
    Mismatch,
    VerificationRun,
    verify_provider,
)

__all__ = [
    "EVENT_ID_PATTERN",
    "PUBLISHED_AT_PATTERN",
    "REGISTRY",
    "TRACEPARENT_PATTERN",
    "BrokerSource",
    "CapturedMessage",
    "ContractError",
    "DirectorySource",
    "ExpectedMessage",
    "InteractionOutcome",
    "MessageCapture",
    "MessageInteraction",
    "MessagePact",
    "Mismatch",
    "PactFileError",
    "PactFiles",
    "ProviderRegistry",
    "RegistrySource",
    "ResolvedSchema",
    "SchemaSource",
    "SchemaUnavailable",
    "SchemaVerdict",
    "SentVerdict",
    "SubjectNameStrategy",
    "VerificationRun",
    "check_interaction",
    "check_sent",
    "eventscope_headers",
    "memory_message",
    "provider_state",
    "provides",
    "read_pact",
    "record_name",
    "subject_for",
    "verify_provider",
]
