"""Opening the files the schema commands read: regular files only, and never unbounded.

A path on a command line or in a schemas directory can name anything: a FIFO (opening
it for reading waits for a writer forever), ``/dev/zero`` (reading it never ends), a
directory, or a multi-gigabyte file.  Every schema, reference, ``config.toml`` and
Avro data file is opened here, so each of those gets the same one-line refusal instead
of a hang or a ``MemoryError``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

#: The largest schema, reference or ``config.toml`` file read (32 MiB).  Registry
#: schemas live in Kafka records, which default to 1 MiB; this leaves room for
#: generated giants while bounding what a wrong path can cost.
MAX_FILE_BYTES = 32 * 1024 * 1024

# A FIFO opened without O_NONBLOCK blocks until someone opens it for writing.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


class FileRefused(ValueError):
    """A file that cannot be read as a schema file; the message is the reason only."""


def open_regular_file(path: Path) -> BinaryIO:
    """``path`` opened for binary reading, provided it is a regular file."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise FileRefused(os_reason(exc)) from None
    except ValueError:  # the only ValueError os.open raises
        raise FileRefused("the file name contains a NUL character") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileRefused(f"{_kind(mode)}, not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The whole content of the regular file ``path``, refused past ``limit`` bytes."""
    with open_regular_file(path) as stream:
        try:
            size = os.fstat(stream.fileno()).st_size
            if size > limit:
                raise FileRefused(_too_big(size, limit))
            data = stream.read(limit + 1)  # the file may have grown since fstat
        except OSError as exc:
            raise FileRefused(os_reason(exc)) from None
    if len(data) > limit:
        raise FileRefused(_too_big(len(data), limit))
    return data


def os_reason(exc: OSError) -> str:
    """An OS error as the few words a user needs."""
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a schema file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or str(exc)


def _too_big(size: int, limit: int) -> str:
    return (
        f"{size:,} bytes, larger than the {limit:,}-byte limit for schema files "
        "(see docs/schemas.md)"
    )


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a directory"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    return "is a special file"
