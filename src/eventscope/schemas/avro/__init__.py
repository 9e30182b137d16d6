"""Avro for :func:`eventscope.schemas.check_compatibility`, with the registry's verdicts.

What the formats table needs from a format: :func:`parse`, :func:`is_parsed` and
:func:`backward_incompatibilities` (in :mod:`.checker`), plus the parsed type.  The
parser (:mod:`.parser`), the parsed tree (:mod:`.model`), Avro's reader/writer
resolution (:mod:`.resolution`) and its verdict memo (:mod:`.memo`) sit behind them.
"""

from eventscope.schemas.avro.checker import backward_incompatibilities, is_parsed, parse
from eventscope.schemas.avro.model import AvroSchema

__all__ = ["AvroSchema", "backward_incompatibilities", "is_parsed", "parse"]
