"""The Artifacts tab of a run: a lazily listed artifact tree beside the preview host, with actions."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPoint, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QDrag, QGuiApplication
from PySide6.QtWidgets import QLabel, QMenu, QSplitter, QToolBar, QVBoxLayout, QWidget

import flowdeck.ui.artifacts.previews  # noqa: F401 - registered before the first preview, not during it
from flowdeck.core.entities import ArtifactEntry
from flowdeck.core.errors import FlowdeckError
from flowdeck.store.artifact_owner import ArtifactOwner
from flowdeck.store.artifacts import clean_relative
from flowdeck.store.base import Store
from flowdeck.ui.artifacts.downloads import (
    ArtifactActions,
    DownloadBar,
    artifact_name,
    choose_folder,
)
from flowdeck.ui.artifacts.host import PreviewHost, missing_text
from flowdeck.ui.artifacts.tree_model import (
    FAILED,
    LISTED,
    UNLISTED,
    ArtifactTree,
    ArtifactTreeModel,
    artifact_root,
    artifact_uri,
    list_artifacts,
)
from flowdeck.ui.crash import failure_text
from flowdeck.ui.registry.register_dialog import RegisterSource, Registration
from flowdeck.ui.serving.serve_action import ServeLocally

if TYPE_CHECKING:
    from flowdeck.ui.shell.page import Shell

DRAG_LATER_TEXT = "Downloading; drag again when done"


class ArtifactsView(QWidget):
    """A run's artifacts: the tree (listed folder by folder on the runner) and the preview host.

    ``select_path`` shows a path from outside (the address ``run/<id>/artifacts/<path>``);
    ``path_changed`` tells the page when the user selected something else.
    """

    path_changed = Signal(str)  # the user selected an artifact ("" for the root)
    loaded = Signal()  # the top folder was listed (or could not be)
    status = Signal(str)  # a short text about an action (copied, downloaded, failed)
    open_requested = Signal(object, bool)  # an Address to open (a newly registered version)

    def __init__(
        self,
        shell: Shell,
        store: Store,
        run_id: str,
        path: str = "",
        parent: QWidget | None = None,
        *,
        model_id: str = "",
    ) -> None:
        """The artifacts of run ``run_id``, or of logged model ``model_id`` when given."""
        super().__init__(parent)
        self.shell = shell
        self.runner = shell.runner
        self.store = store
        self.run_id = run_id
        self.artifact_owner = ArtifactOwner(store, run_id, model_id)
        self.root_uri: str | None = None
        self._waiting_for_root: list[str] = []  # Copy URI asked before the root was known
        self._pending: str | None = None
        self._pending_user = False
        self._programmatic = False
        self._generation = 0
        self._current: str | None = None

        self.model = ArtifactTreeModel(self)
        self.tree = ArtifactTree(self.model, self)
        self.host = PreviewHost(self.runner, store, run_id, self, self.artifact_owner)
        self.model.local_file = self.host.local_file
        self.downloads = DownloadBar(self.runner, store, run_id, self, self.artifact_owner)
        self.note = QLabel(self)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.note.hide()

        self.artifact_actions = ArtifactActions.create(self)
        self.artifact_actions.download.triggered.connect(lambda: self.download())
        self.artifact_actions.open.triggered.connect(lambda: self.open_external())
        self.artifact_actions.copy.triggered.connect(lambda: self.copy_uri())
        self.artifact_actions.refresh.triggered.connect(self.refresh)
        self.artifact_actions.register.triggered.connect(lambda: self.register_model())
        self.artifact_actions.serve.triggered.connect(lambda: self.serve_model())
        self.serving = ServeLocally(shell, self)
        self.serving.open_requested.connect(self.open_requested)
        self.registration = Registration(shell, self)
        shell.context.read_only_changed.connect(
            lambda changed, _reason: self._update_register() if changed is store else None
        )
        self.registration.registered.connect(
            lambda address: self.open_requested.emit(address, False)
        )
        self.toolbar = QToolBar(self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.addActions(self.actions_list())

        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.toolbar)
        right_layout.addWidget(self.downloads)
        right_layout.addWidget(self.note)
        right_layout.addWidget(self.host, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self.tree.selectionModel().currentChanged.connect(self._current_changed)
        self.tree.expanded.connect(self._expanded)
        self.tree.enter_pressed.connect(self._enter)
        self.tree.copy_requested.connect(lambda: self.copy_uri())
        self.tree.drag_started.connect(self._drag_started)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.host.open_requested.connect(lambda target: self.select_path(target, user=True))
        self.host.message.connect(self._say)
        self.host.open_external_requested.connect(self.open_external)
        self.downloads.finished.connect(self._downloaded)
        self.downloads.failed.connect(lambda _path, text: self._say(text))
        self.downloads.cancelled.connect(lambda: self._say("Download cancelled."))

        self.destroyed.connect(partial(_cancel_owned, self.runner, self, self.host, self.downloads))
        self._list("")
        self._read_root()
        self.select_path(path)

    # --- public API ---------------------------------------------------------------------------

    def actions_list(self) -> list[QAction]:
        """The actions of the toolbar and of the tree's context menu."""
        return self.artifact_actions.all()

    def current_path(self) -> str | None:
        """The artifact path shown in the host ("" for the root; None before anything is)."""
        return self._current

    def select_path(self, path: str, *, user: bool = False) -> None:
        """Select and show ``path``, listing and expanding its folders as needed.

        A name the store refuses or a path that does not exist shows a plain message. With
        ``user`` the selection counts as the user's own (``path_changed`` is emitted).
        """
        try:
            clean = clean_relative(path)
        except FlowdeckError as error:
            self._pending = None
            self._show_message(error.message, path)
            return
        self._pending, self._pending_user = clean, user
        self._advance()

    def refresh(self) -> None:
        """List everything again, fetch previews again and show the same path."""
        current = self._current or ""
        self._generation += 1
        self.runner.cancel_owner(self)
        self.host.forget_fetched()
        self.model.reset()
        self._list("")
        if self.root_uri is None:
            self._read_root()
        self.select_path(current)

    def download(self, path: str | None = None, folder: Path | None = None) -> None:
        """Download… ``path`` (the current one by default) into ``folder`` (asked when None)."""
        path = self._target(path)
        chosen = folder or choose_folder(self, self.shell.settings)
        if chosen is not None:
            self.downloads.start(path, chosen)

    def open_external(self, path: str | None = None) -> None:
        """Fetch the artifact, then open it with the system's application for it."""
        path = self._target(path)
        self._fetch_job(path, "open", "Opening", partial(self._open_local, path))

    def copy_uri(self, path: str | None = None) -> None:
        """Copy the artifact's URI (the run's artifact root + path) to the clipboard."""
        path = self._target(path)
        if self.root_uri is None:
            self._waiting_for_root.append(path)
            return
        uri = artifact_uri(self.root_uri, path)
        QGuiApplication.clipboard().setText(uri)
        self._say(f"Copied {uri}")

    def model_folder(self, path: str | None = None) -> str | None:
        """The model folder at ``path`` (a folder holding an MLmodel, or the MLmodel file)."""
        path = self._current if path is None else path
        if path is None:
            return None
        node = self.model.node(path) if path else None
        folder = (
            path if (not path or (node is not None and node.is_dir)) else path.rpartition("/")[0]
        )
        entries = self.model.entries(folder) or ()
        has_mlmodel = any(entry.path.rsplit("/", 1)[-1] == "MLmodel" for entry in entries)
        return folder if has_mlmodel else None

    def register_model(self, path: str | None = None) -> None:
        """Register… the model folder at ``path`` (the current one by default)."""
        folder = self.model_folder(path)
        if folder is None:
            self._say("Pick a model folder (one that holds an MLmodel file) to register it.")
            return
        uri = f"runs:/{self.run_id}/{folder}" if folder else f"runs:/{self.run_id}"
        name = folder.rsplit("/", 1)[-1] or "model"
        self.registration.start(
            self.store, RegisterSource(uri, run_id=self.run_id, suggested_name=name)
        )

    def serve_model(self) -> None:
        """Serve Locally… the model folder that is selected (or the logged model)."""
        if self.artifact_owner.is_model:
            self.serving.start(self.store, f"models:/{self.artifact_owner.model_id}")
            return
        folder = self.model_folder()
        if folder is not None:
            suffix = f"/{folder}" if folder else ""
            self.serving.start(self.store, f"runs:/{self.run_id}{suffix}")

    def _update_register(self) -> None:
        action = self.artifact_actions.register
        serve = self.artifact_actions.serve
        if self.artifact_owner.is_model:  # a logged model registers and serves from its page
            action.setVisible(False)
            serve.setVisible(False)
            return
        current = self._current
        node = self.model.node(current) if current else None
        if node is not None and node.is_dir and self.model.state_of(current) == UNLISTED:
            self._list(current)  # whether it holds an MLmodel shows once it is listed
        reason = self.shell.context.read_only_reason(self.store)
        folder = self.model_folder()
        serve.setEnabled(folder is not None)
        action.setEnabled(folder is not None and reason is None)
        action.setToolTip(
            reason
            or (
                "Register this model folder as a model version"
                if folder is not None
                else "Select a folder that holds an MLmodel file to register it"
            )
        )

    def drag_mime(self, path: str) -> Any:
        """The drag data of an artifact fetched already (its local file URL), else None."""
        return self.model.mimeData([self.model.index_of(path)])

    def build_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.addActions(self.actions_list())
        return menu

    def close_view(self) -> None:
        """The page is closing: stop listings, previews and downloads."""
        self.runner.cancel_owner(self)
        self.host.stop()
        self.downloads.cancel()

    # --- listing --------------------------------------------------------------------------------

    def _list(self, path: str) -> None:
        self.model.mark_loading(path)
        self.runner.submit(
            list_artifacts,
            self.artifact_owner,
            path,
            key=f"list:{path}",
            owner=self,
            store=self.store,
            on_result=partial(self._listed, self._generation, path),
            on_error=partial(self._list_failed, self._generation, path),
        )

    def _listed(self, generation: int, path: str, entries: list[ArtifactEntry]) -> None:
        if generation != self._generation:
            return
        self.model.set_listing(path, entries)
        self._update_register()
        self._advance()
        if not path:
            self.loaded.emit()

    def _list_failed(self, generation: int, path: str, error: BaseException, _details: str) -> None:
        if generation != self._generation:
            return
        text = failure_text(error, "Listing the artifacts")
        self.model.set_failed(path, text)
        pending = self._pending
        if pending is not None and (not path or pending == path or pending.startswith(path + "/")):
            self._pending = None
            self._show_message(text, pending)
        if not path:
            self.loaded.emit()

    def _expanded(self, index: QModelIndex) -> None:
        path = self.model.path_of(index)
        if path is not None and self.model.state_of(path) in (UNLISTED, FAILED):
            self._list(path)

    def _read_root(self) -> None:
        self.runner.submit(
            artifact_root,
            self.artifact_owner,
            key="root",
            owner=self,
            store=self.store,
            on_result=self._root_read,
            on_error=self._action_failed,
        )

    def _root_read(self, uri: str | None) -> None:
        self.root_uri = uri or ""
        waiting, self._waiting_for_root = self._waiting_for_root, []
        for path in waiting:
            self.copy_uri(path)

    # --- selection --------------------------------------------------------------------------------

    def _advance(self) -> None:
        """Walk the pending path down the tree; wait where a folder is still being listed."""
        target = self._pending
        if target is None:
            return
        parts = target.split("/") if target else []
        prefix = ""
        for depth in range(len(parts) + 1):
            state = self.model.state_of(prefix)
            if state != LISTED:
                if state in (UNLISTED, FAILED):
                    self._list(prefix)
                return
            if depth == len(parts):
                break
            child = f"{prefix}/{parts[depth]}" if prefix else parts[depth]
            node = self.model.node(child)
            last = depth == len(parts) - 1
            if node is None or (not last and not node.is_dir):
                self._pending = None
                self._show_message(missing_text(target), target)
                return
            if last:
                prefix = child
                break
            self.tree.expand(self.model.index_of(child))
            prefix = child
        self._pending = None
        self._select(target, self._pending_user)

    def _select(self, path: str, user: bool) -> None:
        self._programmatic = not user
        try:
            if not path:
                self.tree.setCurrentIndex(QModelIndex())
                self._show("")
            else:
                index = self.model.index_of(path)
                if self.tree.currentIndex() == index:
                    if self.host.path != path:
                        self._show(path)
                else:
                    self.tree.setCurrentIndex(index)
                self.tree.scrollTo(index)
            if user and not path:
                self.path_changed.emit(path)
        finally:
            self._programmatic = False

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        path = self.model.path_of(current)
        if path is None:
            return
        self._show(path)
        if not self._programmatic:
            self.path_changed.emit(path)

    def _show(self, path: str) -> None:
        node = self.model.node(path)
        if node is None:
            return
        self._current = path
        self._update_register()
        parent = path if node.is_dir else path.rpartition("/")[0]
        self.host.show_artifact(path, node.is_dir, node.size, self.model.entries(parent))

    def _show_message(self, text: str, path: str) -> None:
        self._programmatic = True
        try:
            self.tree.setCurrentIndex(QModelIndex())
        finally:
            self._programmatic = False
        self._current = None
        self.host.show_message(text, path)

    def _enter(self, index: QModelIndex) -> None:
        path = self.model.path_of(index)
        node = None if path is None else self.model.node(path)
        if path is None or node is None:
            return
        if node.is_dir:
            self.tree.setExpanded(index, not self.tree.isExpanded(index))
        if self.host.path != path:
            self._show(path)
            self.path_changed.emit(path)

    # --- actions ------------------------------------------------------------------------------------

    def _target(self, path: str | None) -> str:
        return path if path is not None else (self._current or "")

    def _context_menu(self, position: QPoint) -> None:
        index = self.tree.indexAt(position)
        if index.isValid():
            if self.model.path_of(index) is None:
                return
            self.tree.setCurrentIndex(index)
        self.build_menu().exec(self.tree.viewport().mapToGlobal(position))

    def _open_local(self, path: str, local: Path) -> None:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(local))):
            self._say(f"No application on this system opens {artifact_name(path)}.")

    def _drag_started(self, path: str) -> None:
        mime = self.drag_mime(path)
        if mime is None:
            self._say(DRAG_LATER_TEXT)
            ready = f"{artifact_name(path)} is ready to drag."
            self._fetch_job(path, "drag", "Downloading", lambda _local: self._say(ready))
            return
        drag = QDrag(self.tree)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.CopyAction)

    def _fetch_job(self, path: str, key: str, verb: str, done: Callable[[Path], None]) -> None:
        label = f"{verb} {artifact_name(path)}"
        self.runner.submit(
            self.host.fetch,
            path,
            key=key,
            owner=self,
            label=label,
            store=self.store,
            on_result=done,
            on_error=self._action_failed,
        )

    def _downloaded(self, path: str, destination: str) -> None:
        self._say(f"Downloaded {artifact_name(path)} to {destination}")

    def _action_failed(self, error: BaseException, _details: str) -> None:
        self._say(failure_text(error, "The artifact action"))

    def _say(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))
        self.status.emit(text)


def _cancel_owned(runner: Any, view: QWidget, host: PreviewHost, bar: DownloadBar, *_: Any) -> None:
    """The view is gone (its page closed without ``close_view``): nothing may deliver to it."""
    for owner in (view, host, bar, host.previewer):
        if owner is not None:
            runner.cancel_owner(owner)
