"""Protobuf for :func:`eventscope.schemas.check_compatibility`, with the registry's verdicts.

What the formats table needs from a format: :func:`parse`, :func:`is_parsed` and
:func:`backward_incompatibilities` (in :mod:`.checker`), plus the parsed type.  Behind
them: compiling .proto text with protoc (:mod:`.compile`) and comparing descriptors by
the registry's rules (:mod:`.diff`).  Of the formats, only this one imports grpcio-tools, so
checking Avro or JSON Schema never loads protoc.
"""

from eventscope.schemas.protobuf.checker import backward_incompatibilities, is_parsed, parse
from eventscope.schemas.protobuf.compile import CompiledSchema

__all__ = ["CompiledSchema", "backward_incompatibilities", "is_parsed", "parse"]
