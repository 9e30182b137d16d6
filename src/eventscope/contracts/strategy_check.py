"""A contract's example body against the schema a subject name strategy picks.

:mod:`eventscope.contracts.schema_check` finds a destination's subject the default way
(``<destination>-value``); a project that registers its schemas under
``RecordNameStrategy`` or ``TopicRecordNameStrategy`` has no such subject, so its
consumers' example bodies are checked here instead, against the same candidates the
provider's messages are (:mod:`eventscope.contracts.sent_check`): the body must fit one.
"""

from __future__ import annotations

from eventscope.contracts.pact_files import MessageInteraction
from eventscope.contracts.schema_check import SchemaVerdict, no_destination, unchecked_reason
from eventscope.contracts.schema_source import SchemaSource, SchemaUnavailable
from eventscope.contracts.sent_check import problems_of
from eventscope.contracts.subject_names import SubjectNameStrategy


def check_interaction_by_strategy(
    interaction: MessageInteraction, source: SchemaSource, strategy: SubjectNameStrategy
) -> SchemaVerdict:
    destination = interaction.destination
    if destination is None:
        return no_destination()
    try:
        schemas = source.resolve(destination, strategy)
    except SchemaUnavailable as exc:
        return SchemaVerdict(None, (str(exc),))
    problems: list[str] = []
    for schema in schemas:
        label = schema.label
        unchecked = unchecked_reason(interaction.body, interaction.content_type, schema.format)
        if unchecked:
            return SchemaVerdict(None, unchecked=unchecked, label=label)
        found = problems_of(interaction.body, schema)
        if not found:
            return SchemaVerdict(None, label=label)
        prefix = f"{label}: " if len(schemas) > 1 else ""
        problems += [prefix + problem for problem in found]
    label = schemas[0].label if len(schemas) == 1 else "of any of its candidate subjects"
    return SchemaVerdict(None, tuple(problems), label=label)
