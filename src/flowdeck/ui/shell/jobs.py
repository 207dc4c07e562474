"""The status-bar jobs button and its popup: each running task with its progress and a Cancel."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flowdeck.ui.tasks import Job, TaskRunner

POPUP_WIDTH = 340
WAITING_TEXT = "Waiting for the store…"


def jobs_text(count: int) -> str:
    """The button text for ``count`` jobs: 1 job, 3 jobs."""
    return "1 job" if count == 1 else f"{count} jobs"


def _plain_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)  # labels come from run and experiment names
    label.setWordWrap(True)
    return label


class JobRow(QWidget):
    """One job in the popup: its label, what it is doing, a progress bar and Cancel."""

    def __init__(self, job: Job, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.task_id = job.task_id
        self.label = _plain_label(self)
        self.detail = _plain_label(self)
        self.detail.setEnabled(False)  # the palette's dimmed text colour
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop this job")
        task_id = job.task_id
        self.cancel_button.clicked.connect(lambda: runner.cancel(task_id))

        bar_line = QHBoxLayout()
        bar_line.setContentsMargins(0, 0, 0, 0)
        bar_line.addWidget(self.progress_bar, 1)
        bar_line.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.label)
        layout.addWidget(self.detail)
        layout.addLayout(bar_line)
        self.show_job(job)

    def show_job(self, job: Job) -> None:
        """Bring the row up to date with the job's latest state."""
        self.label.setText(job.label)
        detail = WAITING_TEXT if job.waiting else job.text
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))
        if job.total <= 0:
            self.progress_bar.setRange(0, 0)  # busy indicator: the amount of work is unknown
        else:
            self.progress_bar.setRange(0, job.total)
            self.progress_bar.setValue(min(job.done, job.total))


class JobsPopup(QFrame):
    """The list of running jobs shown under (or above) the jobs button."""

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self._runner = runner
        self._rows: dict[int, JobRow] = {}  # by task id, oldest first
        # A click on the jobs button while open just closes the popup, it does not reopen it.
        self.setAttribute(Qt.WidgetAttribute.WA_NoMouseReplay)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(POPUP_WIDTH)
        self._layout = QVBoxLayout(self)
        self._layout.setSpacing(10)

    def rows(self) -> list[JobRow]:
        return list(self._rows.values())

    def show_jobs(self, jobs: list[Job]) -> None:
        """Add, update and remove rows so they match ``jobs``, keeping rows that stay."""
        wanted = {job.task_id for job in jobs}
        for task_id in [task_id for task_id in self._rows if task_id not in wanted]:
            row = self._rows.pop(task_id)
            self._layout.removeWidget(row)
            row.hide()
            row.deleteLater()  # it may be the row whose Cancel button is being clicked
        for index, job in enumerate(jobs):
            row = self._rows.get(job.task_id)
            if row is None:
                row = JobRow(job, self._runner, self)
                self._rows[job.task_id] = row
                self._layout.insertWidget(index, row)
            else:
                row.show_job(job)
        self.adjustSize()


class JobsButton(QToolButton):
    """Counts the jobs in the status bar, hidden while nothing runs; click it to see or cancel."""

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self.popup = JobsPopup(runner, self)
        self.setAutoRaise(True)
        self.setToolTip("Show the running jobs")
        self.clicked.connect(self.toggle_popup)
        runner.jobs_changed.connect(self._refresh)
        self._refresh()

    def rows(self) -> list[JobRow]:
        """The popup's rows, oldest job first."""
        return self.popup.rows()

    def toggle_popup(self) -> None:
        if self.popup.isVisible():
            self.popup.hide()
        else:
            self.open_popup()

    def open_popup(self) -> None:
        jobs = self._runner.jobs()
        if not jobs:
            return
        self.popup.show_jobs(jobs)
        self._place_popup()
        self.popup.show()

    def _refresh(self) -> None:
        jobs = self._runner.jobs()
        self.setText(jobs_text(len(jobs)))
        self.setVisible(bool(jobs))
        if not self.popup.isVisible():
            return
        if jobs:
            self.popup.show_jobs(jobs)
            self._place_popup()
        else:
            self.popup.hide()

    def _place_popup(self) -> None:
        """Right-align the popup with the button, above it if it fits (the status bar is low)."""
        size = self.popup.size()  # show_jobs has just fitted it to its rows
        top_right = self.mapToGlobal(QPoint(self.width(), 0))
        x = top_right.x() - size.width()
        y = top_right.y() - size.height()
        screen = self.screen().availableGeometry()
        if y < screen.top():
            y = self.mapToGlobal(QPoint(0, self.height())).y()
        x = max(screen.left(), min(x, screen.right() - size.width()))
        self.popup.move(x, y)
