"""Runs store calls on a thread pool and delivers results, errors and progress on the GUI thread."""

from __future__ import annotations

import contextlib
import itertools
import logging
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QRunnable, QThreadPool, Signal

from flowdeck.core.errors import FlowdeckError
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.store.locations import sqlite_path

__all__ = ["UNLABELLED_JOB", "Job", "TaskHandle", "TaskRunner", "TaskState", "sqlite_lane"]

log = logging.getLogger(__name__)

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException, str], None]
ProgressCallback = Callable[[int, int, str], None]

# Supersession scope: (id of the owner or None, key). The owner itself is never stored here.
_Scope = tuple[int | None, str]

UNLABELLED_JOB = "Working…"


def sqlite_lane(store: Store | None) -> str | None:
    """The lane of a SQLite store (one per database file); None for stores that run in parallel."""
    if store is None or store.kind != "sql" or not store.location.lower().startswith("sqlite"):
        return None
    path = sqlite_path(store.location)
    return str(path.resolve()) if path is not None else f"memory:{id(store)}"


@dataclass(frozen=True)
class Job:
    """A pending task as the jobs view shows it."""

    task_id: int
    label: str
    done: int
    total: int  # 0 while the amount of work is unknown
    text: str
    started: float  # time.monotonic() when the task was submitted
    waiting: bool  # queued behind another task on the same SQLite file


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
    notify_cancelled: Callable[[int], None] | None = field(default=None, repr=False)

    @property
    def cancelled(self) -> bool:
        return self.state.cancelled

    def cancel(self) -> None:
        """Cancel the task: the function sees ``state.cancelled``; nothing is delivered."""
        if self.state.cancelled:
            return
        self.state.cancel()
        if self.notify_cancelled is not None and not self.finished:
            self.notify_cancelled(self.task_id)


@dataclass(eq=False)
class _Pending:
    """The runner's record of a task from submission until it has been delivered."""

    handle: TaskHandle
    scope: _Scope | None
    owner: object | None  # held only while the task is pending
    label: str
    lane: str | None
    started: float
    queued_runnable: _Task | None = None  # set while waiting in its lane
    done: int = 0
    total: int = 0
    text: str = ""

    @property
    def waiting(self) -> bool:
        return self.queued_runnable is not None

    def job(self) -> Job:
        return Job(
            task_id=self.handle.task_id,
            label=self.label or UNLABELLED_JOB,
            done=self.done,
            total=self.total,
            text=self.text,
            started=self.started,
            waiting=self.waiting,
        )


class _Bridge(QObject):
    """Carries worker-thread reports to the GUI thread (lives there; emits are queued)."""

    finished = Signal(int, object, object, str)  # task id, result, error, traceback
    progressed = Signal(int, int, int, str)  # task id, done, total, text
    cancel_requested = Signal(int)  # task id; direct when cancelled on the GUI thread


class _Task(QRunnable):
    """Calls ``fn(state, *args)`` on a pool thread unless the task was cancelled first."""

    def __init__(
        self,
        handle: TaskHandle,
        bridge: _Bridge,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._handle = handle
        self._bridge = bridge
        self._fn: Callable[..., Any] | None = fn
        self._args = args

    def run(self) -> None:
        state = self._handle.state
        result: Any = None
        error: BaseException | None = None
        details = ""
        try:
            if self._fn is not None and not state.cancelled:
                result = self._fn(state, *self._args)
        except FlowdeckError as exc:
            error = exc
        except Exception as exc:  # a bug: the caller shows the crash dialog
            error, details = exc, traceback.format_exc()
        finally:
            self._fn, self._args = None, ()  # let go of the caller's objects now
        with contextlib.suppress(RuntimeError):  # the runner and its bridge are gone
            self._bridge.finished.emit(self._handle.task_id, result, error, details)


class TaskRunner(QObject):
    """Submit blocking calls; callbacks run on the GUI thread, superseded results are dropped.

    Tasks on one SQLite file run one at a time in submission order; the ones waiting for
    their turn hold no pool thread. All bookkeeping happens on the GUI thread.
    """

    busy_changed = Signal(bool)
    progress = Signal(str, int, int)  # text, done, total
    jobs_changed = Signal()

    def __init__(self, parent: QObject | None = None, max_threads: int = 4) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._bridge = _Bridge()  # unparented: running tasks keep it alive via their reference
        self._bridge.finished.connect(self._deliver_finished)
        self._bridge.progressed.connect(self._deliver_progress)
        self._bridge.cancel_requested.connect(self._forget_cancelled)
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._latest_by_scope: dict[_Scope, int] = {}
        self._lanes: dict[str, deque[int]] = {}  # task ids; the first one is running
        self.slowest_delivery_ms = 0.0  # GUI-thread time of the runner's own bookkeeping

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        key: str | None = None,
        owner: object | None = None,
        label: str = "",
        store: Store | None = None,
        on_result: ResultCallback | None = None,
        on_error: ErrorCallback | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> TaskHandle:
        """Run ``fn(state, *args)`` on a worker.

        A later task with the same ``key`` and the same ``owner`` (by identity) supersedes
        this one; ``owner=None`` makes the key global. ``label`` names the job for the user.
        """
        task_id = next(self._ids)
        bridge = self._bridge

        def report(done: int, total: int, text: str) -> None:
            with contextlib.suppress(RuntimeError):
                bridge.progressed.emit(task_id, done, total, text)

        def notify_cancelled(cancelled_id: int) -> None:
            with contextlib.suppress(RuntimeError):
                bridge.cancel_requested.emit(cancelled_id)

        handle = TaskHandle(
            task_id, key, TaskState(report), False, on_result, on_error, on_progress
        )
        handle.notify_cancelled = notify_cancelled
        scope = None if key is None else (None if owner is None else id(owner), key)
        record = _Pending(handle, scope, owner, label, sqlite_lane(store), time.monotonic())
        was_busy = self.busy
        self._pending[task_id] = record  # before superseding, so the runner never looks idle
        if scope is not None:
            previous = self._latest_by_scope.get(scope)
            if previous is not None and previous in self._pending:
                self._pending[previous].handle.cancel()
            self._latest_by_scope[scope] = task_id
        self._enqueue(record, _Task(handle, bridge, fn, args))
        if not was_busy:
            self.busy_changed.emit(True)
        self.jobs_changed.emit()
        return handle

    def jobs(self) -> list[Job]:
        """Every pending task that was not cancelled, oldest first."""
        return [record.job() for record in self._pending.values() if not record.handle.cancelled]

    def cancel(self, task_id: int) -> bool:
        """Cancel one job; False if it already finished or was cancelled."""
        record = self._pending.get(task_id)
        if record is None or record.handle.cancelled:
            return False
        record.handle.cancel()
        return True

    def cancel_owner(self, owner: object) -> None:
        """Cancel every pending task submitted with this ``owner``; none of them delivers."""
        for record in list(self._pending.values()):
            if record.owner is owner:
                record.handle.cancel()

    def cancel_all(self) -> None:
        """Cancel every pending task; none of them delivers anything."""
        for record in list(self._pending.values()):
            record.handle.cancel()

    def wait_idle(self, timeout_ms: int = 5000) -> bool:
        """Process events until every task has finished and been delivered (for tests)."""
        deadline = time.monotonic() + timeout_ms / 1000
        while self._pending:
            if time.monotonic() > deadline:
                return False
            self._pool.waitForDone(5)
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        return True

    def _enqueue(self, record: _Pending, runnable: _Task) -> None:
        if record.lane is None:
            self._pool.start(runnable)
            return
        lane = self._lanes.setdefault(record.lane, deque())
        lane.append(record.handle.task_id)
        if len(lane) == 1:
            self._pool.start(runnable)
        else:
            record.queued_runnable = runnable

    def _advance_lane(self, lane_name: str, finished_id: int) -> bool:
        """Start the next task waiting in the lane; True if one started."""
        lane = self._lanes[lane_name]
        lane.remove(finished_id)
        while lane:
            record = self._pending[lane[0]]
            if record.handle.cancelled:  # its state was cancelled without telling the handle
                lane.popleft()
                self._retire(record)
                continue
            runnable, record.queued_runnable = record.queued_runnable, None
            if runnable is not None:
                self._pool.start(runnable)
            return True
        del self._lanes[lane_name]
        return False

    def _retire(self, record: _Pending) -> None:
        """Forget a task for good: it is no longer pending and keeps nothing alive."""
        handle = record.handle
        self._pending.pop(handle.task_id, None)
        handle.finished = True
        handle.on_result = handle.on_error = handle.on_progress = None
        record.owner = record.queued_runnable = None
        if record.scope is not None and self._latest_by_scope.get(record.scope) == handle.task_id:
            del self._latest_by_scope[record.scope]
        if not self._pending:
            self.busy_changed.emit(False)

    def _forget_cancelled(self, task_id: int) -> None:
        record = self._pending.get(task_id)
        if record is None:
            return
        if record.waiting and record.lane is not None:
            self._lanes[record.lane].remove(task_id)  # never the running head of its lane
            self._retire(record)
        self.jobs_changed.emit()

    def _deliver_progress(self, task_id: int, done: int, total: int, text: str) -> None:
        record = self._pending.get(task_id)
        if record is None or record.handle.cancelled:
            return
        record.done, record.total, record.text = done, total, text
        self.progress.emit(text, done, total)
        self.jobs_changed.emit()
        if record.handle.on_progress is not None:
            self._call(record.handle.on_progress, done, total, text)

    def _deliver_finished(
        self, task_id: int, result: Any, error: BaseException | None, details: str
    ) -> None:
        started = time.perf_counter()
        record = self._pending.get(task_id)
        if record is None:
            return
        handle = record.handle
        current = not handle.cancelled
        on_result, on_error = handle.on_result, handle.on_error
        self._retire(record)
        lane_moved = record.lane is not None and self._advance_lane(record.lane, task_id)
        self.slowest_delivery_ms = max(
            self.slowest_delivery_ms, (time.perf_counter() - started) * 1000
        )
        if current or lane_moved:
            self.jobs_changed.emit()
        if not current:
            return
        if error is None:
            if on_result is not None:
                self._call(on_result, result)
        elif on_error is not None:
            self._call(on_error, error, details)
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
