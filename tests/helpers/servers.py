"""Start and stop a real ``mlflow server`` child process on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

MLFLOW_BIN = Path(sys.executable).with_name("mlflow")
START_DEADLINE_S = 120.0  # a loaded 2-core machine needs ~40 s just to import mlflow.server
_CLIENT_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")
# A killed pytest cannot stop its servers (each a few hundred MB with its job runner): a small
# watcher per server ends the server's process group once the test process is gone.
_WATCHER = """
import os, signal, sys, time
test_process, group = int(sys.argv[1]), int(sys.argv[2])
while True:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        sys.exit()
    try:
        os.kill(test_process, 0)
    except ProcessLookupError:
        break
    time.sleep(1)
try:
    os.killpg(group, signal.SIGKILL)
except ProcessLookupError:
    pass
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A running ``mlflow server`` (its own process group) and what it serves."""

    url: str
    process: subprocess.Popen[bytes]
    workdir: Path
    log_path: Path
    watcher: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        """Stop the whole process group (uvicorn workers included)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        if self.watcher is not None:  # it sees the group gone within a second
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.watcher.wait(timeout=5)

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's log, for failure messages."""
        return self.log_path.read_text(errors="replace")[-chars:]


def start_mlflow_server(
    workdir: Path,
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    *,
    backend_uri: str | None = None,
    artifacts_destination: Path | None = None,
) -> ServerProcess:
    """Start ``mlflow server`` on a free loopback port and wait until /health answers.

    Defaults: a SQLite store ``workdir/mlflow.db`` and proxied artifacts in ``workdir/artifacts``.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    artifacts = artifacts_destination or workdir / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [
        str(MLFLOW_BIN),
        "server",
        "--backend-store-uri",
        backend_uri or f"sqlite:///{workdir / 'mlflow.db'}",
        "--artifacts-destination",
        str(artifacts),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        *extra_args,
    ]
    log_path = workdir / "server.log"
    child_env = {**os.environ, **(env or {})}
    for name in _CLIENT_VARIABLES:
        child_env.pop(name, None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv,
            cwd=workdir,
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    watcher = watch_for_test_exit(process.pid)
    server = ServerProcess(f"http://127.0.0.1:{port}", process, workdir, log_path, watcher)
    _wait_until_healthy(server)
    return server


def watch_for_test_exit(group: int) -> subprocess.Popen[bytes]:
    """Kill process group ``group`` when this test process dies, however it dies."""
    return subprocess.Popen(
        [sys.executable, "-c", _WATCHER, str(os.getpid()), str(group)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_until_healthy(server: ServerProcess) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"mlflow server exited early:\n{server.log_tail()}")
        try:
            if requests.get(f"{server.url}/health", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(
        f"mlflow server did not start within {START_DEADLINE_S:.0f} s:\n{server.log_tail()}"
    )
