"""Registry edit commands: models, versions, aliases, stages, descriptions and tags."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QWidget,
)

from flowdeck.core.deploy_workflow import read_workflow
from flowdeck.core.entities import ModelVersion, RegisteredModel
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.store.writer import Change, StoreWriter
from flowdeck.ui.edit.confirm import ConfirmChangesDialog
from flowdeck.ui.edit.description_editor import DescriptionEditor
from flowdeck.ui.edit.name_dialog import NameDialog
from flowdeck.ui.edit.tags_editor import TagsEditor
from flowdeck.ui.labels import plain_label
from flowdeck.ui.pages.overview_reads import missing_as
from flowdeck.ui.pages.registry.reads import live, registered_model
from flowdeck.ui.registry.stage_dialog import StageDialog, versions_text
from flowdeck.ui.shell.page import Shell


@dataclass(frozen=True)
class ModelState:
    """What the edit dialogs need to know about a model, read on the worker."""

    model: RegisteredModel | None
    versions: tuple[ModelVersion, ...]  # live ones, newest first

    def version(self, number: int | str) -> ModelVersion | None:
        return next((v for v in self.versions if str(v.version) == str(number)), None)

    def alias_holder(self, alias: str) -> int | None:
        if self.model is not None and alias in self.model.aliases:
            return int(self.model.aliases[alias])
        return next((v.version for v in self.versions if alias in v.aliases), None)


def read_model_state(state: TaskState, store: Store, name: str) -> ModelState:
    with missing_as(f"There is no registered model named '{name}' in {store.display_name}."):
        versions = live(store.model_versions(name))
    state.check()
    return ModelState(registered_model(store, name), tuple(versions))


def alias_note(alias: str, version: str | int, held_by: int | None) -> str:
    """What setting ``alias`` on ``version`` does, in plain words."""
    if not alias:
        return ""
    if held_by is None:
        return f"@{alias} is new: it will point at v{version}."
    if str(held_by) == str(version):
        return f"v{version} already holds @{alias}."
    return f"@{alias} is held by v{held_by}: it will move from v{held_by} to v{version}."


class RegistryEdits(QObject):
    """Each command reads what it needs on the runner, then opens its dialog; the write goes
    through the shell's write path. ``active_dialog`` is the open dialog (for tests)."""

    renamed = Signal(str, str)  # old name, new name (after the write succeeded)
    deleted = Signal(str, str)  # model name, version ("" for the whole model)

    def __init__(self, shell: Shell, dialog_parent: QWidget | None = None) -> None:
        super().__init__(dialog_parent)
        self.shell = shell
        self.dialog_parent = dialog_parent
        self.active_dialog: QDialog | None = None

    # --- models -----------------------------------------------------------------------------------

    def rename_model(self, store: Store, name: str) -> None:
        dialog = NameDialog(
            "Rename Registered Model",
            f"New name for model '{name}':",
            name,
            "Rename",
            self.dialog_parent,
        )

        def accepted() -> None:
            new = dialog.name()
            self._write(
                store,
                lambda w: w.rename_registered_model(name, new),
                f"Renamed {name} to {new}",
                then=lambda: self.renamed.emit(name, new),
            )

        self._open(dialog, accepted)

    def delete_model(self, store: Store, name: str) -> None:
        def confirm(state: ModelState) -> None:
            count = len(state.versions)
            listed = f" ({versions_text(state.versions)})" if count else ""
            note = (
                f"Its {count} live version{'' if count == 1 else 's'}{listed}, tags and aliases "
                "are deleted with it. MLflow keeps nothing: this cannot be undone."
            )
            dialog = ConfirmChangesDialog(
                "Delete", "registered model", [name], note, self.dialog_parent
            )
            self._confirm(
                store,
                dialog,
                lambda w: w.delete_registered_model(name),
                f"Deleted model {name}",
                Change("registered_model", (name,), "delete"),
                then=lambda: self.deleted.emit(name, ""),
            )

        self._read(store, name, confirm)

    def edit_model_description(self, store: Store, name: str) -> None:
        def show(state: ModelState) -> None:
            text = (state.model.description or "") if state.model else ""
            self._describe(store, text, name, lambda w, new: w.update_registered_model(name, new))

        self._read(store, name, show)

    def edit_model_tags(self, store: Store, name: str) -> None:
        def show(state: ModelState) -> None:
            tags = dict(state.model.tags) if state.model else {}

            def apply(writer: StoreWriter, to_set: dict[str, str], gone: list[str]) -> Change:
                for key, value in to_set.items():
                    writer.set_registered_model_tag(name, key, value)
                for key in gone:
                    writer.delete_registered_model_tag(name, key)
                return Change("registered_model", (name,), "set_tag")

            self._tags(store, tags, name, apply, Change("registered_model", (name,), "set_tag"))

        self._read(store, name, show)

    # --- versions ---------------------------------------------------------------------------------

    def edit_workflow(self, store: Store, name: str) -> None:
        """Set, change or remove the model's evaluate → approve → deploy workflow."""
        from flowdeck.ui.registry.workflow_editor import REMOVE, WorkflowEditor

        def show(state: ModelState) -> None:
            stored = read_workflow(state.model.tags if state.model else {})
            dialog = WorkflowEditor(name, stored.workflow, stored.problem, self.dialog_parent)

            def finished(result: int) -> None:
                if result == QDialog.DialogCode.Accepted:
                    workflow = dialog.workflow()
                    self._write(
                        store,
                        lambda w: w.set_workflow(name, workflow),
                        f"Set the deployment workflow of {name}",
                    )
                elif result == REMOVE:
                    self._write(
                        store,
                        lambda w: w.clear_workflow(name),
                        f"Removed the deployment workflow of {name}",
                    )

            self._open(dialog, lambda: None, finished)

        self._read(store, name, show)

    def delete_version(self, store: Store, name: str, version: str | int) -> None:
        def confirm(state: ModelState) -> None:
            found = state.version(version)
            aliases = sorted(found.aliases) if found else []
            notes = []
            if aliases:
                held = ", ".join(f"@{alias}" for alias in aliases)
                notes.append(
                    f"It holds {held}, which {'goes' if len(aliases) == 1 else 'go'} with it."
                )
            notes.append("Deleted versions cannot be restored from Flowdeck.")
            dialog = ConfirmChangesDialog(
                "Delete",
                "model version",
                [f"{name} v{version}"],
                " ".join(notes),
                self.dialog_parent,
            )
            self._confirm(
                store,
                dialog,
                lambda w: w.delete_model_version(name, version),
                f"Deleted {name} v{version}",
                Change("model_version", (f"{name}/{version}",), "delete"),
                then=lambda: self.deleted.emit(name, str(version)),
            )

        self._read(store, name, confirm)

    def edit_version_description(self, store: Store, name: str, version: str | int) -> None:
        def show(state: ModelState) -> None:
            found = state.version(version)
            text = (found.description or "") if found else ""
            self._describe(
                store,
                text,
                f"{name} v{version}",
                lambda w, new: w.update_model_version(name, version, new),
            )

        self._read(store, name, show)

    def edit_version_tags(self, store: Store, name: str, version: str | int) -> None:
        touched = Change("model_version", (f"{name}/{version}",), "set_tag")

        def show(state: ModelState) -> None:
            found = state.version(version)
            tags = dict(found.tags) if found else {}

            def apply(writer: StoreWriter, to_set: dict[str, str], gone: list[str]) -> Change:
                for key, value in to_set.items():
                    writer.set_model_version_tag(name, version, key, value)
                for key in gone:
                    writer.delete_model_version_tag(name, version, key)
                return touched

            self._tags(store, tags, f"{name} v{version}", apply, touched)

        self._read(store, name, show)

    def set_alias(self, store: Store, name: str, version: str | int) -> None:
        def show(state: ModelState) -> None:
            dialog = NameDialog(
                "Set Alias",
                f"Alias to point at {name} v{version}:",
                "",
                "Set Alias",
                self.dialog_parent,
            )
            dialog.note_label = plain_label(wrap=True)  # type: ignore[attr-defined]

            def alias() -> str:
                return dialog.name().lstrip("@")

            def update() -> None:
                text = alias_note(alias(), version, state.alias_holder(alias()))
                dialog.note_label.setText(text)  # type: ignore[attr-defined]

            dialog.layout().insertWidget(2, dialog.note_label)  # type: ignore[attr-defined]
            dialog.name_edit.textChanged.connect(update)
            update()

            def accepted() -> None:
                chosen = alias()
                self._write(
                    store,
                    lambda w: w.set_alias(name, chosen, version),
                    f"Set @{chosen} on {name} v{version}",
                )

            self._open(dialog, accepted)

        self._read(store, name, show)

    def delete_alias(self, store: Store, name: str, alias: str) -> None:
        def confirm(state: ModelState) -> None:
            holder = state.alias_holder(alias)
            where = f"It points at v{holder}; " if holder is not None else ""
            dialog = ConfirmChangesDialog(
                "Delete",
                "alias",
                [f"@{alias}"],
                f"{where}the version itself stays.",
                self.dialog_parent,
            )
            self._confirm(
                store, dialog, lambda w: w.delete_alias(name, alias), f"Deleted @{alias} of {name}"
            )

        self._read(store, name, confirm)

    def remove_aliases(self, store: Store, name: str, version: str | int) -> None:
        """Delete the aliases ``version`` holds, after a confirmation that lists them."""

        def confirm(state: ModelState) -> None:
            found = state.version(version)
            aliases = sorted(found.aliases) if found is not None else []
            if not aliases:
                self.shell.writes.failed.emit(f"{name} v{version} holds no alias.")
                return
            dialog = ConfirmChangesDialog(
                "Delete",
                "alias",
                [f"@{alias}" for alias in aliases],
                f"They point at v{version}; the version itself stays.",
                self.dialog_parent,
            )

            def work(writer: StoreWriter) -> list[Change]:
                return [writer.delete_alias(name, alias) for alias in aliases]

            listed = ", ".join(f"@{alias}" for alias in aliases)
            self._confirm(store, dialog, work, f"Deleted {listed} of {name}")

        self._read(store, name, confirm)

    def transition_stage(self, store: Store, name: str, version: str | int) -> None:
        def show(state: ModelState) -> None:
            found = state.version(version)
            if found is None:
                self.shell.writes.failed.emit(f"{name} v{version} no longer exists.")
                return
            dialog = StageDialog(name, found, state, self.dialog_parent)

            def accepted() -> None:
                stage, archive = dialog.stage(), dialog.archive()
                self._write(
                    store,
                    lambda w: w.transition_stage(name, version, stage, archive),
                    f"Moved {name} v{version} to {stage}",
                )

            self._open(dialog, accepted)

        self._read(store, name, show)

    # --- plumbing ---------------------------------------------------------------------------------

    def _describe(
        self, store: Store, text: str, subject: str, write: Callable[[StoreWriter, str], Change]
    ) -> None:
        dialog = DescriptionEditor(text, subject, self.dialog_parent)

        def accepted() -> None:
            if dialog.is_changed():
                new = dialog.text()
                self._write(store, lambda w: write(w, new), "Saved the description")

        self._open(dialog, accepted)

    def _tags(
        self,
        store: Store,
        tags: dict[str, str],
        subject: str,
        apply: Callable[[StoreWriter, dict[str, str], list[str]], Change],
        touched: Change,
    ) -> None:
        dialog = TagsEditor([tags], subject, self.dialog_parent)

        def accepted() -> None:
            to_set, to_delete = dialog.changes()
            gone = [key for key in to_delete if key in tags]
            if to_set or gone:
                self._write(
                    store,
                    lambda w: apply(w, to_set, gone),
                    f"Updated tags of {subject}",
                    refresh=touched,
                )

        self._open(dialog, accepted)

    def _read(self, store: Store, name: str, then: Callable[[ModelState], None]) -> None:
        self.shell.runner.submit(
            read_model_state,
            store,
            name,
            store=store,
            label=f"Reading {name}",
            on_result=then,
            on_error=lambda error, _details: self.shell.writes.report(error),
        )

    def _write(
        self,
        store: Store,
        work: Callable[[StoreWriter], Any],
        done_text: str,
        *,
        refresh: Change | None = None,
        then: Callable[[], None] | None = None,
    ) -> None:
        writes = self.shell.writes
        if then is not None:
            done: list[bool] = []

            def recorded(writer: StoreWriter) -> Any:
                result = work(writer)
                done.append(True)
                return result

            def finished() -> None:
                writes.finished.disconnect(finished)
                if done:
                    then()

            writes.finished.connect(finished)
            writes.write(store, recorded, done_text, on_failure_refresh=refresh)
            return
        writes.write(store, work, done_text, on_failure_refresh=refresh)

    def _confirm(
        self,
        store: Store,
        dialog: ConfirmChangesDialog,
        work: Callable[[StoreWriter], Any],
        done_text: str,
        refresh: Change | None = None,
        then: Callable[[], None] | None = None,
    ) -> None:
        self.active_dialog = dialog

        def finished(result: int) -> None:
            if self.active_dialog is dialog:
                self.active_dialog = None
            if result == QDialog.DialogCode.Accepted:
                self._write(store, work, done_text, refresh=refresh, then=then)

        # The dialog itself, not the write path's confirm: the write starts once it is accepted.
        self._open(dialog, lambda: None, finished)

    def _open(
        self,
        dialog: QDialog,
        accepted: Callable[[], None],
        finished_with: Callable[[int], None] | None = None,
    ) -> None:
        def finished(result: int) -> None:
            if self.active_dialog is dialog:
                self.active_dialog = None
            dialog.deleteLater()
            if finished_with is not None:
                finished_with(result)
            elif result == QDialog.DialogCode.Accepted:
                accepted()

        dialog.finished.connect(finished)
        self.active_dialog = dialog
        dialog.open()


# --- the page toolbars ------------------------------------------------------------------------------
