"""The crash report dialog, and hooks that route uncaught exceptions to it without exiting."""

from __future__ import annotations

import platform
import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Qt, Signal, qVersion
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from flowdeck import __version__
from flowdeck.core.errors import FlowdeckError

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


def environment_lines() -> list[str]:
    """Versions and platform, the first lines of every report."""
    return [
        f"Flowdeck {__version__}",
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        f"Qt {qVersion()}, PySide6 {pyside_version}",
        f"Platform {platform.platform()}",
    ]


def crash_report(details: str, thread_name: str | None = None) -> str:
    """A report a user can paste into an issue: environment, then the traceback text."""
    lines = environment_lines()
    if thread_name:
        lines.append(f"Thread {thread_name}")
    return "\n".join([*lines, "", details.rstrip(), ""])


def format_exception(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> str:
    return "".join(traceback.format_exception(exc_type, exc, tb))


class CrashDialog(QDialog):
    """Shows a crash report (read-only, monospace) with "Copy report" and "Close"."""

    def __init__(self, report_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Flowdeck — unexpected error")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.repeats = 0
        self.headline = QLabel("Flowdeck hit an unexpected error")
        self.headline.setTextFormat(Qt.TextFormat.PlainText)
        headline_font = self.headline.font()
        headline_font.setBold(True)
        headline_font.setPointSizeF(headline_font.pointSizeF() * 1.15)
        self.headline.setFont(headline_font)
        self.message = QLabel(
            "Flowdeck keeps running, but what you were doing may not have finished. "
            "Please copy this report into a bug report."
        )
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.repeat_label = QLabel()
        self.repeat_label.setTextFormat(Qt.TextFormat.PlainText)
        self.repeat_label.hide()
        self.report = QPlainTextEdit(report_text)
        self.report.setReadOnly(True)
        self.report.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.report.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.report.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        buttons = QDialogButtonBox()
        self.copy_button = QPushButton("Copy report")
        self.copy_button.clicked.connect(self.copy_report)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setDefault(True)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.message)
        layout.addWidget(self.repeat_label)
        layout.addWidget(self.report, 1)
        layout.addWidget(buttons)
        self.resize(760, 460)

    @property
    def report_text(self) -> str:
        return self.report.toPlainText()

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self.report_text)
        self.copy_button.setText("Copied")

    def count_repeat(self) -> None:
        """Another error arrived while this dialog was open."""
        self.repeats += 1
        more = "error" if self.repeats == 1 else "errors"
        self.repeat_label.setText(
            f"{self.repeats} more {more} happened since; only the first is shown."
        )
        self.repeat_label.show()


_installed: ExceptionRouter | None = None


class ExceptionRouter(QObject):
    """Receives uncaught exceptions from any thread and shows them, one dialog at a time."""

    reported = Signal(str)  # report text; queued to the GUI thread

    def __init__(self, app: QApplication, modal: bool = True) -> None:
        super().__init__()
        self.moveToThread(app.thread())
        self.modal = modal
        self.dialog: CrashDialog | None = None
        self.reports: list[str] = []
        self._previous_hook: ExceptHook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        self.reported.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook

    def uninstall(self) -> None:
        """Put back the hooks that were there before (tests use this)."""
        global _installed
        if _installed is self:
            _installed = None
        if sys.excepthook == self.excepthook:
            sys.excepthook = self._previous_hook
        if threading.excepthook == self.thread_excepthook:
            threading.excepthook = self._previous_thread_hook

    def excepthook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        thread = threading.current_thread()
        name = None if thread is threading.main_thread() else thread.name
        self.report(format_exception(exc_type, exc, tb), name)

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else None
        details = format_exception(
            args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback
        )
        self.report(details, name)

    def report(self, details: str, thread_name: str | None = None) -> None:
        """Print the traceback and queue the dialog (safe from any thread)."""
        text = crash_report(details, thread_name)
        print(text, file=sys.stderr, flush=True)
        self.reported.emit(text)

    def _show(self, text: str) -> None:
        self.reports.append(text)
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.count_repeat()
            return
        dialog = CrashDialog(text)
        dialog.setModal(self.modal)
        dialog.finished.connect(self._dialog_closed)
        self.dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _dialog_closed(self, _result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()


def install_exception_hooks(app: QApplication, modal: bool = True) -> ExceptionRouter:
    """Route uncaught exceptions (GUI and worker threads) to a ``CrashDialog``; keep running."""
    global _installed
    if _installed is not None:
        _installed.uninstall()
    router = ExceptionRouter(app, modal=modal)
    router.install()
    _installed = router
    return router


def failure_text(error: BaseException, doing: str) -> str:
    """What to tell the user when ``doing`` (e.g. "Loading the runs") failed.

    A FlowdeckError carries its own plain message; anything else is a bug, reported through
    the crash dialog, and the text points there."""
    if isinstance(error, FlowdeckError):
        return error.message
    sys.excepthook(type(error), error, error.__traceback__)
    return f"{doing} failed because of a bug; see the report."
