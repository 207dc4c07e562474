"""Rename, tag, describe, delete/restore and copy the selected runs, as shortcut-bearing QActions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QDialog, QInputDialog, QLineEdit, QWidget

from flowdeck.core.errors import FlowdeckError
from flowdeck.store.base import Store
from flowdeck.store.writer import DESCRIPTION_TAG, Change, StoreWriter
from flowdeck.ui.edit.confirm import ConfirmChangesDialog
from flowdeck.ui.edit.description_editor import DescriptionEditor
from flowdeck.ui.edit.tags_editor import TagsEditor
from flowdeck.ui.tasks import TaskRunner

CHECKING_TEXT = "Checking whether this store can be edited…"
ACTIVE, DELETED = "active", "deleted"


@dataclass(frozen=True)
class RunRef:
    """The little the actions need to know about a selected run."""

    run_id: str
    name: str
    artifact_uri: str | None = None
    lifecycle_stage: str = ACTIVE


class RunActions(QObject):
    """QActions acting on the current run selection; writes run on the task runner.

    Call ``set_context(store, runs)`` whenever the store or the selection changes. Edit actions
    are disabled (the reason as tooltip) while the store is read-only. ``changed(Change)`` fires
    after a successful write, ``failed(str)`` with a plain message otherwise.
    """

    changed = Signal(object)
    failed = Signal(str)
    status = Signal(str)  # short texts for the status bar ("Deleted 2 runs")

    def __init__(
        self,
        runner: TaskRunner,
        dialog_parent: QWidget | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.dialog_parent = dialog_parent
        self.store: Store | None = None
        self.runs: list[RunRef] = []
        self.active_dialog: QDialog | None = None  # the open editor or confirmation, for tests
        self._writer: StoreWriter | None = None
        self._reason: str | None = CHECKING_TEXT

        def make(text: str, shortcut: str, slot: Callable[[], None], tip: str) -> QAction:
            action = QAction(text, self)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.setProperty("default_tip", tip)
            action.triggered.connect(slot)
            return action

        self.rename = make("Rename Run…", "F2", self.rename_selected, "Rename the run")
        self.edit_tags = make(
            "Edit Tags…", "Ctrl+T", self.edit_tags_of_selected, "Add, edit or delete tags"
        )
        self.edit_description = make(
            "Edit Description…",
            "Ctrl+E",
            self.edit_description_of_selected,
            "Edit the Markdown description",
        )
        self.delete = make("Delete Runs…", "Del", self.delete_selected, "Delete the selected runs")
        self.restore = make(
            "Restore Runs…",
            "Ctrl+Shift+R",
            self.restore_selected,
            "Restore the selected deleted runs",
        )
        self.copy_run_id = make(
            "Copy Run ID", "Ctrl+Shift+C", self.copy_run_ids, "Copy the run IDs to the clipboard"
        )
        self.copy_artifact_uri = make(
            "Copy Artifact URI", "Ctrl+Shift+U", self.copy_artifact_uris, "Copy the artifact URIs"
        )
        self.edit_actions = [
            self.rename,
            self.edit_tags,
            self.edit_description,
            self.delete,
            self.restore,
        ]
        self._update_actions()

    def actions(self) -> list[QAction]:
        """Every action, in menu order."""
        return [*self.edit_actions, self.copy_run_id, self.copy_artifact_uri]

    @property
    def read_only_reason(self) -> str | None:
        """Why edits are disabled (also while the check is still running); None when writable."""
        return self._reason

    # --- context ------------------------------------------------------------------------------

    def set_context(self, store: Store | None, runs: Sequence[RunRef]) -> None:
        """The store and selected runs the actions act on; re-checks writability on a new store."""
        self.runs = list(runs)
        if store is not self.store:
            self.store = store
            self._writer = None
            self._reason = CHECKING_TEXT if store is not None else "No store is open."
            if store is not None:
                self.runner.submit(
                    _read_only_reason,
                    store,
                    key=f"run-actions-guard-{id(self)}",
                    store=store,
                    on_result=lambda reason, s=store: self._set_reason(s, reason),
                    on_error=lambda error, _tb, s=store: self._set_reason(s, str(error)),
                )
        self._update_actions()

    def _set_reason(self, store: Store, reason: str | None) -> None:
        if store is self.store:
            self._reason = reason
            self._update_actions()

    def _update_actions(self) -> None:
        active = [run for run in self.runs if run.lifecycle_stage == ACTIVE]
        deleted = [run for run in self.runs if run.lifecycle_stage == DELETED]
        single_active = len(self.runs) == 1 and len(active) == 1
        wanted = {
            self.rename: single_active,
            self.edit_tags: bool(self.runs) and len(active) == len(self.runs),
            self.edit_description: single_active,
            self.delete: bool(active),
            self.restore: bool(deleted),
        }
        for action, applicable in wanted.items():
            action.setEnabled(applicable and self._reason is None)
            tip = self._reason or action.property("default_tip")
            action.setToolTip(tip)
            action.setStatusTip(tip)
        self.copy_run_id.setEnabled(bool(self.runs))
        self.copy_artifact_uri.setEnabled(any(run.artifact_uri for run in self.runs))

    # --- copy -----------------------------------------------------------------------------------

    def copy_run_ids(self) -> None:
        QGuiApplication.clipboard().setText("\n".join(run.run_id for run in self.runs))
        self.status.emit(f"Copied {_count(len(self.runs), 'run ID')}")

    def copy_artifact_uris(self) -> None:
        uris = [run.artifact_uri for run in self.runs if run.artifact_uri]
        QGuiApplication.clipboard().setText("\n".join(uris))
        self.status.emit(f"Copied {_count(len(uris), 'artifact URI')}")

    # --- rename ---------------------------------------------------------------------------------

    def rename_selected(self) -> None:
        if not self.rename.isEnabled():
            return
        run = self.runs[0]
        dialog = QInputDialog(self.dialog_parent)
        dialog.setWindowTitle("Rename Run")
        dialog.setLabelText("New name:")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.setTextValue(run.name)
        dialog.setOkButtonText("Rename")

        def finished(result: int) -> None:
            new_name = dialog.textValue().strip()
            if result == QDialog.DialogCode.Accepted and new_name and new_name != run.name:
                self._write(f"Renamed run to {new_name}", _rename, run.run_id, new_name)

        self._open(dialog, finished)

    # --- tags -----------------------------------------------------------------------------------

    def edit_tags_of_selected(self) -> None:
        if not self.edit_tags.isEnabled():
            return
        runs = list(self.runs)
        self._load_tags(runs, lambda tags: self._open_tags_editor(runs, tags))

    def _open_tags_editor(self, runs: list[RunRef], tags: list[dict[str, str]]) -> None:
        subject = runs[0].name if len(runs) == 1 else f"{len(runs)} runs"
        dialog = TagsEditor(tags, subject, self.dialog_parent)

        def finished(result: int) -> None:
            if result != QDialog.DialogCode.Accepted:
                return
            to_set, to_delete = dialog.changes()
            if to_set or to_delete:
                ids = [run.run_id for run in runs]
                text = f"Updated tags of {_count(len(ids), 'run')}"
                self._write(text, _apply_tags, ids, tags, to_set, to_delete)

        self._open(dialog, finished)

    # --- description ------------------------------------------------------------------------------

    def edit_description_of_selected(self) -> None:
        if not self.edit_description.isEnabled():
            return
        run = self.runs[0]
        self._load_tags([run], lambda tags: self._open_description_editor(run, tags[0]))

    def _open_description_editor(self, run: RunRef, tags: dict[str, str]) -> None:
        dialog = DescriptionEditor(tags.get(DESCRIPTION_TAG, ""), run.name, self.dialog_parent)

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted and dialog.is_changed():
                self._write("Saved the description", _describe, run.run_id, dialog.text())

        self._open(dialog, finished)

    # --- delete and restore -----------------------------------------------------------------------

    def delete_selected(self) -> None:
        if self.delete.isEnabled():
            self._confirm_lifecycle("Delete", [r for r in self.runs if r.lifecycle_stage == ACTIVE])

    def restore_selected(self) -> None:
        if self.restore.isEnabled():
            self._confirm_lifecycle(
                "Restore", [r for r in self.runs if r.lifecycle_stage == DELETED]
            )

    def _confirm_lifecycle(self, verb: str, runs: list[RunRef]) -> None:
        note = (
            "Deleted runs can be restored from the deleted-runs view." if verb == "Delete" else ""
        )
        names = [run.name or run.run_id for run in runs]
        dialog = ConfirmChangesDialog(verb, "run", names, note, self.dialog_parent)
        ids = [run.run_id for run in runs]
        work = _delete if verb == "Delete" else _restore

        def finished(result: int) -> None:
            if result == QDialog.DialogCode.Accepted:
                self._write(f"{verb}d {_count(len(ids), 'run')}", work, ids)

        self._open(dialog, finished)

    # --- plumbing ---------------------------------------------------------------------------------

    def _open(self, dialog: QDialog, finished: Callable[[int], None]) -> None:
        """Show ``dialog`` window-modal without a nested event loop; ``finished`` gets the result."""

        def done(result: int) -> None:
            if self.active_dialog is dialog:
                self.active_dialog = None
            dialog.deleteLater()
            finished(result)

        dialog.finished.connect(done)
        self.active_dialog = dialog
        dialog.open()

    def _load_tags(self, runs: list[RunRef], then: Callable[[list[dict[str, str]]], None]) -> None:
        store = self.store
        assert store is not None
        ids = [run.run_id for run in runs]
        self.runner.submit(
            _read_tags,
            store,
            ids,
            key=f"run-actions-load-{id(self)}",
            store=store,
            on_result=then,
            on_error=self._report_error,
        )

    def _write(self, done_text: str, work: Callable[..., Change], *args: Any) -> None:
        store = self.store
        assert store is not None

        def run(_state: Any) -> Change:
            if self._writer is None or self._writer.store is not store:
                self._writer = store.writer()
            return work(self._writer, *args)

        def delivered(change: Change) -> None:
            self.status.emit(done_text)
            self.changed.emit(change)

        self.runner.submit(run, store=store, on_result=delivered, on_error=self._report_error)

    def _report_error(self, error: BaseException, _details: str) -> None:
        if isinstance(error, FlowdeckError):
            self.failed.emit(error.message)
        else:
            self.failed.emit(f"The edit failed unexpectedly: {error}")


# --- worker-thread functions --------------------------------------------------------------------


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _read_only_reason(_state: Any, store: Store) -> str | None:
    return store.read_only_reason


def _read_tags(state: Any, store: Store, run_ids: list[str]) -> list[dict[str, str]]:
    tags = []
    for run_id in run_ids:
        state.check()
        tags.append(dict(store.run(run_id).tags))
    return tags


def _rename(writer: StoreWriter, run_id: str, name: str) -> Change:
    return writer.rename_run(run_id, name)


def _describe(writer: StoreWriter, run_id: str, text: str) -> Change:
    return writer.set_run_description(run_id, text)


def _delete(writer: StoreWriter, run_ids: list[str]) -> Change:
    return writer.delete_runs(run_ids)


def _restore(writer: StoreWriter, run_ids: list[str]) -> Change:
    return writer.restore_runs(run_ids)


def _apply_tags(
    writer: StoreWriter,
    run_ids: list[str],
    tags_before: list[dict[str, str]],
    to_set: dict[str, str],
    to_delete: list[str],
) -> Change:
    """Set the new values on every run (validated first), then delete keys where they exist."""
    if to_set:
        writer.set_run_tags(run_ids, to_set)
    for run_id, tags in zip(run_ids, tags_before, strict=True):
        for key in to_delete:
            if key in tags:
                writer.delete_run_tag(run_id, key)
    return Change("run", tuple(run_ids), "set_tag" if to_set else "delete_tag")
