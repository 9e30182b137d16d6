"""Schema compatibility with Confluent Schema Registry's verdicts."""

from eventscope.schemas.compatibility import (
    CompatibilityResult,
    Incompatibility,
    Mode,
    check_compatibility,
)
from eventscope.schemas.errors import SchemaParseError

__all__ = [
    "CompatibilityResult",
    "Incompatibility",
    "Mode",
    "SchemaParseError",
    "check_compatibility",
]
