"""Serving's parts without a model server: options, code warnings, the log and the proxy."""

from __future__ import annotations

import csv
import http.client
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from tests.serving.served_models import save_python_model

from flowdeck.serving import (
    InferenceEntry,
    InferenceLog,
    InferenceProxy,
    LaunchOptions,
    RemoteHostRefused,
    ServingError,
    flavor_runs_code,
    free_port,
    is_loopback,
    remote_warning,
)
from flowdeck.serving.options import serve_argv


def test_loopback_hosts_need_no_consent():
    for host in ("127.0.0.1", "::1", "localhost", "[::1]"):
        assert is_loopback(host) and remote_warning(host) is None
        assert LaunchOptions(host=host).host == host


def test_a_remote_host_needs_an_explicit_choice():
    with pytest.raises(RemoteHostRefused, match="0.0.0.0"):
        LaunchOptions(host="0.0.0.0")
    assert LaunchOptions(host="0.0.0.0", allow_remote=True).allow_remote
    assert "other machines" in (remote_warning("0.0.0.0") or "")


def test_bad_options_are_refused_plainly(tmp_path):
    for bad in ({"port": 70000}, {"workers": 0}, {"timeout": 0}, {"env": str(tmp_path / "py")}):
        with pytest.raises(ServingError):
            LaunchOptions(**bad)


def test_argv_runs_mlflow_models_serve_without_a_shell(tmp_path):
    import sys

    argv = serve_argv(tmp_path, LaunchOptions(workers=2, timeout=30), 5123, "127.0.0.1")
    assert argv[:5] == [sys.executable, "-m", "mlflow", "models", "serve"]
    assert argv[5:] == [
        "-m", str(tmp_path), "--env-manager", "local", "-p", "5123",
        "-h", "127.0.0.1", "-w", "2", "-t", "30",
    ]  # fmt: skip
    virtual = serve_argv(tmp_path, LaunchOptions(env="virtualenv"), 1, "127.0.0.1")
    assert virtual[virtual.index("--env-manager") + 1] == "virtualenv"
    chosen = serve_argv(tmp_path, LaunchOptions(env=sys.executable), 1, "127.0.0.1")
    assert chosen[0] == sys.executable and "local" in chosen


def test_python_model_warns_that_loading_runs_code(tmp_path):
    folder = save_python_model(tmp_path)
    warning = flavor_runs_code(folder / "MLmodel")
    assert warning and "cloudpickle" in warning
    assert flavor_runs_code(folder) == warning


def _mlmodel(tmp_path: Path, flavors: dict) -> Path:
    path = tmp_path / "MLmodel"
    path.write_text(yaml.safe_dump({"flavors": flavors}))
    return path


def test_pickled_sklearn_warns_and_skops_does_not(tmp_path):
    pyfunc = {"loader_module": "mlflow.sklearn", "model_path": "model.pkl"}
    pickled = {"pickled_model": "model.pkl", "serialization_format": "cloudpickle"}
    warning = flavor_runs_code(_mlmodel(tmp_path, {"python_function": pyfunc, "sklearn": pickled}))
    assert warning and "sklearn model saved with cloudpickle" in warning
    skops = {"pickled_model": "model.skops", "serialization_format": "skops"}
    assert (
        flavor_runs_code(_mlmodel(tmp_path, {"python_function": pyfunc, "sklearn": skops})) is None
    )
    custom = {"loader_module": "my_loader", "code": "code"}
    assert "my_loader" in (flavor_runs_code(_mlmodel(tmp_path, {"python_function": custom})) or "")


def _entry(**changes: object) -> InferenceEntry:
    values = {
        "time": 1_700_000_000.0,
        "method": "POST",
        "path": "/invocations",
        "status": 200,
        "latency_ms": 1.5,
        "request_bytes": 10,
        "response_bytes": 5,
        "request_body": '{"inputs": [1]}',
        "response_body": "[2]",
    }
    values.update(changes)
    return InferenceEntry(**values)  # type: ignore[arg-type]


def test_log_is_bounded_filtered_kept_in_a_file_and_exported(tmp_path):
    path = tmp_path / "log.jsonl"
    log = InferenceLog(path, max_entries=3)
    seen: list[InferenceEntry] = []
    log.add_listener(seen.append)
    threads = [
        threading.Thread(target=log.record, args=(_entry(status=200 + i),)) for i in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(log) == 3 and len(seen) == 5
    assert [e.status for e in log.entries("20")] == [e.status for e in log.entries()]
    assert log.entries("nothing-like-this") == []
    with path.open("a") as handle:
        handle.write("{damaged\n")
    reopened = InferenceLog(path, max_entries=10)
    assert sorted(e.status for e in reopened.entries()) == [200, 201, 202, 203, 204]
    assert reopened.to_csv(tmp_path / "out.csv", "204") == 1
    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert rows[0]["status"] == "204" and rows[0]["request_body"] == '{"inputs": [1]}'


class _Echo(BaseHTTPRequestHandler):
    """A real backend: answers with the request body, unframed (chunked by http.server 1.1)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(body), 1000):
            part = body[start : start + 1000]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_proxy_forwards_chunked_bodies_and_truncates_logged_payloads(echo_port):
    log = InferenceLog(None)
    proxy = InferenceProxy("127.0.0.1", 0, echo_port, log, label="echo", payload_limit=100).start()
    try:
        body = bytes(range(256)) * 20
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
        # An iterable body with no length is sent chunked by http.client.
        connection.request("POST", "/invocations?x=1", body=iter([body[:3000], body[3000:]]))
        response = connection.getresponse()
        assert (response.status, response.read()) == (201, body)
        connection.close()
    finally:
        proxy.stop()
    (entry,) = log.entries()
    assert (entry.path, entry.status, entry.model) == ("/invocations?x=1", 201, "echo")
    assert entry.request_bytes == entry.response_bytes == len(body)
    assert entry.request_truncated and entry.response_truncated


def test_proxy_answers_502_when_the_model_server_is_down():
    log = InferenceLog(None)
    proxy = InferenceProxy("127.0.0.1", 0, free_port(), log).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
        connection.request("POST", "/invocations", body=b"{}")
        response = connection.getresponse()
        assert response.status == 502
        assert json.loads(response.read())["error_code"] == "BAD_GATEWAY"
    finally:
        proxy.stop()
    (entry,) = log.entries()
    assert entry.status == 502 and "unreachable" in (entry.error or "")


def test_serve_subcommand_has_its_own_help(capsys):
    from flowdeck.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    assert "MODEL_URI" in capsys.readouterr().out
