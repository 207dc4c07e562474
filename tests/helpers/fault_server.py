"""A fault-injecting HTTP server on loopback: hostile answers a real MLflow server never gives.

Not a stand-in for MLflow (normal cases use a real ``mlflow server``): each test tells it how to
misbehave for the endpoints it cares about: trickle bytes, send page tokens forever, echo the
``Authorization`` header in an error page, list an endless artifact folder, or answer with JSON
whose fields are missing or of the wrong type.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """What the client sent: method, path (no query), query values, headers (lower-case), body."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any = None

    def arg(self, name: str, default: str = "") -> str:
        """One query value, or a top-level field of the JSON body of a POST."""
        if name in self.query:
            return self.query[name][0]
        if isinstance(self.body, dict) and name in self.body:
            return str(self.body[name])
        return default


@dataclass
class Reply:
    """An answer sent at once."""

    status: int = 200
    body: bytes = b"{}"
    content_type: str = "application/json"


@dataclass
class Trickle:
    """An answer whose bytes come one at a time, ``every_s`` apart (headers first or not)."""

    body: bytes
    every_s: float
    headers_too: bool = False
    status: int = 200


def json_reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(payload).encode())


Respond = Callable[[Request], Reply | Trickle]


@dataclass
class FaultServer:
    """A threaded ``http.server`` on 127.0.0.1; ``respond`` decides every answer."""

    respond: Respond
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stopping = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                parts = urlsplit(self.path)
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                owner.requests.append(request)
                answer = owner.respond(request)
                if isinstance(answer, Trickle):
                    owner._trickle(self, answer)
                    return
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def _trickle(self, handler: BaseHTTPRequestHandler, answer: Trickle) -> None:
        head = (
            f"HTTP/1.1 {answer.status} OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(answer.body)}\r\n\r\n"
        ).encode()
        if not answer.headers_too:
            handler.wfile.write(head)
            handler.wfile.flush()
            head = b""
        try:
            for byte in head + answer.body:
                if self.stopping.wait(answer.every_s):
                    return
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
        except OSError:  # the client gave up: that is the point
            return

    def hits(self, path_part: str) -> int:
        """How many requests asked for a path containing ``path_part``."""
        return sum(path_part in request.path for request in self.requests)

    def close(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def fault_server(respond: Respond) -> Iterator[FaultServer]:
    """Run a ``FaultServer`` for the ``with`` block."""
    server = FaultServer(respond)
    try:
        yield server
    finally:
        server.close()


def endpoint_of(request: Request) -> str:
    """The MLflow endpoint name of a request path (``/api/2.0/mlflow/runs/search`` → ``runs/search``)."""
    for marker in ("/mlflow/", "/api/2.0/", "/api/3.0/"):
        if marker in request.path:
            return request.path.split(marker, 1)[1]
    return request.path.lstrip("/")


def by_endpoint(answers: dict[str, Any], default: Any = None) -> Respond:
    """Answer each endpoint with its JSON payload (a ``Reply``/``Trickle`` is sent as is)."""

    def respond(request: Request) -> Reply | Trickle:
        payload = answers.get(endpoint_of(request), default)
        if isinstance(payload, Reply | Trickle):
            return payload
        if payload is None:  # no such route, as an older server answers
            return Reply(404, b"Not Found", "text/plain")
        return json_reply(payload)

    return respond
