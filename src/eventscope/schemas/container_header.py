"""The header of an Avro object container (data) file, read defensively.

``schema check --against sample.avro`` needs only the writer schema stored in the
file's header (Avro specification, "Object Container Files"): the four bytes
``Obj\\x01``, a metadata map of string keys to byte values, and a 16-byte sync marker.
A general-purpose Avro reader trusts the lengths it reads, so a damaged or hostile
header (a negative or huge length, a truncated varint) ends in ``IndexError`` or a
multi-gigabyte allocation.  This reader checks every count and length against the
bytes actually left and against a budget before acting on it, so any malformed header
is one :class:`ContainerHeaderError` saying what is wrong and at which byte offset.
"""

from __future__ import annotations

from typing import BinaryIO

MAGIC = b"Obj\x01"
SYNC_SIZE = 16
SCHEMA_KEY = "avro.schema"

# A long is zig-zag encoded in at most 10 bytes of 7 bits.
_MAX_VARINT_BYTES = 10


class ContainerHeaderError(ValueError):
    """A malformed data file header; the message says what and at which byte offset."""


def read_container_metadata(stream: BinaryIO, budget: int) -> dict[str, bytes]:
    """The metadata map of the container file ``stream`` is positioned at the start of.

    At most ``budget`` bytes of header are read; a header claiming more is refused.
    Raises :class:`ContainerHeaderError` for a file that is not an Avro data file or
    whose header is malformed.
    """
    return _HeaderReader(stream, budget).metadata()


def writer_schema(metadata: dict[str, bytes]) -> str:
    """The ``avro.schema`` entry as text."""
    schema = metadata.get(SCHEMA_KEY)
    if not schema:
        raise ContainerHeaderError("Avro data file has no writer schema in its header")
    try:
        return schema.decode("utf-8")
    except UnicodeDecodeError:
        raise ContainerHeaderError("the writer schema in its header is not UTF-8") from None


class _HeaderReader:
    def __init__(self, stream: BinaryIO, budget: int) -> None:
        self._stream = stream
        self._budget = budget
        self._offset = 0

    def metadata(self) -> dict[str, bytes]:
        if self._stream.read(len(MAGIC)) != MAGIC:
            raise ContainerHeaderError("not an Avro data file (no Obj\\x01 header)")
        self._offset = len(MAGIC)
        entries: dict[str, bytes] = {}
        while True:
            block_at = self._offset
            count = self._long()
            if count == 0:
                break
            if count < 0:  # a negative count is followed by the block's size in bytes
                count = -count
                size = self._long()
                if size < 0:
                    raise self._error(f"negative metadata block size {size}", block_at)
            # Each entry takes at least two bytes (two lengths): a larger count is a lie.
            if count > (self._budget - self._offset) // 2:
                raise self._error(f"metadata block claims {count:,} entries", block_at)
            for _ in range(count):
                key_at = self._offset
                key = self._bytes("metadata key")
                try:
                    name = key.decode("utf-8")
                except UnicodeDecodeError:
                    raise self._error("a metadata key is not UTF-8", key_at) from None
                entries[name] = self._bytes(f"metadata value {name!r}")
        self._take(SYNC_SIZE, "sync marker")
        return entries

    def _long(self) -> int:
        start = self._offset
        result = shift = 0
        for _ in range(_MAX_VARINT_BYTES):
            byte = self._take(1, "number")[0]
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return (result >> 1) ^ -(result & 1)
            shift += 7
        raise self._error("a number is longer than 10 bytes", start)

    def _bytes(self, what: str) -> bytes:
        start = self._offset
        length = self._long()
        if length < 0:
            raise self._error(f"negative length {length} for a {what}", start)
        return self._take(length, what)

    def _take(self, size: int, what: str) -> bytes:
        if self._offset + size > self._budget:
            raise self._error(
                f"the header would exceed {self._budget:,} bytes (reading a {what} of "
                f"{size:,} bytes)",
                self._offset,
            )
        data = self._stream.read(size)
        if len(data) < size:
            raise self._error(f"the file ends inside the header (in a {what})", self._offset)
        self._offset += size
        return data

    def _error(self, reason: str, offset: int) -> ContainerHeaderError:
        return ContainerHeaderError(f"malformed Avro data file header at byte {offset}: {reason}")
