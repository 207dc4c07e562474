"""Serving a real registered sklearn model: resolve, fetch, launch, proxy, log, stop, CLI."""

from __future__ import annotations

import csv
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.serving.served_models import (
    FEATURES,
    LoggedClassifier,
    child_pids,
    group_pids,
    log_classifier,
)

from flowdeck.serving import (
    InferenceLog,
    LaunchOptions,
    ServerProcess,
    fetch_model,
    free_port,
    resolve,
)
from flowdeck.store import open_store

pytestmark = pytest.mark.slow

READY_S = 300.0  # generous: a loaded 2-core machine imports MLflow slowly
SPLIT = {"dataframe_split": FEATURES.iloc[:4].to_dict(orient="split")}


@pytest.fixture(scope="module")
def classifier(tmp_path_factory: pytest.TempPathFactory) -> LoggedClassifier:
    return log_classifier(tmp_path_factory.mktemp("serving-store"))


@pytest.fixture(scope="module")
def served(classifier: LoggedClassifier) -> Iterator[ServerProcess]:
    """One server of ``models:/clf@champion`` shared by the module's tests."""
    store = open_store(str(classifier.db_path))
    ref = resolve(store, "models:/clf@champion")
    server = ServerProcess.start(fetch_model(store, ref), LaunchOptions(), ref=ref)
    try:
        assert server.wait_until_ready(READY_S), server.log_text()
        yield server
    finally:
        server.stop()


def _post(url: str, payload: object) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url + "/invocations",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _model_dir(classifier: LoggedClassifier) -> Path:
    store = open_store(str(classifier.db_path))
    return fetch_model(store, resolve(store, "models:/clf/1"))


def test_alias_resolves_to_its_version(classifier):
    store = open_store(str(classifier.db_path))
    ref = resolve(store, "models:/clf@champion")
    assert (ref.resolved_version, ref.name, ref.alias) == ("1", "clf", "champion")
    assert ref.model_id == classifier.model_id
    assert "clf v1" in ref.label and "@champion" in ref.label


def test_every_uri_form_fetches_the_same_model(classifier):
    store = open_store(str(classifier.db_path))
    folders = {
        fetch_model(store, resolve(store, uri)).resolve()
        for uri in (
            "models:/clf/1",
            "models:/clf@champion",
            "models:/clf/latest",
            f"models:/{classifier.model_id}",
            f"runs:/{classifier.run_id}/model",
        )
    }
    assert len(folders) == 1
    assert (folders.pop() / "MLmodel").is_file()


def test_unknown_alias_is_a_plain_error(classifier):
    from flowdeck.serving import ModelNotServable

    store = open_store(str(classifier.db_path))
    with pytest.raises(ModelNotServable, match="no alias @nope"):
        resolve(store, "models:/clf@nope")


def test_ping_and_health_answer(served):
    assert served.state == "running"
    assert served.ping()
    assert served.health() is not None
    assert served.url == f"http://127.0.0.1:{served.port}"
    assert served.port != served.backend_port


def _pyfunc_predictions(model_dir: Path) -> list[int]:
    """What MLflow's own loader predicts for the first four rows."""
    import mlflow

    predicted = mlflow.pyfunc.load_model(str(model_dir)).predict(FEATURES.iloc[:4])
    return [int(value) for value in predicted]


def test_predictions_through_the_proxy_equal_pyfunc(served):
    expected = _pyfunc_predictions(served.model_dir)
    status, body = _post(served.url, SPLIT)
    assert status == 200
    assert json.loads(body)["predictions"] == expected
    records = {"dataframe_records": FEATURES.iloc[:4].to_dict(orient="records")}
    status, body = _post(served.url, records)
    assert status == 200
    assert json.loads(body)["predictions"] == expected


def test_inference_log_records_the_request_and_exports_csv(served, tmp_path):
    status, body = _post(served.url, SPLIT)
    assert status == 200
    entry = served.inference_log.entries()[-1]
    sent = json.dumps(SPLIT)
    assert (entry.method, entry.path, entry.status) == ("POST", "/invocations", 200)
    assert entry.request_bytes == len(sent.encode()) and entry.request_body == sent
    assert entry.response_bytes == len(body) and entry.response_body == body.decode()
    assert entry.latency_ms > 0 and entry.port == served.port and entry.error is None
    assert served.inference_log.entries("invocations")[-1] == entry
    assert served.inference_log.entries("no-such-text") == []
    out = tmp_path / "log.csv"
    count = served.inference_log.to_csv(out)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert count == len(rows) >= 1
    assert rows[-1]["status"] == "200" and rows[-1]["request_body"] == sent
    # The file keeps it for a later reader (after the server stops, or in another process).
    kept = InferenceLog.for_model("models:/clf@champion").entries()
    assert kept[-1].time == entry.time


def test_bad_input_gets_the_servers_400_logged(served):
    status, body = _post(served.url, {"no_such_format": [1, 2]})
    assert status == 400
    assert json.loads(body)["error_code"]
    entry = served.inference_log.entries()[-1]
    assert entry.status == 400 and entry.response_body == body.decode()


def test_a_taken_port_is_refused_plainly(served):
    from flowdeck.serving import PortInUse

    with pytest.raises(PortInUse, match=f"Port {served.port}"):
        ServerProcess.start(served.model_dir, LaunchOptions(port=served.port))


def _broken_model(classifier: LoggedClassifier, tmp_path: Path) -> Path:
    """A copy of the model whose MLmodel names a loader module that does not exist."""
    folder = tmp_path / "broken"
    shutil.copytree(_model_dir(classifier), folder)
    (folder / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: flowdeck_no_such_loader\n"
    )
    return folder


def test_broken_model_fails_with_exit_code_and_log(classifier, tmp_path):
    folder = _broken_model(classifier, tmp_path)
    server = ServerProcess.start(folder, LaunchOptions())
    try:
        assert not server.wait_until_ready(READY_S)
        assert server.state == "failed"
        assert server.exit_code not in (None, 0)
        assert "flowdeck_no_such_loader" in server.log_text()
        assert group_pids(server.pid) == []
    finally:
        server.stop()


def test_restart_then_stop_leaves_no_process(served):
    port = served.port
    served.restart()
    assert served.wait_until_ready(READY_S), served.log_text()
    assert served.port == port
    assert _post(served.url, SPLIT)[0] == 200
    pgid = served.pid
    assert len(group_pids(pgid)) >= 2  # mlflow's CLI and the uvicorn it started
    served.stop()
    assert served.state == "stopped"
    assert group_pids(pgid) == []
    assert not served.ping()


def test_serve_command_prints_url_logs_requests_and_stops_on_sigterm(classifier):
    port = free_port()
    command = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flowdeck",
            "serve",
            str(classifier.db_path),
            "models:/clf@champion",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in command.stdout], daemon=True
    ).start()

    def wait_for(text: str) -> str:
        while True:
            try:
                line = lines.get(timeout=READY_S)
            except queue.Empty:
                command.kill()
                pytest.fail(f"no line with {text!r}; stderr:\n{command.stderr.read()}")
            if text in line:
                return line

    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_for("Serving").strip().endswith(f"at {url}")
        server_pgids = {os.getpgid(pid) for pid in child_pids(command.pid)}
        assert server_pgids and command.pid not in server_pgids
        assert _post(url, SPLIT)[0] == 200
        assert "POST /invocations 200" in wait_for("/invocations")
        command.send_signal(signal.SIGTERM)
        assert command.wait(timeout=60) == 0
        assert all(group_pids(pgid) == [] for pgid in server_pgids)
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()


def test_serve_command_reports_a_server_that_dies_with_its_log(classifier, tmp_path):
    folder = _broken_model(classifier, tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "flowdeck", "serve", str(classifier.db_path), str(folder)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1
    assert "the model server stopped while starting (exit code 1)" in result.stderr
    assert "flowdeck_no_such_loader" in result.stderr
    assert "Serving" not in result.stdout


def test_serve_command_reports_an_unknown_model(classifier):
    result = subprocess.run(
        [sys.executable, "-m", "flowdeck", "serve", str(classifier.db_path), "models:/clf/9"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    assert "has no version 9" in result.stderr


def _virtualenv_unavailable(model_dir: Path) -> str | None:
    """Why MLflow's virtualenv manager cannot build the model's env here, else None."""
    import yaml

    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return "MLflow's virtualenv env manager needs pyenv, and pyenv is not on PATH"
    wanted = str(yaml.safe_load((model_dir / "python_env.yaml").read_text())["python"])
    listed = subprocess.run(
        [pyenv, "versions", "--bare"], capture_output=True, text=True, check=False
    ).stdout.split()
    if wanted not in listed:
        return f"pyenv has no Python {wanted}; building it needs python.org, unreachable here"
    return None


def test_virtualenv_environment_serves_the_same_predictions(classifier):
    """MLflow builds (or reuses, from its env cache) a virtualenv from python_env.yaml;
    its packages come from the package index, so the first run takes a minute or more."""
    model_dir = _model_dir(classifier)
    reason = _virtualenv_unavailable(model_dir)
    if reason:
        pytest.skip(reason)
    server = ServerProcess.start(model_dir, LaunchOptions(env="virtualenv"))
    try:
        assert server.builds_environment
        assert server.wait_until_ready(1800.0), server.log_text(last=80)
        status, body = _post(server.url, SPLIT)
        assert status == 200
        assert json.loads(body)["predictions"] == _pyfunc_predictions(model_dir)
        pgid = server.pid
        server.stop()
        assert group_pids(pgid) == []
    finally:
        server.stop()
