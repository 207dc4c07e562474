"""The task runner: GUI-thread delivery, scoped supersession, cancellation, errors, SQLite lanes."""

from __future__ import annotations

import gc
import shutil
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowdeck.core.errors import FlowdeckError, StoreNotFound
from flowdeck.store import open_store
from flowdeck.ui.tasks import TaskRunner, TaskState

WAIT_S = 5.0


@pytest.fixture(scope="module")
def sqlite_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two copies of one small database written by MLflow."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("tasks-store")
    first = folder / "first.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{first}")
    experiment = client.create_experiment("tasks", artifact_location=str(folder / "artifacts"))
    client.set_terminated(client.create_run(experiment, run_name="only run").info.run_id)
    second = folder / "second.db"
    shutil.copy2(first, second)
    return first, second


@pytest.fixture
def two_thread_runner(qtbot) -> Iterator[TaskRunner]:
    runner = TaskRunner(max_threads=2)
    yield runner
    runner.cancel_all()
    assert runner.wait_idle(10_000)


class Owner:
    """Something that submits tasks, e.g. a page."""


class Recorder:
    """Collects what the runner delivers, and on which thread."""

    def __init__(self) -> None:
        self.results: list[object] = []
        self.errors: list[tuple[BaseException, str]] = []
        self.progress: list[tuple[int, int, str]] = []
        self.on_gui_thread: list[bool] = []

    def _note_thread(self) -> None:
        self.on_gui_thread.append(threading.current_thread() is threading.main_thread())

    def result(self, value: object) -> None:
        self._note_thread()
        self.results.append(value)

    def error(self, error: BaseException, details: str) -> None:
        self._note_thread()
        self.errors.append((error, details))

    def progressed(self, done: int, total: int, text: str) -> None:
        self._note_thread()
        self.progress.append((done, total, text))


def worker_thread_name(_state: TaskState, suffix: str) -> str:
    return threading.current_thread().name + suffix


def test_result_arrives_on_the_gui_thread_from_a_worker(qtbot, runner: TaskRunner) -> None:
    seen = Recorder()
    runner.submit(worker_thread_name, "!", on_result=seen.result, on_error=seen.error)
    assert runner.wait_idle(5000)
    assert len(seen.results) == 1 and not seen.errors
    assert seen.results[0] != threading.current_thread().name + "!"
    assert str(seen.results[0]).endswith("!")
    assert seen.on_gui_thread == [True]


def test_a_new_task_with_the_same_key_supersedes_the_old_one(qtbot, runner: TaskRunner) -> None:
    release = threading.Event()
    first_started = threading.Event()

    def slow(state: TaskState, label: str) -> str:
        first_started.set()
        release.wait(WAIT_S)
        return label  # ignores its cancel flag on purpose: the late result must be dropped

    seen = Recorder()
    first = runner.submit(slow, "old", key="runs", on_result=seen.result, on_error=seen.error)
    assert first_started.wait(WAIT_S)
    second = runner.submit(
        lambda _state: "new", key="runs", on_result=seen.result, on_error=seen.error
    )
    assert first.cancelled and not second.cancelled
    release.set()
    assert runner.wait_idle(5000)
    assert seen.results == ["new"]
    assert not seen.errors


def test_cancelled_tasks_deliver_nothing_not_even_their_error(qtbot, runner: TaskRunner) -> None:
    release = threading.Event()
    started = threading.Event()
    observed: list[bool] = []

    def cooperative(state: TaskState) -> str:
        started.set()
        release.wait(WAIT_S)
        observed.append(state.cancelled)
        state.check()  # raises Cancelled
        return "finished anyway"

    seen = Recorder()
    handle = runner.submit(cooperative, on_result=seen.result, on_error=seen.error)
    assert started.wait(WAIT_S)
    handle.cancel()
    release.set()
    assert runner.wait_idle(5000)
    assert observed == [True]
    assert seen.results == [] and seen.errors == []
    assert handle.finished


def test_cancel_all_stops_every_pending_task(qtbot, runner: TaskRunner) -> None:
    release = threading.Event()
    seen = Recorder()
    for index in range(3):
        runner.submit(lambda _s, i=index: release.wait(WAIT_S) and i, on_result=seen.result)
    runner.cancel_all()
    release.set()
    assert runner.wait_idle(5000)
    assert seen.results == []


def test_flowdeck_errors_arrive_without_a_traceback(qtbot, runner: TaskRunner) -> None:
    def missing(_state: TaskState) -> None:
        raise StoreNotFound("There is no MLflow store at /nowhere.")

    seen = Recorder()
    runner.submit(missing, on_result=seen.result, on_error=seen.error)
    assert runner.wait_idle(5000)
    [(error, details)] = seen.errors
    assert isinstance(error, StoreNotFound)
    assert error.message == "There is no MLflow store at /nowhere."
    assert details == ""
    assert seen.on_gui_thread == [True]


def test_bugs_arrive_with_their_traceback(qtbot, runner: TaskRunner) -> None:
    def buggy_loader(_state: TaskState) -> None:
        {}["missing key"]  # noqa: B018

    seen = Recorder()
    runner.submit(buggy_loader, on_result=seen.result, on_error=seen.error)
    assert runner.wait_idle(5000)
    [(error, details)] = seen.errors
    assert isinstance(error, KeyError) and not isinstance(error, FlowdeckError)
    assert "Traceback" in details and "buggy_loader" in details and "KeyError" in details


def test_progress_reaches_the_callback_and_the_status_signal(qtbot, runner: TaskRunner) -> None:
    def counting(state: TaskState, total: int) -> int:
        for done in range(1, total + 1):
            state.progress(done, total, f"run {done} of {total}")
        return total

    seen = Recorder()
    status: list[tuple[str, int, int]] = []
    runner.progress.connect(lambda text, done, total: status.append((text, done, total)))
    runner.submit(counting, 200, on_result=seen.result, on_progress=seen.progressed)
    assert runner.wait_idle(5000)
    assert seen.results == [200]
    assert seen.progress[-1] == (200, 200, "run 200 of 200")  # the last report is never dropped
    assert len(seen.progress) < 200  # throttled: no flood of GUI-thread events
    assert status[-1] == ("run 200 of 200", 200, 200)
    assert all(seen.on_gui_thread)


def test_busy_changes_once_per_burst_of_work(qtbot, runner: TaskRunner) -> None:
    busy: list[bool] = []
    runner.busy_changed.connect(busy.append)
    release = threading.Event()
    runner.submit(lambda _s: release.wait(WAIT_S))
    runner.submit(lambda _s: release.wait(WAIT_S))
    assert runner.busy
    release.set()
    with qtbot.waitSignal(runner.busy_changed, timeout=5000):
        pass
    assert busy == [True, False]
    assert not runner.busy


def _overlap_probe(entered: list[str], both_inside: threading.Event, lock: threading.Lock):
    def probe(_state: TaskState, store, name: str) -> bool:
        with lock:
            entered.append(name)
            if len(entered) == 2:
                both_inside.set()
        store.experiments()  # a real read while holding the store
        overlapped = both_inside.wait(0.5)  # bounded: the other task either joins us or cannot
        with lock:
            entered.remove(name)
        return overlapped

    return probe


def test_calls_on_one_sqlite_file_run_one_at_a_time(qtbot, runner, sqlite_files) -> None:
    store = open_store(str(sqlite_files[0]))
    same_file = open_store(f"sqlite:///{sqlite_files[0]}")  # another Store object, same file
    try:
        probe = _overlap_probe([], threading.Event(), threading.Lock())
        seen = Recorder()
        runner.submit(probe, store, "a", store=store, on_result=seen.result, on_error=seen.error)
        runner.submit(
            probe, same_file, "b", store=same_file, on_result=seen.result, on_error=seen.error
        )
        assert runner.wait_idle(10_000)
        assert not seen.errors
        assert seen.results == [False, False]
    finally:
        store.close()
        same_file.close()


def test_calls_on_different_files_run_in_parallel(qtbot, runner, sqlite_files) -> None:
    first, second = (open_store(str(path)) for path in sqlite_files)
    try:
        probe = _overlap_probe([], threading.Event(), threading.Lock())
        seen = Recorder()
        runner.submit(probe, first, "a", store=first, on_result=seen.result, on_error=seen.error)
        runner.submit(probe, second, "b", store=second, on_result=seen.result, on_error=seen.error)
        assert runner.wait_idle(10_000)
        assert not seen.errors
        assert seen.results == [True, True]
    finally:
        first.close()
        second.close()


def test_a_task_cancelled_while_waiting_for_the_store_never_runs(qtbot, runner, sqlite_files):
    store = open_store(str(sqlite_files[0]))
    release = threading.Event()
    started = threading.Event()
    ran: list[str] = []

    def holder(_state: TaskState) -> None:
        started.set()
        release.wait(WAIT_S)

    try:
        runner.submit(holder, store=store)
        assert started.wait(WAIT_S)
        queued = runner.submit(lambda _s: ran.append("queued"), store=store)
        queued.cancel()
        release.set()
        assert runner.wait_idle(5000)
        assert ran == []
    finally:
        store.close()


def _blocked_until(release: threading.Event):
    def blocked(_state: TaskState, value: str) -> str:
        release.wait(WAIT_S)
        return value  # ignores its cancel flag on purpose: a cancelled result must be dropped

    return blocked


def test_two_owners_with_the_same_key_both_deliver(qtbot, runner: TaskRunner) -> None:
    release = threading.Event()
    blocked = _blocked_until(release)
    seen = Recorder()
    runs_page, charts_page = Owner(), Owner()
    handles = [
        runner.submit(blocked, "runs page", key="runs", owner=runs_page, on_result=seen.result),
        runner.submit(blocked, "charts page", key="runs", owner=charts_page, on_result=seen.result),
        runner.submit(blocked, "global", key="runs", on_result=seen.result),
    ]
    assert not any(handle.cancelled for handle in handles)
    release.set()
    assert runner.wait_idle(5000)
    assert sorted(seen.results) == ["charts page", "global", "runs page"]


def test_the_same_owner_and_key_supersedes(qtbot, runner: TaskRunner) -> None:
    release = threading.Event()
    blocked = _blocked_until(release)
    seen = Recorder()
    page = Owner()
    old = runner.submit(blocked, "old", key="runs", owner=page, on_result=seen.result)
    new = runner.submit(blocked, "new", key="runs", owner=page, on_result=seen.result)
    assert old.cancelled and not new.cancelled
    release.set()
    assert runner.wait_idle(5000)
    assert seen.results == ["new"]


def test_cancel_owner_cancels_only_that_owners_tasks(qtbot, runner: TaskRunner) -> None:
    release = threading.Event()
    blocked = _blocked_until(release)
    seen = Recorder()
    closing_page, other_page = Owner(), Owner()
    for index in range(3):
        runner.submit(blocked, f"closing {index}", owner=closing_page, on_result=seen.result)
    runner.submit(blocked, "other", key="runs", owner=other_page, on_result=seen.result)
    runner.cancel_owner(closing_page)
    assert [job.label for job in runner.jobs()] == ["Working…"]  # only the other page's task
    release.set()
    assert runner.wait_idle(5000)
    assert seen.results == ["other"]


def test_the_runner_keeps_no_owner_alive_after_its_tasks(qtbot, runner: TaskRunner) -> None:
    page = Owner()
    page_is_alive = weakref.ref(page)
    seen = Recorder()
    runner.submit(lambda _s, o=page: id(o), key="runs", owner=page, on_result=seen.result)
    assert runner.wait_idle(5000)
    assert seen.results == [id(page)]
    del page
    gc.collect()
    assert page_is_alive() is None


class FileTraffic:
    """Records which tasks were inside one SQLite file, and how many at once."""

    def __init__(self, store) -> None:
        self.store = store
        self.order: list[str] = []
        self.most_at_once = 0
        self._inside = 0
        self._guard = threading.Lock()

    def visit(self, _state: TaskState, name: str, release: threading.Event | None = None) -> str:
        with self._guard:
            self._inside += 1
            self.most_at_once = max(self.most_at_once, self._inside)
        self.store.experiments()  # a real read of the file
        if release is not None:
            release.wait(WAIT_S)
        with self._guard:
            self.order.append(name)
            self._inside -= 1
        return name


def test_tasks_waiting_for_a_sqlite_file_hold_no_thread(
    qtbot, two_thread_runner: TaskRunner, sqlite_files
) -> None:
    runner = two_thread_runner
    store = open_store(str(sqlite_files[0]))
    traffic = FileTraffic(store)
    release = threading.Event()
    seen = Recorder()
    try:
        runner.submit(traffic.visit, "first", release, store=store, on_result=seen.result)
        runner.submit(traffic.visit, "second", store=store, on_result=seen.result)
        runner.submit(traffic.visit, "third", store=store, on_result=seen.result)
        runner.submit(lambda _s: "free", on_result=seen.result)
        # Two threads: "first" holds one, so "free" only finishes if the waiting two hold none.
        qtbot.waitUntil(lambda: seen.results == ["free"], timeout=5000)
        assert traffic.order == []
        assert [job.waiting for job in runner.jobs()] == [False, True, True]
        release.set()
        assert runner.wait_idle(10_000)
        assert not seen.errors
        assert seen.results == ["free", "first", "second", "third"]
        assert traffic.order == ["first", "second", "third"]
        assert traffic.most_at_once == 1
    finally:
        store.close()


def test_a_cancelled_task_in_a_lane_never_runs_and_does_not_block_it(
    qtbot, runner: TaskRunner, sqlite_files
) -> None:
    store = open_store(str(sqlite_files[0]))
    same_file = open_store(f"sqlite:///{sqlite_files[0]}")
    traffic = FileTraffic(store)
    release = threading.Event()
    seen = Recorder()
    try:
        runner.submit(traffic.visit, "holder", release, store=store, on_result=seen.result)
        cancelled = runner.submit(traffic.visit, "cancelled", store=store, on_result=seen.result)
        runner.submit(traffic.visit, "next", store=same_file, on_result=seen.result)
        assert runner.cancel(cancelled.task_id)
        assert cancelled.finished  # let go at once, without waiting for the holder
        assert len(runner.jobs()) == 2
        release.set()
        assert runner.wait_idle(10_000)
        assert traffic.order == ["holder", "next"]
        assert seen.results == ["holder", "next"]
    finally:
        store.close()
        same_file.close()
