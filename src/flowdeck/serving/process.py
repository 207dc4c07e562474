"""MLflow's scoring server as a child process group behind Flowdeck's inference proxy."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from flowdeck.serving.errors import ServingError
from flowdeck.serving.inference_log import InferenceLog
from flowdeck.serving.interpreters import child_environment, running_from_bundle
from flowdeck.serving.options import (
    ENV_CURRENT,
    ENV_VIRTUALENV,
    LaunchOptions,
    free_port,
    serve_argv,
)
from flowdeck.serving.proxy import InferenceProxy

if TYPE_CHECKING:
    from flowdeck.core.task_state import TaskState
    from flowdeck.serving.models import ModelRef

MAX_LOG_LINES = 5000
PROBE_TIMEOUT_S = 2.0
POLL_S = 0.25
GROUP_EXIT_S = 3.0  # how long stop() waits for a SIGKILLed group to vanish
#: Words of MLflow's and pip's start-up output worth showing as progress while starting.
PROGRESS_WORDS = (
    "creating",
    "installing",
    "collecting",
    "downloading",
    "building",
    "successfully",
    "environment",
    "python",
    "started server",
    "waiting for application",
    "uvicorn running",
    "booting",
    "listening",
)

STARTING, RUNNING, STOPPED, FAILED = "starting", "running", "stopped", "failed"


class LogLine(NamedTuple):
    """One line of the server's merged stdout/stderr."""

    seq: int  # 1, 2, … in arrival order (for incremental reads)
    time: float  # epoch seconds when read
    text: str


class ServerProcess:
    """A launched model server: MLflow's scoring server in its own process group on a private
    port, and the inference proxy on the user's port (``url``, ``port``)."""

    def __init__(
        self,
        model_dir: Path,
        options: LaunchOptions,
        *,
        log: InferenceLog | None = None,
        ref: ModelRef | None = None,
        label: str = "",
    ) -> None:
        self.model_dir = Path(model_dir)
        self.options = options
        self.ref = ref
        self.label = label or (ref.label if ref else self.model_dir.name)
        key = ref.uri if ref is not None else str(self.model_dir.resolve())
        self.inference_log = log if log is not None else InferenceLog.for_model(key)
        self._lock = threading.Lock()
        self._lines: deque[LogLine] = deque(maxlen=MAX_LOG_LINES)
        self._seq = 0
        self._state = STOPPED
        self._settled = threading.Event()
        self._stopping = False
        self._process: subprocess.Popen[bytes] | None = None
        self._group_cleared = False
        self._proxy: InferenceProxy | None = None
        self.exit_code: int | None = None
        self.started_at: float | None = None
        self.ready_at: float | None = None
        self.backend_port: int | None = None
        self.argv: list[str] = []
        self.port: int = options.port or 0

    # --- starting -----------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        model_dir: Path,
        options: LaunchOptions,
        *,
        log: InferenceLog | None = None,
        ref: ModelRef | None = None,
        label: str = "",
    ) -> ServerProcess:
        """Bind the proxy (raises ``PortInUse``), then launch the scoring server; returns at
        once in state ``starting`` (see ``wait_until_ready``)."""
        server = cls(model_dir, options, log=log, ref=ref, label=label)
        server._launch(options.port)
        return server

    def _launch(self, port: int | None) -> None:
        if not (self.model_dir / "MLmodel").is_file():
            raise ServingError(f"{self.model_dir} holds no MLmodel file.")
        self.backend_port = free_port("127.0.0.1")
        self.argv = serve_argv(self.model_dir, self.options, self.backend_port, "127.0.0.1")
        self._proxy = InferenceProxy(
            self.options.host,
            port or 0,
            self.backend_port,
            self.inference_log,
            label=self.label,
            timeout=float(self.options.timeout),
        ).start()
        self.port = self._proxy.port
        env = child_environment({"PYTHONUNBUFFERED": "1"})
        # MLflow starts ``uvicorn`` by name through bash: the interpreter's scripts come first.
        scripts = str(Path(self.argv[0]).parent)
        env["PATH"] = os.pathsep.join(p for p in (scripts, env.get("PATH", "")) if p)
        with self._lock:
            self._state, self.exit_code, self._stopping = STARTING, None, False
            self._group_cleared = False
            self._settled.clear()
            self.started_at, self.ready_at = time.time(), None
        self._append(f"$ {' '.join(self.argv)}")
        try:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=str(_work_dir()),
                start_new_session=True,
            )
        except OSError as error:
            self._proxy.stop()
            self._set_settled(FAILED)
            raise ServingError(f"Cannot start the model server: {error.strerror}.") from error
        process = self._process
        threading.Thread(target=self._read, args=(process,), daemon=True).start()
        threading.Thread(target=self._watch, args=(process,), daemon=True).start()

    # --- what the UI reads --------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The user-facing URL (the proxy's)."""
        from flowdeck.serving.options import url_for

        return url_for(self.options.host, self.port)

    @property
    def pid(self) -> int | None:
        """The scoring server's process id (also its process group id)."""
        return self._process.pid if self._process is not None else None

    @property
    def state(self) -> str:
        """``starting``, ``running``, ``stopped`` or ``failed``."""
        with self._lock:
            return self._state

    @property
    def uptime_s(self) -> float | None:
        """Seconds since the server answered its first ``/ping`` (None when not running)."""
        with self._lock:
            if self._state != RUNNING or self.ready_at is None:
                return None
            return time.time() - self.ready_at

    def log_lines(self, since: int = 0, last: int | None = None) -> list[LogLine]:
        """The kept log lines with ``seq > since`` (the last ``last`` of them if given)."""
        with self._lock:
            lines = [line for line in self._lines if line.seq > since]
        return lines[-last:] if last else lines

    def log_text(self, last: int | None = None) -> str:
        """The log as ``HH:MM:SS text`` lines."""
        return "\n".join(
            f"{time.strftime('%H:%M:%S', time.localtime(line.time))} {line.text}"
            for line in self.log_lines(last=last)
        )

    def startup_progress(self) -> str | None:
        """While starting: the latest progress line (environment creation, installs)."""
        if self.state != STARTING:
            return None
        for line in reversed(self.log_lines(last=50)):
            lowered = line.text.lower()
            if any(word in lowered for word in PROGRESS_WORDS):
                return line.text
        return None

    # --- health -------------------------------------------------------------------------------

    def _get(self, path: str) -> tuple[int, bytes] | None:
        """GET on the scoring server's private port (not logged by the proxy)."""
        if self.backend_port is None:
            return None
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.backend_port, timeout=PROBE_TIMEOUT_S
        )
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read(1 << 20)
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()

    def ping(self) -> bool:
        """True when the scoring server answers ``GET /ping`` with 200."""
        answer = self._get("/ping")
        return answer is not None and answer[0] == 200

    def health(self) -> dict | None:
        """``GET /health``: its JSON (or ``{"status": code, "text": body}``); None if absent."""
        answer = self._get("/health")
        if answer is None or answer[0] == 404:
            return None
        status, body = answer
        with contextlib.suppress(ValueError):
            parsed = json.loads(body)
            if isinstance(parsed, dict):
                return {"status": status, **parsed}
        return {"status": status, "text": body.decode("utf-8", errors="replace").strip()}

    def wait_until_ready(self, timeout_s: float, state: TaskState | None = None) -> bool:
        """Wait until the server answers ``/ping`` (True) or dies / times out (False);
        ``state`` is checked while waiting (raises Cancelled)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if state is not None:
                state.check()
            if self._settled.wait(min(POLL_S, max(0.0, deadline - time.monotonic()))):
                return self.state == RUNNING
        return self.state == RUNNING

    # --- stopping -----------------------------------------------------------------------------

    def stop(self, grace_s: float = 5) -> None:
        """SIGTERM to the whole process group, SIGKILL after ``grace_s``; frees the port."""
        process = self._process
        with self._lock:
            self._stopping = True
        if process is not None and not self._group_cleared:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            self._clear_group(process)
        if self._proxy is not None:
            self._proxy.stop()
        with self._lock:
            if self._state in (STARTING, RUNNING):
                self._state = STOPPED
            if process is not None and self.exit_code is None:
                self.exit_code = process.returncode
        self._settled.set()

    def restart(self) -> ServerProcess:
        """Stop, then start again with the same model, options and port."""
        self.stop()
        self._launch(self.port or self.options.port)
        return self

    # --- threads ------------------------------------------------------------------------------

    def _append(self, text: str) -> None:
        with self._lock:
            self._seq += 1
            self._lines.append(LogLine(self._seq, time.time(), text))

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        """Reader thread: every output line into the ring buffer."""
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            self._append(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        process.stdout.close()

    def _watch(self, process: subprocess.Popen[bytes]) -> None:
        """Watcher thread: ``starting`` → ``running`` on the first ping, then the exit."""
        while process.poll() is None and not self._stopping:
            if self.ping():
                with self._lock:
                    if self._state == STARTING and process is self._process:
                        self._state, self.ready_at = RUNNING, time.time()
                self._settled.set()
                break
            time.sleep(POLL_S)
        code = process.wait()
        with self._lock:
            if process is not self._process:
                return
            self.exit_code = code
            self._state = STOPPED if self._stopping else FAILED
        if not self._stopping:
            self._clear_group(process)
            self._append(f"[flowdeck] the model server exited with code {code}")
            if self._proxy is not None:
                self._proxy.stop()
        self._settled.set()

    def _clear_group(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL what is left of the group once its leader is gone (workers, shells);
        only once, so a later stop never signals a group id the system has reused."""
        with self._lock:
            if self._group_cleared or process is not self._process:
                return
            self._group_cleared = True
        _signal_group(process.pid, signal.SIGKILL)
        deadline = time.monotonic() + GROUP_EXIT_S
        while _group_exists(process.pid) and time.monotonic() < deadline:
            time.sleep(0.02)  # SIGKILL is delivered asynchronously

    def _set_settled(self, state: str) -> None:
        with self._lock:
            self._state = state
        self._settled.set()

    @property
    def environment(self) -> str:
        """The environment in words (``current Python``, ``virtualenv``, an interpreter); from
        the bundle, the Python found on PATH is named."""
        if self.options.env == ENV_CURRENT and running_from_bundle() and self.argv:
            return self.argv[0]
        return self.options.env_label

    @property
    def builds_environment(self) -> bool:
        """True when start-up first builds a virtualenv (may take minutes)."""
        return self.options.env == ENV_VIRTUALENV


def _work_dir() -> Path:
    """The servers' working folder (in Flowdeck's cache, never a store's folder)."""
    from flowdeck.paths import cache_dir

    folder = cache_dir() / "serving"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _group_exists(pgid: int) -> bool:
    """True while any process (a zombie not yet reaped included) is in the group."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to a process group, ignoring one that is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
