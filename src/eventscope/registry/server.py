"""A Confluent-compatible schema registry for local work, tests, CI and teams.

Serializers, the Confluent clients and :class:`~eventscope.registry.RegistryClient` talk
to it as to Confluent Schema Registry: the same paths, JSON shapes, content type and
error codes, for the part of the REST API that registering, reading and checking schemas
uses.  It needs no JVM, no Kafka and no container, starts in milliseconds, keeps its
state in memory, in SQLite or in PostgreSQL (see :mod:`eventscope.registry.storage`),
and refuses an incompatible schema with eventscope's own checker, so what a test
registers is judged exactly as ``eventscope schema check`` judges it.

From a test::

    with EmbeddedRegistry(schemas="schemas") as registry:   # preloaded, optional
        client = RegistryClient(registry.url)

From the shell: ``eventscope registry serve --port 8081 --schemas schemas`` (state in
``./eventscope-registry.db`` unless ``--storage`` says otherwise).

The HTTP server is waitress: a pure-Python WSGI server, maintained by the Pylons
project, whose event loop reads each request completely (under a deadline) before a
worker thread sees it.  A client that stalls or lies about its body's length therefore
holds a socket, never a worker; hundreds of idle connections cost no threads; the
listen backlog is 1024 rather than ``http.server``'s 5.  The routes are in
:mod:`eventscope.registry.routes`, the WSGI application in :mod:`eventscope.registry.app`.
"""

from __future__ import annotations

import ipaddress
import threading
from pathlib import Path
from typing import Any

from eventscope.registry.app import MAX_BODY, RegistryApp
from eventscope.registry.auth import Access, load_access
from eventscope.registry.storage import Storage, open_storage
from eventscope.registry.store import RegistryStore
from eventscope.schemas.verdicts import Mode

#: waitress's settings; see https://docs.pylonsproject.org/projects/waitress/en/stable/arguments.html
SERVER_SETTINGS: dict[str, Any] = {
    "threads": 16,  # workers: requests wait on the database more than on the CPU
    "backlog": 1024,  # connections the kernel queues before accepting
    "connection_limit": 1000,  # open connections at once (each is a socket, not a thread)
    "channel_timeout": 30,  # seconds a connection may sit idle or stall mid-request
    "cleanup_interval": 5,  # how often stalled connections are looked for
    # Above MAX_BODY the application answers 413 itself, in JSON, from the declared
    # length; waitress stops reading a body twice that size with its own 413.
    "max_request_body_size": 2 * MAX_BODY,
    "ident": "eventscope-registry",
    "asyncore_use_poll": True,  # select() fails beyond 1024 descriptors
}
_POLL_SECONDS = 0.05  # how soon stop() is noticed: tests start and stop many registries
#: ``anonymous=AUTO``: allowed everything on loopback without users, nothing otherwise.
AUTO = "auto"


def is_loopback(address: str) -> bool:
    """Whether only this machine can reach ``address`` (``localhost``, 127.0.0.0/8, ::1)."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # a host name: assume others can reach it
        return False


class EmbeddedRegistry:
    """A registry served from a background thread; ``start()`` answers its URL.

    ``port=0`` picks a free port (tests); ``schemas`` preloads a schemas directory
    (raising :class:`~eventscope.schemas.SchemaDirectoryError` for a bad one before
    anything listens); ``compatibility`` is the global level until one is set;
    ``storage`` keeps the state: a :class:`~eventscope.registry.storage.Storage` or its
    URL (``memory``, ``sqlite:///FILE``, ``postgresql://…``), in memory by default.
    A storage opened from a URL is closed by :meth:`stop`.  A connection idle or stalled
    mid-request for ``read_timeout`` seconds is closed.

    ``users`` is a users file (:mod:`eventscope.registry.auth`); ``anonymous`` the role
    of requests without credentials (``None``: they get 401).  By default anonymous
    requests may do anything on a loopback address without a users file (a developer's
    own registry), and nothing otherwise.
    """

    def __init__(
        self,
        *,
        address: str = "127.0.0.1",
        port: int = 0,
        schemas: Path | str | None = None,
        compatibility: Mode | str = Mode.BACKWARD,
        storage: Storage | str = "memory",
        read_timeout: int = 30,
        users: Path | str | None = None,
        anonymous: str | None = AUTO,
    ) -> None:
        self.address = address
        self.read_timeout = read_timeout
        if anonymous == AUTO:
            anonymous = "admin" if users is None and is_loopback(address) else None
        self.access = load_access(users, anonymous)
        self.port = port
        self._owned: Storage | None = None
        if isinstance(storage, str):
            storage = self._owned = open_storage(storage)
        self.store = RegistryStore(compatibility, storage)
        self.preloaded = 0
        if schemas is not None:
            from eventscope.registry.preload import preload

            try:
                self.preloaded = preload(self.store, schemas)
            except BaseException:
                if self._owned is not None:
                    self._owned.close()
                raise
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the embedded registry is not started")
        host, port = self._server.effective_host, self._server.effective_port
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}"

    def start(self) -> str:
        """Listen and serve in a daemon thread; raises ``OSError`` if the port is taken."""
        if self._server is None:
            try:
                from waitress.server import create_server
            except ImportError:
                raise RuntimeError(
                    "serving a registry needs waitress: pip install 'eventscope[registry]'"
                ) from None
            settings = {
                **SERVER_SETTINGS,
                "channel_timeout": self.read_timeout,
                "cleanup_interval": min(SERVER_SETTINGS["cleanup_interval"], self.read_timeout),
            }
            self._server = create_server(
                RegistryApp(self.store, access=self._access_checked()),
                host=self.address,
                port=self.port,
                **settings,
            )
            self._stopped.clear()
            self._thread = threading.Thread(
                target=_serve,
                args=(self._server, self._stopped),
                name="eventscope-registry",
                daemon=True,
            )
            self._thread.start()
        return self.url

    def _access_checked(self) -> Access | None:
        """``None`` when every request may do everything: no check at all."""
        if (
            not self.access.passwords
            and not self.access.tokens
            and self.access.anonymous == "admin"
        ):
            return None
        return self.access

    def wait(self) -> None:
        """Block until :meth:`stop` is called from elsewhere (or Ctrl-C)."""
        while not self._stopped.wait(0.2):
            pass

    def stop(self) -> None:
        if self._server is not None:
            self._server = None
            self._stopped.set()  # the loop closes everything itself (see _serve)
            if self._thread is not None:
                self._thread.join(timeout=10)
        self._thread = None
        if self._owned is not None:
            self._owned.close()
        self._stopped.set()

    def __enter__(self) -> EmbeddedRegistry:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _serve(server: Any, stopping: threading.Event) -> None:
    """Run waitress's event loop until ``stopping`` is set, then close every socket and
    pipe from this thread: closing them from another thread while the loop may still
    touch them would race it (a pipe's descriptor closed twice can close someone
    else's)."""
    from waitress import wasyncore

    while not stopping.is_set():
        wasyncore.loop(timeout=_POLL_SECONDS, map=server._map, use_poll=True, count=1)
    server.task_dispatcher.shutdown()
    wasyncore.close_all(server._map)
