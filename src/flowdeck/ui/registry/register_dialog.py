"""Register a run's model artifact or a logged model as a version of a new or existing model."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.addresses import model_address
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.store.writer import StoreWriter
from flowdeck.store.writer_core import Change
from flowdeck.ui.labels import plain_label
from flowdeck.ui.shell.page import Shell


@dataclass(frozen=True)
class RegisterSource:
    """What gets registered: ``runs:/<run>/<path>`` or ``models:/<model_id>``."""

    uri: str
    run_id: str | None = None
    model_id: str | None = None
    suggested_name: str = ""


def latest_versions(state: TaskState, store: Store) -> dict[str, int | None]:
    """Every registered model's name with its latest live version (prompts left out)."""
    from flowdeck.ui.pages.registry.reads import read_models  # the pages import this module

    view = read_models(state, store, "")
    return {row.name: row.latest for row in view.models}


def outcome_text(name: str, latest: dict[str, int | None]) -> str:
    """What registering under ``name`` will do, in one sentence."""
    if not name:
        return "Type a name for the registered model."
    if name not in latest:
        return f"Creates the registered model '{name}' with this as version 1."
    newest = latest[name]
    after = f" (its latest is v{newest})" if newest is not None else ""
    return f"Adds a new version to the existing model '{name}'{after}."


class RegisterDialog(QDialog):
    """Pick a model name (new or existing) and an optional description for the new version."""

    def __init__(
        self, source: RegisterSource, latest: dict[str, int | None], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Register Model")
        self.source, self.latest = source, latest
        self.name_box = QComboBox()
        self.name_box.setEditable(True)
        self.name_box.addItems(sorted(latest))
        self.name_box.setEditText(source.suggested_name)
        self.name_box.lineEdit().setPlaceholderText("A new name, or pick an existing model")
        self.description = QLineEdit()
        self.description.setPlaceholderText("Optional description of the new version")
        self.outcome = plain_label(wrap=True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Register")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Source", plain_label(source.uri, wrap=True))
        form.addRow("Model name", self.name_box)
        form.addRow("Description", self.description)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.outcome)
        layout.addWidget(self.buttons)
        self.name_box.editTextChanged.connect(self._update)
        self.resize(520, self.sizeHint().height())
        self._update()

    def name(self) -> str:
        return self.name_box.currentText().strip()

    def _update(self) -> None:
        self.outcome.setText(outcome_text(self.name(), self.latest))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.name()))


class Registration(QObject):
    """Reads the existing names, shows the dialog, registers through the shell's write path."""

    registered = Signal(object)  # the new version's Address

    def __init__(self, shell: Shell, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell, self.dialog_parent = shell, parent
        self.dialog: RegisterDialog | None = None

    def start(self, store: Store, source: RegisterSource) -> None:
        self.shell.runner.submit(
            latest_versions,
            store,
            store=store,
            label="Reading registered models",
            on_result=lambda latest: self._show(store, source, latest),
            on_error=lambda error, _details: self.shell.writes.report(error),
        )

    def _show(self, store: Store, source: RegisterSource, latest: dict[str, int | None]) -> None:
        dialog = RegisterDialog(source, latest, self.dialog_parent)
        self.dialog = dialog

        def finished(result: int) -> None:
            self.dialog = None
            dialog.deleteLater()
            if result == QDialog.DialogCode.Accepted:
                self._register(store, source, dialog.name(), dialog.description.text().strip())

        dialog.finished.connect(finished)
        dialog.open()

    def _register(self, store: Store, source: RegisterSource, name: str, description: str) -> None:
        made: list[Change] = []

        def work(writer: StoreWriter) -> Change:
            change = writer.register_version(
                name,
                source.uri,
                run_id=source.run_id,
                model_id=source.model_id,
                description=description or None,
            )
            made.append(change)
            return change

        def finished() -> None:
            self.shell.writes.finished.disconnect(finished)
            if made:
                model, _, version = made[0].ids[0].rpartition("/")
                self.registered.emit(model_address(model, version))

        self.shell.writes.finished.connect(finished)
        self.shell.writes.write(store, work, f"Registered {source.uri} as {name}")
