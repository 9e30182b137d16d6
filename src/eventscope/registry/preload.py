"""Fill an embedded registry from a schemas directory (see docs/schemas.md).

The directory is the team's history in git; the registry started for local work or a CI
job should hold exactly that history, so producers and consumers under test resolve the
same ids and versions they will meet in production.  Each subject directory becomes a
subject whose version numbers are the numbers in the file names (``v3-add-currency.avsc``
is version 3); a subject's ``compatibility`` in ``config.toml`` becomes its
subject-level setting when it differs from the registry's global level.

Versions are imported as they are, without a compatibility check: they were accepted
when they were written, and a history whose newest version breaks it is what
``eventscope schema check-dir`` reports.  Every file is parsed, so a registry never
starts with a schema it could not have accepted.

``[references]`` files are registered under a subject named after the reference (an
Avro full name, a .proto import path, a ``$ref`` URL), the convention Confluent's
tooling follows, and the subject's versions refer to them.
"""

from __future__ import annotations

from pathlib import Path

from eventscope.registry.errors import RegistryError
from eventscope.registry.models import SchemaReference, schema_type_of
from eventscope.registry.store import RegistryStore
from eventscope.schemas.directory import SchemaDirectoryError, Subject, load_schema_directory
from eventscope.schemas.files import SchemaFileError, load_schema, read_schema_text


def preload(store: RegistryStore, root: Path | str) -> int:
    """Register every subject's versions under ``root``, oldest first; the count.

    Raises :class:`SchemaDirectoryError` naming each file or setting that stops the
    directory loading (a bad ``config.toml``, mixed formats, a schema that does not
    parse): a half-loaded registry would answer with a history nobody wrote.
    """
    subjects = load_schema_directory(root)
    problems = [problem for subject in subjects for problem in subject.problems]
    if problems:
        raise SchemaDirectoryError("; ".join(problems))
    for subject in subjects:
        for version in subject.versions:
            try:
                load_schema(version.path, format=subject.format, references=subject.references)
            except SchemaFileError as exc:
                problems.append(str(exc))
    if problems:
        raise SchemaDirectoryError("; ".join(problems))
    count = 0
    for subject in subjects:
        count += _load_subject(store, subject)
    return count


def _load_subject(store: RegistryStore, subject: Subject) -> int:
    assert subject.format is not None  # a subject without problems has one format
    schema_type = schema_type_of(subject.format)
    references = _register_references(store, subject, schema_type)
    for version in subject.versions:
        store.register(
            subject.name,
            read_schema_text(version.path),
            schema_type,
            references,
            version=version.number,
            check=False,
        )
    if subject.mode != store.compatibility():
        store.set_compatibility(subject.mode, subject.name)
    return len(subject.versions)


def _register_references(
    store: RegistryStore, subject: Subject, schema_type: str
) -> tuple[SchemaReference, ...]:
    """Register the subject's reference files, each under its reference name.

    A referenced file may itself use another reference (``Money`` uses ``Currency``),
    and the directory does not say which: register those that parse on their own first,
    then the rest with the ones registered so far, until all are in.
    """
    pending = dict(subject.references)
    done: list[SchemaReference] = []
    while pending:
        before = len(pending)
        failures: list[str] = []
        for name, path in list(pending.items()):
            try:
                registered = store.register(
                    name, read_schema_text(path), schema_type, tuple(done), check=False
                )
            except RegistryError as exc:
                failures.append(f"{path}: {exc.message}")
                continue
            done.append(SchemaReference(name, name, registered.version))
            del pending[name]
        if len(pending) == before:  # none registered this round: none ever will be
            raise SchemaDirectoryError("; ".join(failures))
    return tuple(done)
