"""A total deadline per HTTP request: a watchdog shuts the socket of an answer that takes too long.

``requests``' timeout applies to each socket read, so a server that trickles one byte at a
time never times out. Here every connection registers its socket with the ``Deadline`` of the
request running on its thread; when the deadline passes, the watchdog shuts that socket down,
the blocked read returns at once and the client reports "did not answer within N s".
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


class Deadline:
    """The time one request may take; ``expired`` says whether the watchdog fired."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._timer: threading.Timer | None = None
        self._ends = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left (at least a millisecond, so it can serve as a socket timeout)."""
        return max(0.001, self._ends - time.monotonic())

    def start(self) -> None:
        self.rearm(self.seconds)

    def rearm(self, seconds: float) -> None:
        """Give the request ``seconds`` more from now (a streamed body, chunk by chunk)."""
        with self._lock:
            if self.expired:
                return
            if self._timer is not None:
                self._timer.cancel()
            self._ends = time.monotonic() + seconds
            self._timer = threading.Timer(seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def stop(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._socket = sock
            if self.expired:
                self._shut()

    def _fire(self) -> None:
        with self._lock:
            self.expired = True
            self._shut()

    def _shut(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def watching(deadline: Deadline) -> Iterator[Deadline]:
    """Connections opened or reused on this thread while inside report to ``deadline``."""
    previous = getattr(_current, "deadline", None)
    _current.deadline = deadline
    try:
        yield deadline
    finally:
        _current.deadline = previous


class _Watched:
    """Mixin: hand the socket to the current deadline once the request is sent."""

    sock: socket.socket | None

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        deadline: Deadline | None = getattr(_current, "deadline", None)
        if deadline is not None:
            deadline.attach(self.sock)
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class WatchedHTTPConnection(_Watched, HTTPConnection):
    """An HTTP connection whose answer the request's deadline can cut short."""


class WatchedHTTPSConnection(_Watched, HTTPSConnection):
    """An HTTPS connection whose answer the request's deadline can cut short."""


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose pools open watched connections."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }
