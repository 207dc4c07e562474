"""The artifact actions; Download…: the folder picker, the job on the runner, progress and Cancel."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from flowdeck.core.errors import FlowdeckError
from flowdeck.core.task_state import TaskState
from flowdeck.store.artifact_fetch import export
from flowdeck.store.artifact_owner import ArtifactOwner
from flowdeck.store.base import Store
from flowdeck.ui.crash import failure_text

FOLDER_SETTING = "artifacts/download_folder"


@dataclass(frozen=True)
class ArtifactActions:
    """The actions of the artifact toolbar and of the tree's context menu."""

    download: QAction
    open: QAction
    copy: QAction
    refresh: QAction
    register: QAction
    serve: QAction

    @classmethod
    def create(cls, parent: QObject) -> ArtifactActions:
        download = QAction("Download…", parent)
        download.setToolTip("Save this file or folder into a folder you pick")
        open_action = QAction("Open with the System's App", parent)
        open_action.setToolTip("Open the file with the application your system uses for it")
        copy = QAction("Copy URI\tCtrl+C", parent)  # the tree handles the key itself
        copy.setIconText("Copy URI")
        copy.setToolTip("Copy the artifact's URI (Ctrl+C in the tree)")
        refresh = QAction("Refresh", parent)
        refresh.setToolTip("List the artifacts again")
        register = QAction("Register Model…", parent)
        register.setToolTip("Register this model folder as a version in the model registry")
        register.setEnabled(False)
        serve = QAction("Serve Locally…", parent)
        serve.setToolTip("Run MLflow's scoring server on this model folder, on this machine")
        serve.setEnabled(False)
        return cls(download, open_action, copy, refresh, register, serve)

    def all(self) -> list[QAction]:
        return [self.download, self.open, self.copy, self.refresh, self.register, self.serve]


def artifact_name(path: str) -> str:
    """The name a download of ``path`` gets in the chosen folder."""
    return path.rsplit("/", 1)[-1] if path else "artifacts"


def download(state: TaskState, owner: ArtifactOwner, path: str, folder: Path) -> Path:
    """Fetch the artifact (cache or in place), then copy it into ``folder``; Qt-free."""
    local = owner.fetch(path, state)
    state.check()
    return export(state, local, folder, artifact_name(path))


def choose_folder(parent: QWidget, settings: Any) -> Path | None:
    """Ask for the folder to download into (starting at the last one used)."""
    start = settings.value(FOLDER_SETTING, str(Path.home()), str)
    chosen = QFileDialog.getExistingDirectory(parent, "Download to", start)
    if not chosen:
        return None
    settings.set_value(FOLDER_SETTING, chosen)
    return Path(chosen)


class DownloadBar(QWidget):
    """A line shown while this view's downloads run: what, how far, and Cancel (for all)."""

    finished = Signal(str, str)  # artifact path, where it landed
    failed = Signal(str, str)  # artifact path, plain message
    cancelled = Signal()

    def __init__(
        self,
        runner: Any,
        store: Store,
        run_id: str,
        parent: QWidget | None = None,
        owner: ArtifactOwner | None = None,
    ):
        super().__init__(parent)
        self.runner = runner
        self.store = store
        self.run_id = run_id
        self.owner = owner or ArtifactOwner(store, run_id)
        self._handles: dict[int, Any] = {}
        self._numbers = itertools.count(1)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(160)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the download; nothing half-written is kept")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        self.hide()

    @property
    def running(self) -> bool:
        return bool(self._handles)

    def start(self, path: str, folder: Path) -> Any:
        """Download ``path`` into ``folder`` as a labelled job; returns its task handle."""
        name = artifact_name(path)
        self.label.setText(f"Downloading {name}…")
        self.progress.setRange(0, 0)
        number = next(self._numbers)
        handle = self.runner.submit(
            download,
            self.owner,
            path,
            folder,
            owner=self,
            label=f"Downloading {name}",
            store=self.store,
            on_result=partial(self._done, number, path),
            on_error=partial(self._error, number, path),
            on_progress=partial(self._progressed, name),
        )
        self._handles[number] = handle
        self.show()
        return handle

    def cancel(self) -> None:
        """Cancel every running download of this bar."""
        handles, self._handles = list(self._handles.values()), {}
        for handle in handles:
            handle.cancel()
        self.hide()
        if handles:
            self.cancelled.emit()

    def _progressed(self, name: str, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(done, max(total, 1)))
        others = len(self._handles) - 1
        more = f" (+{others} more)" if others > 0 else ""
        self.label.setText(f"Downloading {name}: {text}{more}" if text else f"Downloading {name}")

    def _done(self, number: int, path: str, destination: Path) -> None:
        self._finish(number)
        self.finished.emit(path, str(destination))

    def _error(self, number: int, path: str, error: BaseException, _details: str) -> None:
        self._finish(number)
        if isinstance(error, FlowdeckError):
            self.failed.emit(path, error.message)
        else:
            self.failed.emit(path, failure_text(error, f"Downloading {artifact_name(path)}"))

    def _finish(self, number: int) -> None:
        self._handles.pop(number, None)
        if not self._handles:
            self.hide()
