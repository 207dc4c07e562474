"""The Make Available Offline dialog: what to copy and where, then progress, cancel, outcome."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from flowdeck.paths import data_dir

if TYPE_CHECKING:
    from flowdeck.store.mirror import MirrorOptions


def default_destination(display_name: str) -> Path:
    """``<data folder>/mirrors/<store name>.db``, a name that is safe on every file system."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", display_name).strip("-.") or "store"
    return data_dir() / "mirrors" / f"{slug}.db"


class MirrorDialog(QDialog):
    """Asks what to copy, then shows the sync's progress and its outcome in the same dialog.

    ``experiments`` are (id, name) pairs of the source; ``chosen`` those pre-selected. Cancel,
    Escape and the window's close button only ask (``close_requested``): while a sync runs,
    they stop it instead of hiding it.
    """

    close_requested = Signal()
    estimate_wanted = Signal()  # the artifacts box or pattern changed: size them

    def __init__(
        self,
        source_name: str,
        experiments: Sequence[tuple[str, str]],
        chosen: Sequence[str] = (),
        destination: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Make Available Offline")
        intro = QLabel(
            f"Copy {source_name} into a local SQLite store that opens without a network "
            "and that MLflow itself can read. Syncing it again later copies only what changed."
        )
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        self.destination = QLineEdit(str(destination or default_destination(source_name)))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        where = QHBoxLayout()
        where.addWidget(self.destination, 1)
        where.addWidget(browse)
        self.all_experiments = QRadioButton(f"All {len(experiments)} experiments")
        self.some_experiments = QRadioButton("Only these experiments:")
        self.experiment_list = QListWidget()
        for experiment_id, name in experiments:
            item = QListWidgetItem(f"{name}  ({experiment_id})")
            item.setData(Qt.ItemDataRole.UserRole, experiment_id)
            item.setCheckState(
                Qt.CheckState.Checked if experiment_id in chosen else Qt.CheckState.Unchecked
            )
            self.experiment_list.addItem(item)
        (self.some_experiments if chosen else self.all_experiments).setChecked(True)
        self.experiment_list.setEnabled(bool(chosen))
        self.some_experiments.toggled.connect(self.experiment_list.setEnabled)
        self.models = QCheckBox("The model registry and logged models")
        self.models.setChecked(True)
        self.traces = QCheckBox("Traces, with their spans and assessments")
        self.traces.setChecked(True)
        self.artifacts = QCheckBox("Artifact files of each run")
        self.artifact_pattern = QLineEdit()
        self.artifact_pattern.setPlaceholderText("every file, or a pattern such as *.json")
        self.artifact_pattern.setEnabled(False)
        self.artifact_estimate = QLabel()
        self.artifact_estimate.setTextFormat(Qt.TextFormat.PlainText)
        self.artifacts.toggled.connect(self.artifact_pattern.setEnabled)
        self.artifacts.toggled.connect(lambda on: self.estimate_wanted.emit() if on else None)
        self.artifact_pattern.editingFinished.connect(self.estimate_wanted.emit)
        form = QFormLayout()
        form.addRow("Mirror file:", where)
        self.progress = QProgressBar()
        self.progress.hide()
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.start_button = self.buttons.addButton(
            "Make Available Offline", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.open_button = self.buttons.addButton(
            "Open Mirror", QDialogButtonBox.ButtonRole.ApplyRole
        )
        self.open_button.hide()
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)
        self.start_button.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        self.choices = [
            self.all_experiments,
            self.some_experiments,
            self.experiment_list,
            self.models,
            self.traces,
            self.artifacts,
            self.artifact_pattern,
            self.artifact_estimate,
            self.destination,
            browse,
        ]
        for widget in self.choices[:-2]:
            layout.addWidget(widget)
        for widget in (self.progress, self.status, self.buttons):
            layout.addWidget(widget)
        self.resize(560, 580)

    def reject(self) -> None:
        self.close_requested.emit()

    def close_now(self) -> None:
        self.done(QDialog.DialogCode.Rejected)

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Mirror file", self.destination.text(), "SQLite store (*.db)"
        )
        if chosen:
            self.destination.setText(chosen if chosen.endswith(".db") else chosen + ".db")

    def chosen_experiments(self) -> list[str]:
        if self.all_experiments.isChecked():
            return []
        return [
            self.experiment_list.item(row).data(Qt.ItemDataRole.UserRole)
            for row in range(self.experiment_list.count())
            if self.experiment_list.item(row).checkState() == Qt.CheckState.Checked
        ]

    def options(self) -> MirrorOptions:
        from flowdeck.store.mirror import MirrorOptions

        return MirrorOptions(
            experiments=tuple(self.chosen_experiments()),
            models=self.models.isChecked(),
            traces=self.traces.isChecked(),
            artifacts=self.artifacts.isChecked(),
            artifact_pattern=self.artifact_pattern.text().strip() or None,
        )

    def problem(self) -> str | None:
        """Why the choices cannot be started, in plain words; None when they can."""
        if not self.destination.text().strip():
            return "Choose the file the mirror is kept in."
        if self.some_experiments.isChecked() and not self.chosen_experiments():
            return "Tick at least one experiment, or choose all of them."
        return None

    def show_running(self) -> None:
        for widget in self.choices:
            widget.setEnabled(False)
        self.start_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status.setText("Starting…")

    def show_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(done)
        self.status.setText(text)

    def show_outcome(self, text: str, succeeded: bool) -> None:
        """What happened; Open Mirror when there is a mirror to open."""
        self.status.setText(text)
        self.progress.setVisible(succeeded)
        if succeeded:
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
        self.start_button.hide()
        self.open_button.setVisible(succeeded)
        self.open_button.setDefault(succeeded)
        self.cancel_button.setText("Close")
        self.cancel_button.setEnabled(True)
