"""Edit commands on the focused experiments or runs: one set of dialogs, one write path."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog, QWidget

from flowdeck.core.context import Item, Selection
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.store.writer_core import Change  # the writer itself loads on first use
from flowdeck.ui.edit.confirm import ConfirmChangesDialog
from flowdeck.ui.edit.description_editor import DescriptionEditor
from flowdeck.ui.edit.name_dialog import NameDialog
from flowdeck.ui.edit.tags_editor import TagsEditor
from flowdeck.ui.shell.context import Context
from flowdeck.ui.shell.writes import WritePath
from flowdeck.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from flowdeck.store.writer import StoreWriter

NOUNS = {"experiment": "experiment", "run": "run"}
EDITABLE_KINDS = frozenset(NOUNS)


def count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


class Edits(QObject):
    """Rename, tags, description, delete, restore and create, for experiments and runs alike.

    Each command acts on ``context.focus`` (the sidebar's experiments or a page's runs);
    ``why_not(name)`` says in plain words why a command cannot run now (None when it can).
    """

    def __init__(
        self,
        runner: TaskRunner,
        writes: WritePath,
        context: Context,
        dialog_parent: QWidget | None = None,
    ) -> None:
        super().__init__(dialog_parent)
        self.runner, self.writes, self.context = runner, writes, context
        self.dialog_parent = dialog_parent
        self.active_dialog: QDialog | None = None

    # --- enabled-when ------------------------------------------------------------------------------

    def target_store(self) -> Store | None:
        focus = self.context.focus
        if focus.store is not None:
            return focus.store
        if self.context.store is not None:
            return self.context.store
        stores = self.context.stores
        return stores[0] if len(stores) == 1 else None

    def _blocked(self, store: Store | None) -> str | None:
        reason = self.context.read_only_reason(store)
        if store is None or reason is None:
            return reason
        return f"This store is read-only: {reason}"

    def why_not(self, command: str, focus: Selection | None = None) -> str | None:
        """None when ``command`` can act on ``focus`` (the context's by default) now, else the
        reason in plain words."""
        if command == "create_experiment":
            store = focus.store if focus is not None and focus.store else self.target_store()
            return "Open a store first." if store is None else self._blocked(store)
        focus = self.context.focus if focus is None else focus
        if focus.kind not in EDITABLE_KINDS or not focus:
            return "Select experiments in the sidebar or runs in a table first."
        noun = NOUNS[focus.kind]
        single = len(focus.items) == 1
        wanted = {
            "rename": (single and not focus.deleted, f"Select one active {noun}."),
            "edit_tags": (
                not focus.deleted and (focus.kind == "run" or single),
                f"Select active {noun}s." if focus.kind == "run" else "Select one experiment.",
            ),
            "edit_description": (single and not focus.deleted, f"Select one active {noun}."),
            "delete": (bool(focus.active) and not focus.deleted, f"Select active {noun}s."),
            "restore": (bool(focus.deleted) and not focus.active, f"Select deleted {noun}s."),
        }
        applicable, hint = wanted[command]
        return self._blocked(focus.store) if applicable else hint

    # --- commands ----------------------------------------------------------------------------------

    def create_experiment(self) -> None:
        store = self.target_store()
        if store is None or self.why_not("create_experiment"):
            return
        dialog = NameDialog(
            "New Experiment", "Name of the new experiment:", ok_text="Create",
            parent=self.dialog_parent,
        )

        def accepted() -> None:
            name = dialog.name()
            self.writes.write(
                store, lambda w: w.create_experiment(name), f"Created experiment {name}"
            )

        self._open(dialog, accepted)

    def rename(self) -> None:
        focus = self.context.focus
        if self.why_not("rename"):
            return
        item, noun = focus.items[0], NOUNS[focus.kind]
        dialog = NameDialog(
            f"Rename {noun.title()}",
            f"New name for {noun} '{item.name}':",
            item.name,
            "Rename",
            self.dialog_parent,
        )

        def accepted() -> None:
            name = dialog.name()
            method = "rename_experiment" if focus.kind == "experiment" else "rename_run"
            self.writes.write(
                focus.store, lambda w: getattr(w, method)(item.id, name),
                f"Renamed {noun} to {name}",
            )

        self._open(dialog, accepted)

    def edit_tags(self) -> None:
        focus = self.context.focus
        if self.why_not("edit_tags"):
            return
        self._load_tags(focus, lambda tags: self._tags_editor(focus, tags))

    def _tags_editor(self, focus: Selection, tags: list[dict[str, str]]) -> None:
        noun = NOUNS[focus.kind]
        subject = focus.items[0].name if len(focus.items) == 1 else count(len(focus.items), noun)
        dialog = TagsEditor(tags, subject, self.dialog_parent)

        def accepted() -> None:
            to_set, to_delete = dialog.changes()
            if not to_set and not to_delete:
                return
            ids = focus.ids
            touched = Change(focus.kind, tuple(ids), "set_tag")
            self.writes.write(
                focus.store,
                lambda w: apply_tags(w, focus.kind, ids, tags, to_set, to_delete),
                f"Updated tags of {count(len(ids), noun)}",
                on_failure_refresh=touched,
            )

        self._open(dialog, accepted)

    def edit_description(self) -> None:
        focus = self.context.focus
        if self.why_not("edit_description"):
            return
        item = focus.items[0]
        self._load_tags(focus, lambda tags: self._description_editor(focus, item, tags[0]))

    def _description_editor(self, focus: Selection, item: Item, tags: dict[str, str]) -> None:
        from flowdeck.store.writer import DESCRIPTION_TAG

        dialog = DescriptionEditor(tags.get(DESCRIPTION_TAG, ""), item.name, self.dialog_parent)

        def accepted() -> None:
            if not dialog.is_changed():
                return
            text = dialog.text()
            method = (
                "set_experiment_description"
                if focus.kind == "experiment"
                else "set_run_description"
            )
            self.writes.write(
                focus.store, lambda w: getattr(w, method)(item.id, text), "Saved the description"
            )

        self._open(dialog, accepted)

    def delete(self) -> None:
        focus = self.context.focus
        if self.why_not("delete"):
            return
        if focus.kind == "experiment":
            self.runner.submit(
                _count_runs,
                focus.store,
                focus.ids,
                store=focus.store,
                label="Counting the runs to delete",
                on_result=lambda runs: self._confirm(focus, "Delete", focus.active, runs),
                on_error=self._load_failed,
            )
        else:
            self._confirm(focus, "Delete", focus.active)

    def restore(self) -> None:
        focus = self.context.focus
        if not self.why_not("restore"):
            self._confirm(focus, "Restore", focus.deleted)

    def _confirm(
        self, focus: Selection, verb: str, items: list[Item], run_count: int | None = None
    ) -> None:
        noun = NOUNS[focus.kind]
        notes = []
        if run_count is not None:
            notes.append(f"Their {count(run_count, 'run')} are deleted with them.")
        if verb == "Delete":
            notes.append(f"Deleted {noun}s can be restored until the store is cleaned up.")
        names = [item.name or item.id for item in items]
        dialog = ConfirmChangesDialog(verb, noun, names, " ".join(notes), self.dialog_parent)
        ids = [item.id for item in items]
        work = _lifecycle_work(focus.kind, verb, ids)
        self.active_dialog = dialog
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self.writes.write(
            focus.store,
            work,
            f"{verb}d {count(len(ids), noun)}",
            confirm=dialog,
            on_failure_refresh=Change(focus.kind, tuple(ids), verb.lower()),
        )

    def _forget(self, dialog: QDialog) -> None:
        if self.active_dialog is dialog:
            self.active_dialog = None

    # --- plumbing -----------------------------------------------------------------------------------

    def _open(self, dialog: QDialog, accepted: Callable[[], None]) -> None:
        """Show ``dialog`` window-modal without a nested event loop."""

        def finished(result: int) -> None:
            if self.active_dialog is dialog:
                self.active_dialog = None
            dialog.deleteLater()
            if result == QDialog.DialogCode.Accepted:
                accepted()

        dialog.finished.connect(finished)
        self.active_dialog = dialog
        dialog.open()

    def _load_tags(self, focus: Selection, then: Callable[[list[dict[str, str]]], None]) -> None:
        self.runner.submit(
            _read_tags,
            focus.store,
            focus.kind,
            focus.ids,
            store=focus.store,
            label="Reading tags",
            on_result=then,
            on_error=self._load_failed,
        )

    def _load_failed(self, error: BaseException, details: str) -> None:
        self.writes.report(error)


# --- worker-thread functions ------------------------------------------------------------------------


def _count_runs(state: TaskState, store: Store, experiment_ids: list[str]) -> int:
    return len(store.runs(experiment_ids, view="active"))


def _read_tags(state: TaskState, store: Store, kind: str, ids: list[str]) -> list[dict[str, str]]:
    tags = []
    for item_id in ids:
        state.check()
        source = store.experiment(item_id) if kind == "experiment" else store.run(item_id)
        tags.append(dict(source.tags))
    return tags


def _lifecycle_work(kind: str, verb: str, ids: list[str]) -> Callable[[StoreWriter], Any]:
    if kind == "run":
        return (lambda w: w.delete_runs(ids)) if verb == "Delete" else (lambda w: w.restore_runs(ids))
    method = "delete_experiment" if verb == "Delete" else "restore_experiment"

    def each(writer: StoreWriter) -> list[Change]:
        return [getattr(writer, method)(experiment_id) for experiment_id in ids]

    return each


def apply_tags(
    writer: StoreWriter,
    kind: str,
    ids: list[str],
    tags_before: list[dict[str, str]],
    to_set: dict[str, str],
    to_delete: list[str],
) -> Change:
    """Set the new values on every item (validated first), then delete keys where they exist."""
    if kind == "run" and to_set:
        writer.set_run_tags(ids, to_set)
    elif to_set:
        for item_id in ids:
            for key, value in to_set.items():
                writer.set_experiment_tag(item_id, key, value)
    delete = writer.delete_run_tag if kind == "run" else writer.delete_experiment_tag
    for item_id, tags in zip(ids, tags_before, strict=True):
        for key in to_delete:
            if key in tags:
                delete(item_id, key)
    return Change(kind, tuple(ids), "set_tag" if to_set else "delete_tag")
