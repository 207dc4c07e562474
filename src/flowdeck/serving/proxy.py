"""A small threaded HTTP reverse proxy that forwards to a model server and logs each request."""

from __future__ import annotations

import errno
import http.client
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flowdeck.serving.errors import PortInUse, ServingError
from flowdeck.serving.inference_log import (
    PAYLOAD_LIMIT,
    InferenceEntry,
    InferenceLog,
    decode_payload,
)
from flowdeck.serving.options import url_for

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
CHUNK = 1 << 16
MAX_BODY_BYTES = 1 << 30  # a request body larger than this is refused (413)
BAD_GATEWAY = b'{"error_code": "BAD_GATEWAY", "message": "The model server is not answering."}'


class _Server(ThreadingHTTPServer):
    """The listening socket; ``proxy`` points back at the InferenceProxy."""

    daemon_threads = True
    allow_reuse_address = True
    proxy: InferenceProxy


class InferenceProxy:
    """Listens on the user-facing host:port and forwards every request, verbatim, to the
    model server on ``127.0.0.1:target_port``, recording each one in ``log``."""

    def __init__(
        self,
        host: str,
        port: int,
        target_port: int,
        log: InferenceLog,
        *,
        label: str = "",
        timeout: float = 60.0,
        payload_limit: int = PAYLOAD_LIMIT,
    ) -> None:
        self.host = host
        self.target_port = target_port
        self.log = log
        self.label = label
        self.timeout = timeout
        self.payload_limit = payload_limit
        server_class = (
            type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
            if (":" in host)
            else _Server
        )
        try:
            self._server = server_class((host.strip("[]"), port), _Handler)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"Port {port} on {host} is taken by another program; choose another port "
                    "or leave it empty for a free one."
                ) from error
            raise ServingError(f"Cannot listen on {host}:{port}: {error.strerror}.") from error
        self._server.proxy = self
        self.port = int(self._server.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return url_for(self.host, self.port)

    def start(self) -> InferenceProxy:
        """Serve on a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"flowdeck-proxy-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and free the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    """Forwards one request to the model server and records it."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        """Quiet: the inference log records requests."""

    def _forward(self) -> None:
        """Handle any method: read the body, relay it, record the exchange once."""
        proxy = self.server.proxy
        self._started, self._clock = time.time(), time.perf_counter()
        self._recorded = False
        try:
            body = self._read_body()
        except ValueError as problem:
            status = 413 if "large" in str(problem) else 400
            self._record(b"", status, b"", 0, str(problem))
            self._reply(status, str(problem).encode())
            self.close_connection = True
            return
        try:
            self._relay(proxy, body)
        except (OSError, http.client.HTTPException) as problem:
            error = f"model server unreachable: {problem}"
            if self._recorded:  # the client went away while the answer was sent
                self.close_connection = True
            elif not self._head_flushed:  # nothing went out yet: answer 502 instead
                self._headers_buffer = []
                self._record(body, 502, BAD_GATEWAY, len(BAD_GATEWAY), error)
                self._reply(502, BAD_GATEWAY, "application/json")
            else:
                self._record(body, self._status, b"", 0, error)
                self.close_connection = True

    def _relay(self, proxy: InferenceProxy, body: bytes) -> None:
        """Send the request on and stream the answer back; the exchange is recorded just
        before its last bytes go out, so a client that has the answer finds it in the log."""
        self._head_flushed, self._status = False, 0
        connection = http.client.HTTPConnection(
            "127.0.0.1", proxy.target_port, timeout=proxy.timeout + 10
        )
        try:
            connection.putrequest(
                self.command, self.path, skip_host=True, skip_accept_encoding=True
            )
            connection.putheader("Host", f"127.0.0.1:{proxy.target_port}")
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    connection.putheader(name, value)
            if body or self.command in ("POST", "PUT", "PATCH"):
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            length = response.getheader("Content-Length")
            chunked = (
                length is None and self.command != "HEAD" and response.status not in (204, 304)
            )
            self._status = response.status
            self.send_response_only(response.status, response.reason)  # buffered
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            if length is not None:
                self.send_header("Content-Length", length)
            elif chunked:
                self.send_header("Transfer-Encoding", "chunked")
            kept, total, held = bytearray(), 0, b""
            while True:
                data = response.read1(CHUNK) if self.command != "HEAD" else b""
                if not data:
                    break
                total += len(data)
                if len(kept) <= proxy.payload_limit:
                    kept += data[: proxy.payload_limit + 1 - len(kept)]
                if held:
                    self._send_body(held, chunked)
                held = data
            self._record(body, response.status, bytes(kept), total, None)
            if held:
                self._send_body(held, chunked)
            if not self._head_flushed:
                self._flush_head()
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        finally:
            connection.close()

    def _flush_head(self) -> None:
        self._head_flushed = True
        self.end_headers()

    def _send_body(self, data: bytes, chunked: bool) -> None:
        """Write one piece of the answer (headers first, once)."""
        if not self._head_flushed:
            self._flush_head()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)

    def _read_body(self) -> bytes:
        """The request body: by Content-Length, or de-chunked."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(parts)
                if len(parts) + size > MAX_BODY_BYTES:
                    raise ValueError("request body too large")
                parts += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response_only(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _record(self, body: bytes, status: int, sent: bytes, total: int, error: str | None) -> None:
        """Add the exchange to the proxy's inference log (once per request)."""
        if self._recorded:
            return
        self._recorded = True
        proxy = self.server.proxy
        request_text, request_cut = decode_payload(body, proxy.payload_limit)
        response_text, response_cut = decode_payload(sent, proxy.payload_limit)
        proxy.log.record(
            InferenceEntry(
                time=self._started,
                method=self.command,
                path=self.path,
                status=status,
                latency_ms=(time.perf_counter() - self._clock) * 1000.0,
                request_bytes=len(body),
                response_bytes=total,
                request_body=request_text,
                response_body=response_text,
                request_truncated=request_cut,
                response_truncated=response_cut or total > len(sent),
                client=self.client_address[0] if self.client_address else "",
                error=error,
                model=proxy.label,
                port=proxy.port,
            )
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward
