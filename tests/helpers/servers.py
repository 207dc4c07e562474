"""Start and stop a real ``mlflow server`` child process on a free loopback port."""

from __future__ import annotations

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

    def stop(self) -> None:
        """Stop the whole process group (uvicorn workers included)."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

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
    server = ServerProcess(f"http://127.0.0.1:{port}", process, workdir, log_path)
    _wait_until_healthy(server)
    return server


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
