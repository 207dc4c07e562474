"""The preview host: builds a PreviewSource for an artifact, picks its previewer and shows it."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from flowdeck.core.artifacts import kinds
from flowdeck.core.artifacts.kinds import SNIFF_BYTES, kind_of, logged_tables
from flowdeck.core.entities import ArtifactEntry
from flowdeck.core.errors import FlowdeckError
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import format_size
from flowdeck.store.artifact_owner import ArtifactOwner
from flowdeck.store.base import Store
from flowdeck.ui.artifacts.previewer import Previewer, PreviewSource, best_previewer
from flowdeck.ui.crash import failure_text

FOLDER_KIND = "folder"
NO_PREVIEW_TEXT = "No preview for this kind of file yet"
FOLDER_TEXT = "A folder of {count} item{s}: pick a file on the left to preview it."
EMPTY_RUN_TEXT = "This run has no artifacts."


def missing_text(path: str) -> str:
    return f"There is no artifact '{path}' in this run."


class PreviewHost(QWidget):
    """Shows one artifact at a time; a newer ``show_artifact`` supersedes the one in progress.

    Reads run on the task runner with ``owner=self``: first the fetch and the file's first
    bytes (to tell its kind), then the chosen previewer's ``prepare``; ``show_data`` follows on
    the GUI thread. Store errors become a plain message here; bugs go to the crash dialog.
    """

    open_requested = Signal(str)  # a previewer asks for another artifact path
    message = Signal(str)  # a previewer's short status text
    shown = Signal(str)  # the artifact path whose preview or message is now on screen
    open_external_requested = Signal(str)  # a previewer asks to open a file in the system viewer

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
        self.path: str | None = None  # what is shown, or being read for showing
        self.source: PreviewSource | None = None
        self.previewer: Previewer | None = None
        self._fetched: dict[str, Path] = {}
        self._lock = threading.Lock()
        self._tables: frozenset[str] | None = None  # read on a worker on first need

        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel(self)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.note)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)

    # --- what the browser calls ----------------------------------------------------------------

    def show_artifact(
        self,
        path: str,
        is_dir: bool,
        size: int | None = None,
        entries: tuple[ArtifactEntry, ...] | None = None,
    ) -> None:
        """Show a file or folder; ``entries``: the folder's children, or a file's siblings."""
        self._drop_previewer()
        self.path = path
        self.source = None
        self.title.setText(_title(path, is_dir, size))
        self._show_note("Loading…")
        self.runner.submit(
            self._inspect,
            path,
            is_dir,
            size,
            entries,
            key="preview",
            owner=self,
            store=self.store,
            on_result=self._inspected,
            on_error=partial(self._failed, path),
        )

    def show_message(self, text: str, path: str | None = None) -> None:
        """A plain message instead of a preview (a missing path, a refused name)."""
        self.runner.cancel_owner(self)
        self._drop_previewer()
        self.path = path
        self.source = None
        self.title.setText(path or "")
        self._show_note(text)
        self.shown.emit(path or "")

    def message_text(self) -> str:
        """The message on screen; "" while a previewer is shown."""
        return self.note.text() if self.stack.currentWidget() is self.note else ""

    def fetch(self, state: TaskState, path: str) -> Path:
        """The ``Fetch`` of every ``PreviewSource``: a local file, each path fetched once."""
        with self._lock:
            known = self._fetched.get(path)
        if known is not None and known.exists():  # the cache folder may have been cleared
            return known
        local = self.owner.fetch(path, state)
        with self._lock:
            self._fetched[path] = local
        return local

    def local_file(self, path: str) -> Path | None:
        """The local file of an artifact fetched already (no I/O), else None."""
        with self._lock:
            return self._fetched.get(path)

    def forget_fetched(self) -> None:
        """Fetch again from now on (Refresh)."""
        with self._lock:
            self._fetched.clear()

    def stop(self) -> None:
        """Cancel every read of the host and of its previewer."""
        self.runner.cancel_owner(self)
        if self.previewer is not None:
            self.runner.cancel_owner(self.previewer)

    # --- the two steps ----------------------------------------------------------------------------

    def _inspect(
        self,
        state: TaskState,
        path: str,
        is_dir: bool,
        size: int | None,
        entries: tuple[ArtifactEntry, ...] | None,
    ) -> PreviewSource:
        if is_dir:
            if entries is None:
                entries = tuple(self.owner.list(path))
            return PreviewSource(self.run_id, path, True, FOLDER_KIND, None, entries, self.fetch)
        if entries is None:
            entries = tuple(self.owner.list(path.rpartition("/")[0]))
        local = self.fetch(state, path)
        state.check()
        try:
            with local.open("rb") as handle:
                head = handle.read(SNIFF_BYTES)
        except OSError as error:
            raise FlowdeckError(f"Cannot read '{path}': {error.strerror or error}.") from error
        if size is None:
            size = local.stat().st_size
        kind = kind_of(path.rsplit("/", 1)[-1], head)
        if kind == kinds.JSON and path in self._logged_tables(state):
            kind = kinds.TABLE  # mlflow.log_table writes JSON; the run's tag says so
        return PreviewSource(self.run_id, path, False, kind, size, entries, self.fetch)

    def _logged_tables(self, state: TaskState) -> frozenset[str]:
        """Paths MLflow's ``log_table`` wrote (the run's ``mlflow.loggedArtifacts`` tag)."""
        if self._tables is None:
            state.check()
            self._tables = logged_tables(self.owner.tags())
        return self._tables

    def _inspected(self, source: PreviewSource) -> None:
        if source.path != self.path:
            return
        self.source = source
        chosen = best_previewer(source)
        if chosen is None:
            empty = source.is_dir and not source.path and not source.entries
            if empty:
                self._show_note(EMPTY_RUN_TEXT)
            elif source.is_dir:
                count = len(source.entries or ())
                self._show_note(FOLDER_TEXT.format(count=count, s="" if count == 1 else "s"))
            else:
                self._show_note(NO_PREVIEW_TEXT)
            self.shown.emit(source.path)
            return
        widget = chosen(self.runner, self)
        widget.open_requested.connect(self.open_requested)
        widget.message.connect(self.message)
        open_externally = getattr(widget, "open_externally", None)
        if open_externally is not None:
            open_externally.connect(self.open_external_requested)
        self.previewer = widget
        self.stack.addWidget(widget)
        self.runner.submit(
            chosen.prepare,
            source,
            key="preview",
            owner=self,
            store=self.store,
            on_result=partial(self._prepared, widget, source.path),
            on_error=partial(self._failed, source.path),
        )

    def _prepared(self, widget: Previewer, path: str, data: Any) -> None:
        if widget is not self.previewer or path != self.path:
            return
        try:
            widget.show_data(data)
        except Exception as error:  # a previewer's bug: report it, keep the browser going
            self._show_note(failure_text(error, f"Previewing {path}"))
            self.shown.emit(path)
            return
        self.stack.setCurrentWidget(widget)
        self.shown.emit(path)

    def _failed(self, path: str, error: BaseException, _details: str) -> None:
        if path != self.path:
            return
        if isinstance(error, FlowdeckError):
            self._show_note(error.message)
        else:
            self._show_note(failure_text(error, f"Previewing {path or 'the artifacts'}"))
        self.shown.emit(path)

    # --- widgets ----------------------------------------------------------------------------------

    def _show_note(self, text: str) -> None:
        self.note.setText(text)
        self.stack.setCurrentWidget(self.note)

    def _drop_previewer(self) -> None:
        old, self.previewer = self.previewer, None
        if old is not None:
            self.runner.cancel_owner(old)
            self.stack.removeWidget(old)
            old.deleteLater()


def _title(path: str, is_dir: bool, size: int | None) -> str:
    name = path or "All artifacts"
    if is_dir or size is None:
        return name
    return f"{name} — {format_size(size)}"
