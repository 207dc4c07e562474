"""The crash dialog, and uncaught exceptions from slots and worker threads reaching it."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRunnable, QThreadPool, QTimer
from PySide6.QtGui import QFontMetrics, QGuiApplication
from PySide6.QtWidgets import QApplication

from flowdeck import __version__
from flowdeck.ui.crash import CrashDialog, ExceptionRouter, crash_report, install_exception_hooks

SCREENSHOTS = os.environ.get("FLOWDECK_SCREENSHOTS")


@pytest.fixture
def router(qapp: QApplication, request: pytest.FixtureRequest) -> Iterator[ExceptionRouter]:
    """Hooks are installed by each test body (pytest-qt swaps sys.excepthook per test phase)."""
    routers: list[ExceptionRouter] = []

    def install() -> ExceptionRouter:
        routers.append(install_exception_hooks(qapp, modal=False))
        return routers[-1]

    yield install  # type: ignore[misc]
    for installed in routers:
        installed.uninstall()
        if installed.dialog is not None:
            installed.dialog.close()


def failing_slot() -> None:
    raise ZeroDivisionError("division by zero in a slot")


def test_dialog_shows_the_report_read_only_in_monospace(qtbot, tmp_path: Path) -> None:
    report = crash_report('Traceback (most recent call last):\n  File "x.py"\nValueError: <b>x</b>')
    dialog = CrashDialog(report)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.report_text == report
    assert f"Flowdeck {__version__}" in report and "Python 3." in report and "Qt 6." in report
    assert "ValueError: <b>x</b>" in dialog.report_text  # shown as text, not HTML
    assert dialog.report.isReadOnly()
    metrics = QFontMetrics(dialog.report.font())  # what a reader sees: every letter as wide
    assert metrics.horizontalAdvance("i") == metrics.horizontalAdvance("W")
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    assert dialog.grab().save(str(folder / "crash-dialog.png"))

    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == report
    dialog.close_button.click()
    assert not dialog.isVisible()


def test_an_exception_in_a_slot_shows_the_dialog_and_the_app_keeps_running(qtbot, router):
    installed = router()
    QTimer.singleShot(0, failing_slot)
    qtbot.waitUntil(lambda: installed.dialog is not None and installed.dialog.isVisible())
    text = installed.dialog.report_text
    assert "ZeroDivisionError: division by zero in a slot" in text
    assert "failing_slot" in text and f"Flowdeck {__version__}" in text
    assert "Thread " not in text  # raised on the GUI thread

    still_running: list[bool] = []
    QTimer.singleShot(0, lambda: still_running.append(True))
    qtbot.waitUntil(lambda: still_running == [True])


def test_an_exception_in_a_python_thread_reaches_the_dialog(qtbot, router) -> None:
    installed = router()

    def crunch() -> None:
        raise RuntimeError("worker exploded")

    worker = threading.Thread(target=crunch, name="metric-crunch")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: installed.dialog is not None and installed.dialog.isVisible())
    text = installed.dialog.report_text
    assert "RuntimeError: worker exploded" in text
    assert "Thread metric-crunch" in text and "crunch" in text


class FailingRunnable(QRunnable):
    def run(self) -> None:
        raise LookupError("pool worker exploded")


def test_an_exception_in_a_qt_pool_thread_reaches_the_dialog(qtbot, router) -> None:
    installed = router()
    pool = QThreadPool()
    pool.start(FailingRunnable())
    assert pool.waitForDone(5000)
    qtbot.waitUntil(lambda: installed.dialog is not None and installed.dialog.isVisible())
    assert "LookupError: pool worker exploded" in installed.dialog.report_text


def test_a_storm_of_errors_shows_one_dialog_and_counts_the_rest(qtbot, router) -> None:
    installed = router()
    for _ in range(3):
        QTimer.singleShot(0, failing_slot)
    qtbot.waitUntil(lambda: len(installed.reports) == 3)
    dialog = installed.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.repeats == 2
    assert dialog.repeat_label.text() == "2 more errors happened since; only the first is shown."
    visible = [
        w for w in QApplication.topLevelWidgets() if isinstance(w, CrashDialog) and w.isVisible()
    ]
    assert visible == [dialog]

    dialog.close_button.click()  # closing makes room for the next error's own dialog
    assert installed.dialog is None
    QTimer.singleShot(0, failing_slot)
    qtbot.waitUntil(lambda: installed.dialog is not None and installed.dialog.isVisible())
    assert installed.dialog is not dialog and installed.dialog.repeats == 0


def test_uninstall_puts_back_the_previous_hooks(qapp) -> None:
    import sys

    before = (sys.excepthook, threading.excepthook)
    installed = install_exception_hooks(qapp, modal=False)
    assert sys.excepthook == installed.excepthook
    assert threading.excepthook == installed.thread_excepthook
    installed.uninstall()
    assert (sys.excepthook, threading.excepthook) == before
