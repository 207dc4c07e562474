"""Experiment actions of the sidebar (create, rename, delete, restore, describe, tag) and their writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QWidget

from flowdeck.core.errors import FlowdeckError
from flowdeck.store.base import Store
from flowdeck.ui.sidebar.dialogs import ConfirmDialog, DescriptionDialog, NameDialog, TagsDialog
from flowdeck.ui.sidebar.listing import DESCRIPTION_TAG, ExperimentEntry
from flowdeck.ui.sidebar.model import StoreTreeModel, rich_tooltip
from flowdeck.ui.tasks import TaskRunner

Selection = Callable[[], tuple[Store | None, list[ExperimentEntry]]]
MAX_LISTED = 20


def _count_runs(state: Any, store: Store, experiment_ids: list[str]) -> int:
    return len(store.runs(experiment_ids, view="active"))


def _names(entries: list[ExperimentEntry]) -> list[str]:
    listed = [f"'{entry.name}' (ID {entry.experiment_id})" for entry in entries[:MAX_LISTED]]
    if len(entries) > MAX_LISTED:
        listed.append(f"… and {len(entries) - MAX_LISTED} more")
    return listed


def delete_message(entries: list[ExperimentEntry], run_count: int) -> str:
    """The confirmation text: what the delete changes, in plain words."""
    runs = "run" if run_count == 1 else "runs"
    if len(entries) == 1:
        return f"Delete experiment '{entries[0].name}' and its {run_count} {runs}?"
    return f"Delete {len(entries)} experiments and their {run_count} {runs}?"


class ExperimentActions(QObject):
    """The QActions for experiments; dialogs open non-blocking (``current_dialog``)."""

    message = Signal(str)  # a plain-language outcome or error
    written = Signal(object)  # Store, after a write succeeded (the model is refreshing it)

    def __init__(
        self,
        model: StoreTreeModel,
        runner: TaskRunner,
        selection: Selection,
        parent_widget: QWidget,
    ) -> None:
        super().__init__(parent_widget)
        self._model, self._runner, self._selection = model, runner, selection
        self._widget = parent_widget
        self.current_dialog: QDialog | None = None
        self.create_action = self._action(
            "New experiment…", self.create, QKeySequence.StandardKey.New
        )
        self.rename_action = self._action("Rename…", self.rename, QKeySequence(Qt.Key.Key_F2))
        self.delete_action = self._action("Delete…", self.delete, QKeySequence.StandardKey.Delete)
        self.restore_action = self._action("Restore…", self.restore)
        self.describe_action = self._action("Edit description…", self.edit_description)
        self.tags_action = self._action("Edit tags…", self.edit_tags)
        self.refresh_action = self._action(
            "Refresh", self.refresh, QKeySequence.StandardKey.Refresh
        )
        self.update_state()

    @property
    def all_actions(self) -> list[QAction]:
        return [
            self.create_action,
            self.rename_action,
            self.delete_action,
            self.restore_action,
            self.describe_action,
            self.tags_action,
            self.refresh_action,
        ]

    def _action(
        self,
        text: str,
        slot: Callable[[], None],
        shortcut: QKeySequence | QKeySequence.StandardKey | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        return action

    # --- enabled state --------------------------------------------------------------------------

    def update_state(self) -> None:
        """Enable what the selection and the store allow; a disabled action says why."""
        store, entries = self._selection()
        blocked = self._blocked_reason(store)
        active = [e for e in entries if not e.deleted]
        deleted = [e for e in entries if e.deleted]
        self._set(
            self.create_action, store is not None, blocked, "Create an experiment in this store"
        )
        self._set(self.rename_action, len(entries) == 1, blocked, "Rename the experiment (F2)")
        self._set(
            self.delete_action,
            bool(active) and not deleted,
            blocked,
            "Delete the experiments (Del)",
        )
        self._set(
            self.restore_action,
            bool(deleted) and not active,
            blocked,
            "Restore deleted experiments",
        )
        self._set(
            self.describe_action, len(entries) == 1, blocked, "Edit the experiment's description"
        )
        self._set(self.tags_action, len(entries) == 1, blocked, "Edit the experiment's tags")
        self.refresh_action.setEnabled(store is not None)

    def _blocked_reason(self, store: Store | None) -> str | None:
        if store is None:
            return None
        if not self._model.is_loaded(store):
            return self._model.load_error(store) or "The store is still loading."
        reason = self._model.read_only_reason(store)
        return f"This store is read-only: {reason}" if reason else None

    @staticmethod
    def _set(action: QAction, applicable: bool, blocked: str | None, hint: str) -> None:
        action.setEnabled(applicable and blocked is None)
        action.setToolTip(rich_tooltip(blocked if blocked else hint))

    # --- actions ----------------------------------------------------------------------------------

    def create(self) -> None:
        store, _entries = self._selection()
        if store is None or not self.create_action.isEnabled():
            return
        dialog = NameDialog(
            "New experiment", "Name of the new experiment:", ok_text="Create", parent=self._widget
        )

        def save() -> None:
            name = dialog.name()  # read on the GUI thread: the dialog is gone when the task runs
            self._write(store, lambda w: w.create_experiment(name))

        self._show(dialog, save)

    def rename(self) -> None:
        store, entries = self._selection()
        if store is None or len(entries) != 1 or not self.rename_action.isEnabled():
            return
        entry = entries[0]
        dialog = NameDialog(
            "Rename experiment",
            f"New name for experiment '{entry.name}':",
            entry.name,
            "Rename",
            self._widget,
        )

        def save() -> None:
            name = dialog.name()
            self._write(store, lambda w: w.rename_experiment(entry.experiment_id, name))

        self._show(dialog, save)

    def delete(self) -> None:
        store, entries = self._selection()
        if store is None or not entries or not self.delete_action.isEnabled():
            return
        ids = [e.experiment_id for e in entries]

        def confirm(run_count: int) -> None:
            dialog = ConfirmDialog(
                "Delete experiments",
                delete_message(entries, run_count)
                + "\nDeleted experiments can be restored until the store is cleaned up.",
                _names(entries),
                "Delete",
                self._widget,
            )
            self._show(dialog, lambda: self._write_each(store, ids, "delete_experiment"))

        self._runner.submit(
            _count_runs,
            store,
            ids,
            store=store,
            on_result=confirm,
            on_error=lambda error, _trace: self._report(error),
        )

    def restore(self) -> None:
        store, entries = self._selection()
        if store is None or not entries or not self.restore_action.isEnabled():
            return
        ids = [e.experiment_id for e in entries]
        text = (
            f"Restore experiment '{entries[0].name}'?"
            if len(entries) == 1
            else f"Restore {len(entries)} experiments?"
        )
        dialog = ConfirmDialog(
            "Restore experiments", text, _names(entries), "Restore", self._widget
        )
        self._show(dialog, lambda: self._write_each(store, ids, "restore_experiment"))

    def edit_description(self) -> None:
        store, entries = self._selection()
        if store is None or len(entries) != 1 or not self.describe_action.isEnabled():
            return
        entry = entries[0]
        dialog = DescriptionDialog(entry.name, entry.description, self._widget)

        def save() -> None:
            text = dialog.text()
            if text != entry.description:
                self._write(
                    store, lambda w: w.set_experiment_description(entry.experiment_id, text)
                )

        self._show(dialog, save)

    def edit_tags(self) -> None:
        store, entries = self._selection()
        if store is None or len(entries) != 1 or not self.tags_action.isEnabled():
            return
        entry = entries[0]
        tags = {k: v for k, v in entry.tags.items() if k != DESCRIPTION_TAG}
        dialog = TagsDialog(entry.name, tags, self._widget)

        def save() -> None:
            to_set, to_delete = dialog.changes()
            if not to_set and not to_delete:
                return

            def apply(writer: Any) -> None:
                for key, value in to_set.items():
                    writer.set_experiment_tag(entry.experiment_id, key, value)
                for key in to_delete:
                    writer.delete_experiment_tag(entry.experiment_id, key)

            self._write(store, apply)

        self._show(dialog, save)

    def refresh(self) -> None:
        store, _entries = self._selection()
        if store is not None:
            self._model.refresh(store)

    # --- plumbing ----------------------------------------------------------------------------------

    def _show(self, dialog: QDialog, on_accept: Callable[[], None]) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(on_accept)
        dialog.finished.connect(lambda _code: self._forget(dialog))
        self.current_dialog = dialog
        dialog.open()

    def _forget(self, dialog: QDialog) -> None:
        if self.current_dialog is dialog:
            self.current_dialog = None

    def _write(self, store: Store, edit: Callable[[Any], object]) -> None:
        def work(state: Any) -> None:
            edit(store.writer())

        self._runner.submit(
            work,
            store=store,
            on_result=lambda _result: self._written(store),
            on_error=lambda error, _trace: self._failed_write(store, error),
        )

    def _write_each(self, store: Store, experiment_ids: list[str], method: str) -> None:
        def edit(writer: Any) -> None:
            for experiment_id in experiment_ids:
                getattr(writer, method)(experiment_id)

        self._write(store, edit)

    def _written(self, store: Store) -> None:
        self._model.refresh(store)
        self.written.emit(store)

    def _failed_write(self, store: Store, error: BaseException) -> None:
        self._model.refresh(store)  # a partial multi-step edit may have changed something
        self._report(error)

    def _report(self, error: BaseException) -> None:
        text = error.message if isinstance(error, FlowdeckError) else f"The edit failed: {error}"
        self.message.emit(text)
