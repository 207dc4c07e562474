"""Jobs: the runner's list of pending tasks, and the status-bar button that shows and cancels them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from flowdeck.ui.shell.jobs import JobsButton
from flowdeck.ui.tasks import TaskRunner, TaskState

WAIT_S = 5.0
@pytest.fixture
def button(qtbot, runner: TaskRunner, qt_warnings) -> Iterator[JobsButton]:
    """The jobs button in a shown main window's status bar."""
    window = QMainWindow()
    qtbot.addWidget(window)
    jobs_button = JobsButton(runner)
    window.statusBar().addPermanentWidget(jobs_button)
    window.resize(700, 400)
    window.show()
    qtbot.waitExposed(window)
    yield jobs_button  # the window stays referenced until the test ends


class Step:
    """A task function that reports ``done`` of ``total`` and then waits to be released."""

    def __init__(self, done: int = 0, total: int = 0) -> None:
        self.done, self.total = done, total
        self.release = threading.Event()

    def __call__(self, state: TaskState, value: str) -> str:
        if self.total:
            state.progress(self.done, self.total, f"run {self.done} of {self.total}")
        self.release.wait(WAIT_S)
        return value


def test_jobs_follow_a_task_from_start_through_progress_to_finish(qtbot, runner) -> None:
    step = Step(done=1, total=4)
    results: list[str] = []
    before = time.monotonic()
    with qtbot.waitSignal(runner.jobs_changed, timeout=1000):
        handle = runner.submit(step, "exported", label="Exporting runs", on_result=results.append)
    [job] = runner.jobs()
    assert (job.task_id, job.label, job.waiting) == (handle.task_id, "Exporting runs", False)
    assert before <= job.started <= time.monotonic()

    qtbot.waitUntil(lambda: runner.jobs()[0].done == 1, timeout=5000)
    [job] = runner.jobs()
    assert (job.done, job.total, job.text) == (1, 4, "run 1 of 4")

    with qtbot.waitSignal(runner.jobs_changed, timeout=5000):
        step.release.set()
    assert runner.jobs() == []
    assert results == ["exported"]


def test_an_unlabelled_task_is_listed_as_working(qtbot, runner) -> None:
    step = Step()
    runner.submit(step, "x")
    assert [job.label for job in runner.jobs()] == ["Working…"]
    step.release.set()


def test_a_cancelled_job_leaves_the_list_at_once(qtbot, runner) -> None:
    step = Step()
    first = runner.submit(step, "a", label="first")
    runner.submit(step, "b", label="second")
    with qtbot.waitSignal(runner.jobs_changed, timeout=1000):
        assert runner.cancel(first.task_id)
    assert [job.label for job in runner.jobs()] == ["second"]
    assert not runner.cancel(first.task_id)  # cancelling twice does nothing
    step.release.set()


def test_the_button_counts_jobs_and_hides_when_idle(qtbot, runner, button: JobsButton) -> None:
    assert button.isHidden()
    step = Step()
    runner.submit(step, "a", label="one")
    assert button.isVisible() and button.text() == "1 job"
    runner.submit(step, "b", label="two")
    runner.submit(step, "c", label="three")
    assert button.text() == "3 jobs"
    step.release.set()
    qtbot.waitUntil(button.isHidden, timeout=5000)


def test_the_popup_lists_jobs_as_plain_text_with_their_progress(
    qtbot, runner, button: JobsButton
) -> None:
    busy, counting = Step(), Step(done=3, total=10)
    runner.submit(busy, "a", label="<b>Deleting</b> runs")
    runner.submit(counting, "b")
    qtbot.waitUntil(lambda: runner.jobs()[1].total == 10, timeout=5000)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(button.popup.isVisible, timeout=5000)

    first, second = button.rows()
    assert first.label.text() == "<b>Deleting</b> runs"
    assert first.label.textFormat() == Qt.TextFormat.PlainText
    assert first.progress_bar.maximum() == 0  # busy: the amount of work is unknown
    assert second.label.text() == "Working…"
    assert (second.progress_bar.value(), second.progress_bar.maximum()) == (3, 10)
    assert second.detail.text() == "run 3 of 10"

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # a second click closes it
    qtbot.waitUntil(lambda: not button.popup.isVisible(), timeout=5000)
    busy.release.set()
    counting.release.set()


def test_cancel_in_the_popup_stops_just_that_job(qtbot, runner, button: JobsButton) -> None:
    step = Step()
    results: list[str] = []
    for name in ("load runs", "export csv", "draw charts"):
        runner.submit(step, name, label=name, on_result=results.append)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(button.popup.isVisible, timeout=5000)

    export_row = button.rows()[1]
    assert export_row.label.text() == "export csv"
    qtbot.mouseClick(export_row.cancel_button, Qt.MouseButton.LeftButton)
    assert [row.label.text() for row in button.rows()] == ["load runs", "draw charts"]
    assert button.text() == "2 jobs"

    step.release.set()
    qtbot.waitUntil(button.isHidden, timeout=5000)
    assert sorted(results) == ["draw charts", "load runs"]
    assert not button.popup.isVisible()  # nothing left to show


def test_the_open_popup_shows_new_jobs_and_progress_live(qtbot, runner, button: JobsButton) -> None:
    first = Step()
    runner.submit(first, "a", label="first")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(button.popup.isVisible, timeout=5000)
    assert len(button.rows()) == 1

    later = Step(done=2, total=5)
    runner.submit(later, "b", label="later")
    assert [row.label.text() for row in button.rows()] == ["first", "later"]
    qtbot.waitUntil(lambda: button.rows()[1].progress_bar.value() == 2, timeout=5000)
    assert button.rows()[1].progress_bar.maximum() == 5

    first.release.set()
    qtbot.waitUntil(lambda: [row.label.text() for row in button.rows()] == ["later"], timeout=5000)
    later.release.set()
