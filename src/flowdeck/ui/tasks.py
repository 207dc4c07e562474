"""Runs store calls on a thread pool and delivers results, errors and progress on the GUI thread."""

from __future__ import annotations

import contextlib
import itertools
import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QRunnable, QThreadPool, Signal

from flowdeck.core.errors import FlowdeckError
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.store.locations import sqlite_path

log = logging.getLogger(__name__)

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException, str], None]
ProgressCallback = Callable[[int, int, str], None]

# How long a worker waits on a store lock before looking at its cancel flag again.
LOCK_POLL_S = 0.05

_store_locks: dict[str, threading.Lock] = {}
_store_locks_guard = threading.Lock()


def store_lock(store: Store | None) -> threading.Lock | None:
    """The process-wide lock serialising calls on one SQLite file; None for other stores."""
    if store is None or store.kind != "sql" or not store.location.lower().startswith("sqlite"):
        return None
    path = sqlite_path(store.location)
    key = str(path.resolve()) if path is not None else f"memory:{id(store)}"
    with _store_locks_guard:
        return _store_locks.setdefault(key, threading.Lock())


@dataclass(eq=False)
class TaskHandle:
    """A submitted task: cancel it, or ask whether it is still pending."""

    task_id: int
    key: str | None
    state: TaskState
    finished: bool = False
    on_result: ResultCallback | None = field(default=None, repr=False)
    on_error: ErrorCallback | None = field(default=None, repr=False)
    on_progress: ProgressCallback | None = field(default=None, repr=False)

    @property
    def cancelled(self) -> bool:
        return self.state.cancelled

    def cancel(self) -> None:
        """Cancel the task: the function sees ``state.cancelled``; nothing is delivered."""
        self.state.cancel()


class _Bridge(QObject):
    """Carries worker-thread reports to the GUI thread (lives there; emits are queued)."""

    finished = Signal(int, object, object, str)  # task id, result, error, traceback
    progressed = Signal(int, int, int, str)  # task id, done, total, text


class _Task(QRunnable):
    """Calls ``fn(state, *args)`` on a pool thread, holding the store's lock if it has one."""

    def __init__(
        self,
        handle: TaskHandle,
        bridge: _Bridge,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        lock: threading.Lock | None,
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._handle = handle
        self._bridge = bridge
        self._fn = fn
        self._args = args
        self._lock = lock

    def run(self) -> None:
        state = self._handle.state
        result: Any = None
        error: BaseException | None = None
        details = ""
        locked = False
        try:
            locked = self._acquire_lock(state)
            if locked:
                result = self._fn(state, *self._args)
        except FlowdeckError as exc:
            error = exc
        except Exception as exc:  # a bug: the caller shows the crash dialog
            error, details = exc, traceback.format_exc()
        finally:
            if locked and self._lock is not None:
                self._lock.release()
        with contextlib.suppress(RuntimeError):  # the runner and its bridge are gone
            self._bridge.finished.emit(self._handle.task_id, result, error, details)

    def _acquire_lock(self, state: TaskState) -> bool:
        if self._lock is None:
            return not state.cancelled
        while not state.cancelled:
            if self._lock.acquire(timeout=LOCK_POLL_S):
                if state.cancelled:
                    self._lock.release()
                    return False
                return True
        return False


class TaskRunner(QObject):
    """Submit blocking calls; callbacks run on the GUI thread, superseded results are dropped."""

    busy_changed = Signal(bool)
    progress = Signal(str, int, int)  # text, done, total

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._bridge = _Bridge()  # unparented: running tasks keep it alive via their reference
        self._bridge.finished.connect(self._deliver_finished)
        self._bridge.progressed.connect(self._deliver_progress)
        self._ids = itertools.count(1)
        self._pending: dict[int, TaskHandle] = {}
        self._latest_by_key: dict[str, int] = {}
        self.slowest_delivery_ms = 0.0  # GUI-thread time of the runner's own bookkeeping

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        key: str | None = None,
        store: Store | None = None,
        on_result: ResultCallback | None = None,
        on_error: ErrorCallback | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> TaskHandle:
        """Run ``fn(state, *args)`` on a worker; a task with the same ``key`` supersedes this one."""
        task_id = next(self._ids)
        bridge = self._bridge

        def report(done: int, total: int, text: str) -> None:
            with contextlib.suppress(RuntimeError):
                bridge.progressed.emit(task_id, done, total, text)

        handle = TaskHandle(
            task_id, key, TaskState(report), False, on_result, on_error, on_progress
        )
        if key is not None:
            previous = self._latest_by_key.get(key)
            if previous is not None and previous in self._pending:
                self._pending[previous].cancel()
            self._latest_by_key[key] = task_id
        was_busy = self.busy
        self._pending[task_id] = handle
        self._pool.start(_Task(handle, bridge, fn, args, store_lock(store)))
        if not was_busy:
            self.busy_changed.emit(True)
        return handle

    def cancel_all(self) -> None:
        """Cancel every pending task; none of them delivers anything."""
        for handle in list(self._pending.values()):
            handle.cancel()

    def wait_idle(self, timeout_ms: int = 5000) -> bool:
        """Process events until every task has finished and been delivered (for tests)."""
        deadline = time.monotonic() + timeout_ms / 1000
        while self._pending:
            if time.monotonic() > deadline:
                return False
            self._pool.waitForDone(5)
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        return True

    def _is_current(self, handle: TaskHandle) -> bool:
        if handle.cancelled:
            return False
        return handle.key is None or self._latest_by_key.get(handle.key) == handle.task_id

    def _deliver_progress(self, task_id: int, done: int, total: int, text: str) -> None:
        handle = self._pending.get(task_id)
        if handle is None or not self._is_current(handle):
            return
        self.progress.emit(text, done, total)
        if handle.on_progress is not None:
            self._call(handle.on_progress, done, total, text)

    def _deliver_finished(
        self, task_id: int, result: Any, error: BaseException | None, details: str
    ) -> None:
        started = time.perf_counter()
        handle = self._pending.pop(task_id, None)
        if handle is None:
            return
        handle.finished = True
        current = self._is_current(handle)
        if handle.key is not None and self._latest_by_key.get(handle.key) == task_id:
            del self._latest_by_key[handle.key]
        if not self._pending:
            self.busy_changed.emit(False)
        self.slowest_delivery_ms = max(
            self.slowest_delivery_ms, (time.perf_counter() - started) * 1000
        )
        if not current:
            return
        if error is None:
            if handle.on_result is not None:
                self._call(handle.on_result, result)
        elif handle.on_error is not None:
            self._call(handle.on_error, error, details)
        elif isinstance(error, FlowdeckError):
            log.warning("Unhandled task error: %s", error.message)
        else:
            sys.excepthook(type(error), error, error.__traceback__)

    @staticmethod
    def _call(callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception:  # a bug in a callback: report it, keep the other tasks going
            sys.excepthook(*sys.exc_info())
