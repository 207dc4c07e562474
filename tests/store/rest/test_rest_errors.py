"""RestStore against real failing HTTP servers on loopback: every failure becomes a typed error."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tests.helpers.servers import free_port

from flowdeck.core.errors import (
    AuthenticationFailed,
    CorruptStore,
    FlowdeckError,
    InvalidFilter,
    NotFound,
    PermissionDenied,
    ServerError,
    StoreTimeout,
    StoreUnreachable,
)
from flowdeck.store import open_store
from flowdeck.store.rest import RestStore

# (status, content type, body) for a request path; ``None`` means never answer.
Answer = tuple[int, str, bytes] | None


class LoopbackServer:
    """A tiny threaded ``http.server`` on 127.0.0.1 answering with ``respond(method, path)``."""

    def __init__(self, respond: Callable[[str, str, dict[str, str]], Answer]) -> None:
        self.hits: list[tuple[str, str, dict[str, str]]] = []
        self.release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                owner.hits.append((self.command, self.path, headers))
                answer = respond(self.command, self.path, headers)
                if answer is None:
                    owner.release.wait(10)
                    return
                status, content_type, body = answer
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[..., LoopbackServer]]:
    servers: list[LoopbackServer] = []

    def start(respond: Callable[[str, str, dict[str, str]], Answer]) -> LoopbackServer:
        server = LoopbackServer(respond)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def json_answer(status: int, payload: object) -> Answer:
    return status, "application/json", json.dumps(payload).encode()


def test_nothing_listening_is_unreachable_with_the_address() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    store = open_store(url)
    with pytest.raises(StoreUnreachable) as caught:
        store.experiments()
    assert not isinstance(caught.value, StoreTimeout)
    assert f"Cannot reach the MLflow server at {url}: connection refused" in str(caught.value)


def test_unknown_host_is_unreachable() -> None:
    store = RestStore("http://no-such-host.invalid:5000", timeout=5)
    with pytest.raises(StoreUnreachable, match="could not be resolved"):
        store.experiments()


def test_server_error_shows_the_servers_message(serve: Callable[..., LoopbackServer]) -> None:
    server = serve(
        lambda *_: json_answer(500, {"error_code": "INTERNAL_ERROR", "message": "db exploded"})
    )
    with pytest.raises(ServerError, match=r"failed \(500\): db exploded"):
        RestStore(server.url).experiments()


def test_non_json_page_is_a_server_error_in_plain_words(
    serve: Callable[..., LoopbackServer],
) -> None:
    page = b"<html><body><h1>Please log in</h1></body></html>"
    server = serve(lambda *_: (200, "text/html", page))
    with pytest.raises(ServerError) as caught:
        RestStore(server.url).experiments()
    assert "did not answer like an MLflow tracking server" in str(caught.value)
    assert "text/html" in str(caught.value)


def test_401_is_authentication_failed(serve: Callable[..., LoopbackServer]) -> None:
    server = serve(lambda *_: (401, "text/plain", b"You are not authenticated."))
    with pytest.raises(AuthenticationFailed, match="refused the credentials"):
        RestStore(server.url, username="ann", password="wrong").runs(["0"])


def test_403_is_permission_denied(serve: Callable[..., LoopbackServer]) -> None:
    server = serve(
        lambda *_: json_answer(403, {"error_code": "PERMISSION_DENIED", "message": "no read"})
    )
    with pytest.raises(PermissionDenied, match="no read"):
        RestStore(server.url).experiments()


def test_404_resource_is_not_found(serve: Callable[..., LoopbackServer]) -> None:
    server = serve(
        lambda *_: json_answer(
            404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Run 'x' not found"}
        )
    )
    with pytest.raises(NotFound, match="Run 'x' not found"):
        RestStore(server.url).run("x")


def test_bad_search_filter_is_invalid_filter(serve: Callable[..., LoopbackServer]) -> None:
    server = serve(
        lambda *_: json_answer(
            400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid clause(s)"}
        )
    )
    with pytest.raises(InvalidFilter, match="Invalid clause"):
        RestStore(server.url).runs(["0"], "metrics.x >")


def test_bad_request_outside_searches_is_a_plain_error(
    serve: Callable[..., LoopbackServer],
) -> None:
    server = serve(
        lambda *_: json_answer(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "bad id"})
    )
    with pytest.raises(FlowdeckError) as caught:
        RestStore(server.url).run("x")
    assert not isinstance(caught.value, InvalidFilter)
    assert "bad id" in str(caught.value)


def test_a_server_that_hangs_times_out(serve: Callable[..., LoopbackServer]) -> None:
    server = serve(lambda *_: None)
    started = time.monotonic()
    with pytest.raises(StoreTimeout, match="did not answer within 0.5 s"):
        RestStore(server.url, timeout=0.5).registered_models()
    assert time.monotonic() - started < 5


def test_timeout_comes_from_the_environment(
    serve: Callable[..., LoopbackServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "0.4")
    server = serve(lambda *_: None)
    with pytest.raises(StoreTimeout, match="0.4 s"):
        RestStore(server.url).experiments()


def test_gets_are_retried_twice_on_503_then_fail(serve: Callable[..., LoopbackServer]) -> None:
    server = serve(lambda *_: (503, "text/plain", b"busy"))
    with pytest.raises(ServerError, match="503"):
        RestStore(server.url).registered_models()
    assert len(server.hits) == 3


def test_a_transient_502_is_retried_and_succeeds(serve: Callable[..., LoopbackServer]) -> None:
    answers = iter([(502, "text/plain", b"gateway")])
    server = serve(lambda *_: next(answers, json_answer(200, {"registered_models": []})))
    assert RestStore(server.url).registered_models().items == []
    assert len(server.hits) == 3  # the 502 and its retry, then the search for prompts
    assert server.hits[0][1] == server.hits[1][1] != server.hits[2][1]


def test_searches_posted_are_not_retried(serve: Callable[..., LoopbackServer]) -> None:
    server = serve(lambda *_: (503, "text/plain", b"busy"))
    with pytest.raises(ServerError):
        RestStore(server.url).experiments()
    assert len(server.hits) == 1


def echo_authorization(method: str, path: str, headers: dict[str, str]) -> Answer:
    return json_answer(200, {"registered_models": [{"name": headers.get("authorization", "")}]})


def sent_authorization(store: RestStore) -> str:
    return store.registered_models().items[0].name


def test_basic_auth_wins_over_a_token_from_the_environment(
    serve: Callable[..., LoopbackServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(echo_authorization)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ann")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok")
    assert sent_authorization(RestStore(server.url)) == "Basic YW5uOnMzY3JldA=="
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    assert sent_authorization(RestStore(server.url)) == "Bearer tok"


def test_explicit_credentials_win_over_the_environment(
    serve: Callable[..., LoopbackServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(echo_authorization)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "ann")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret")
    assert sent_authorization(RestStore(server.url, token="abc")) == "Bearer abc"
    store = RestStore(server.url, username="bob", password="pw")
    assert sent_authorization(store) == "Basic Ym9iOnB3"


def test_no_credentials_send_no_authorization(
    serve: Callable[..., LoopbackServer], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    server = serve(echo_authorization)
    assert sent_authorization(RestStore(server.url)) == ""


def test_tls_settings_follow_mlflows_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
    assert RestStore("https://example.test").client.session.verify is False
    monkeypatch.delenv("MLFLOW_TRACKING_INSECURE_TLS")
    monkeypatch.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", "/etc/ssl/ca.pem")
    assert RestStore("https://example.test").client.session.verify == "/etc/ssl/ca.pem"
    monkeypatch.delenv("MLFLOW_TRACKING_SERVER_CERT_PATH")
    assert RestStore("https://example.test").client.session.verify is True


def hostile_artifacts(method: str, path: str, headers: dict[str, str]) -> Answer:
    if path.startswith("/api/2.0/mlflow/runs/get"):
        info = {"run_id": "r1", "experiment_id": "1", "artifact_uri": "mlflow-artifacts:/1/r1"}
        return json_answer(200, {"run": {"info": info}})
    if path.startswith("/api/2.0/mlflow/artifacts/list"):
        return json_answer(200, {"files": [{"path": "../../escape.txt", "is_dir": False}]})
    return 200, "application/octet-stream", b"pwned"


def test_server_names_that_escape_the_cache_are_refused(
    serve: Callable[..., LoopbackServer], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    server = serve(hostile_artifacts)
    store = RestStore(server.url)
    with pytest.raises(CorruptStore, match="outside"):
        store.fetch_artifact("r1", "")
    with pytest.raises(CorruptStore):
        store.list_artifacts("r1")
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == []


def test_user_paths_that_escape_are_refused_before_any_request(
    serve: Callable[..., LoopbackServer],
) -> None:
    server = serve(hostile_artifacts)
    store = RestStore(server.url)
    for path in ("../x", "/etc/passwd", "a/../../b", "C:\\temp\\x"):
        with pytest.raises(NotFound):
            store.fetch_artifact("r1", path)
    assert not [hit for hit in server.hits if "artifacts/list" in hit[1]]
