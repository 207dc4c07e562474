"""The app's local model servers: launched on a worker, watched, stopped when the app quits."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store

POLL_MS = 1000
HEALTH_EVERY = 5  # polls between /ping checks
STARTUP_S = 600  # a fresh virtualenv can take minutes; the job can be cancelled


@dataclass
class Served:
    """One server Flowdeck started, and what the Servers page shows of it."""

    number: int
    uri: str
    label: str
    store_name: str
    options: Any
    store: Store | None = None
    process: Any = None  # flowdeck.serving.ServerProcess once started
    model_dir: Any = None
    resolved_version: str | None = None
    started_at: float = field(default_factory=time.time)
    problem: str = ""  # why it could not start
    healthy: bool | None = None

    @property
    def state(self) -> str:
        if self.problem:
            return "failed"
        if self.process is None:
            return "starting"
        return str(self.process.state)

    @property
    def url(self) -> str:
        return str(self.process.url) if self.process is not None else ""

    def uptime_s(self) -> float:
        return time.time() - self.started_at


def launch(state: TaskState, store: Store, served: Served) -> Served:
    """Resolve and fetch the model, start the server, wait until ``/ping`` answers (a worker)."""
    from flowdeck.serving import ServerProcess, fetch_model, resolve

    if served.model_dir is None:  # not fetched by the launch dialog already
        state.progress(0, 3, f"Resolving {served.uri}")
        ref = resolve(store, served.uri)
        served.resolved_version = ref.resolved_version
        state.check()
        state.progress(1, 3, "Fetching the model's files")
        served.model_dir = fetch_model(store, ref, state=state)
        state.check()
    state.progress(2, 3, "Starting MLflow's scoring server")
    process = ServerProcess.start(served.model_dir, served.options, label=served.label)
    served.process = process
    if not process.wait_until_ready(STARTUP_S, state=state):
        from flowdeck.serving import ServingError

        exit_code = f" (exit code {process.exit_code})" if process.exit_code is not None else ""
        raise ServingError(f"The scoring server did not start{exit_code}.")
    return served


class ServerManager(QObject):
    """Every server of this app session; ``changed`` whenever one starts, stops or fails."""

    changed = Signal()

    def __init__(self, runner: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.servers: list[Served] = []
        self._numbers = 0
        self._ticks = 0
        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self._poll)

    def launch(
        self,
        store: Store,
        uri: str,
        label: str,
        options: Any,
        model_dir: Any = None,
        resolved_version: str | None = None,
    ) -> Served:
        """Start serving ``uri`` from ``store`` (listed at once as starting)."""
        self._numbers += 1
        served = Served(self._numbers, uri, label, store.display_name, options, store)
        served.model_dir, served.resolved_version = model_dir, resolved_version
        self.servers.append(served)
        self.changed.emit()
        self.runner.submit(
            launch,
            store,
            served,
            owner=self,
            store=store,
            label=f"Serving {label}",
            on_result=lambda _s: self._started(served),
            on_error=lambda error, _d: self._failed(served, error),
        )
        self.timer.start()
        return served

    def _started(self, served: Served) -> None:
        served.healthy = True
        self.changed.emit()

    def _failed(self, served: Served, error: BaseException) -> None:
        message = getattr(error, "message", None) or str(error)
        process = served.process
        if process is not None:
            tail = "\n".join(line.text for line in process.log_lines(last=10))
            if tail:
                message = f"{message}\n{tail}"
        served.problem = message
        self.changed.emit()

    def stop(self, served: Served) -> None:
        if served.process is not None:
            self.runner.submit(
                lambda _state, process: process.stop(),
                served.process,
                owner=self,
                label=f"Stopping {served.label}",
                on_result=lambda _r: self.changed.emit(),
            )

    def restart(self, served: Served) -> None:
        if served.process is not None:
            served.problem = ""

            def restarted(process: Any) -> None:
                if process is not None:
                    served.process = process
                self.changed.emit()

            self.runner.submit(
                lambda _state, process: process.restart(),
                served.process,
                owner=self,
                label=f"Restarting {served.label}",
                on_result=restarted,
                on_error=lambda error, _d: self._failed(served, error),
            )
            self.timer.start()

    def running(self) -> list[Served]:
        return [s for s in self.servers if s.state in ("starting", "running")]

    def stop_all(self) -> None:
        """Stop every server now (the app is quitting): blocking, but bounded by each grace."""
        for served in self.servers:
            if served.process is not None and served.state in ("starting", "running"):
                served.process.stop()
        self.changed.emit()

    def _poll(self) -> None:
        """Notice servers whose process died; every few ticks ask the running ones for /ping."""
        running = self.running()
        if not running:
            self.timer.stop()
        self._ticks += 1
        if self._ticks % HEALTH_EVERY == 0:
            processes = [
                s.process for s in running if s.process is not None and s.state == "running"
            ]
            if processes:
                self.runner.submit(
                    check_health,
                    processes,
                    key="health",
                    owner=self,
                    label="Checking the servers' health",
                    on_result=self._health,
                )
        self.changed.emit()

    def _health(self, answers: dict[int, bool]) -> None:
        for served in self.servers:
            if served.process is not None and id(served.process) in answers:
                served.healthy = answers[id(served.process)]
        self.changed.emit()


def check_health(state: TaskState, processes: list[Any]) -> dict[int, bool]:
    """``/ping`` of each running server (a worker: each answer waits on the network)."""
    answers = {}
    for process in processes:
        state.check()
        answers[id(process)] = bool(process.ping())
    return answers


def servers_of(shell: Any) -> ServerManager:
    """The shell's server manager, made on first use."""
    manager = getattr(shell, "servers", None)
    if manager is None:
        manager = ServerManager(shell.runner)
        shell.servers = manager
    return manager
