"""Local TCP servers that answer badly on purpose, for the hostile-input tests.

Each listens on a free port of 127.0.0.1 in a daemon thread and answers every
connection with the bytes it was given: all at once (junk, a wrong protocol, an
HTTP reply of the wrong shape) or one byte at a time (a server that drips).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress


@contextmanager
def serving(
    answer: Callable[[socket.socket], None], accepted: threading.Event | None = None
) -> Iterator[int]:
    """Run ``answer(connection)`` for every connection; yields the port.

    ``accepted`` is set when the first connection arrives.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stopped = threading.Event()

    def handle(connection: socket.socket) -> None:
        # OSError: the client gave up first, which is what these servers are for.
        with connection, suppress(OSError):
            answer(connection)

    def accept() -> None:
        while not stopped.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if accepted is not None:
                accepted.set()
            threading.Thread(target=handle, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopped.set()
        listener.close()


def replying(data: bytes) -> Callable[[socket.socket], None]:
    """Read the request, send ``data``, close."""

    def answer(connection: socket.socket) -> None:
        connection.settimeout(2)
        with suppress(TimeoutError):
            connection.recv(65536)
        connection.sendall(data)

    return answer


def http_reply(body: bytes, status: str = "200 OK") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def dripping(data: bytes, every: float) -> Callable[[socket.socket], None]:
    """Send ``data`` one byte per ``every`` seconds, forever repeating its last byte."""

    def answer(connection: socket.socket) -> None:
        connection.settimeout(every)
        with suppress(TimeoutError):
            connection.recv(65536)
        for i in range(100_000):
            connection.sendall(data[min(i, len(data) - 1) : min(i, len(data) - 1) + 1])
            time.sleep(every)

    return answer
