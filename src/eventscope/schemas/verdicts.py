"""The vocabulary of a compatibility verdict: the mode asked, and what breaks.

Kept in a leaf module (nothing from eventscope imported) so that every format package
can build :class:`Incompatibility` values without importing the module that composes
the modes — which in turn reaches the format packages through the formats table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Mode(enum.StrEnum):
    """Confluent Schema Registry compatibility levels."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        return self.value.endswith("_TRANSITIVE")

    @property
    def checks_backward(self) -> bool:
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def checks_forward(self) -> bool:
        return self.value.startswith(("FORWARD", "FULL"))


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """One reason a schema change breaks readers.

    ``type`` uses Confluent's vocabulary where it has a name for the problem
    (``READER_FIELD_MISSING_DEFAULT_VALUE``, ``TYPE_MISMATCH``, ``PROPERTY_REMOVED_...``),
    ``location`` is a JSON path (``#/properties/id``) or a field path (``Order.id``),
    and ``message`` is a sentence a person can act on.
    """

    type: str
    location: str
    message: str
    direction: str = "backward"
    version: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "location": self.location,
            "message": self.message,
            "direction": self.direction,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class CompatibilityResult:
    """The verdict for one candidate against its history."""

    mode: Mode
    format: str
    incompatibilities: tuple[Incompatibility, ...] = field(default_factory=tuple)

    @property
    def is_compatible(self) -> bool:
        return not self.incompatibilities

    def __bool__(self) -> bool:
        return self.is_compatible

    def to_dict(self) -> dict[str, Any]:
        return {
            "is_compatible": self.is_compatible,
            "mode": str(self.mode),
            "format": self.format,
            "incompatibilities": [i.to_dict() for i in self.incompatibilities],
        }
