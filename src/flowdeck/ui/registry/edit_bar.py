"""The row of registry edit buttons on the model and version pages, enabled only when writable."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QToolButton, QWidget

from flowdeck.store.base import Store
from flowdeck.ui.registry.edits import RegistryEdits
from flowdeck.ui.shell.page import Shell


class EditBar(QWidget):
    """A row of edit buttons, enabled only while the store can be written (tooltip: why not)."""

    def __init__(
        self, shell: Shell, store: Store, buttons: list[tuple[str, Callable[[], None]]]
    ) -> None:
        super().__init__()
        self.shell, self.store = shell, store
        self.buttons: dict[str, QToolButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for text, slot in buttons:
            button = QToolButton()
            button.setText(text)
            button.clicked.connect(slot)
            layout.addWidget(button)
            self.buttons[text] = button
        layout.addStretch(1)
        shell.context.read_only_changed.connect(self._read_only_changed)
        self.update_enabled()

    def _read_only_changed(self, store: object, _reason: object) -> None:
        if store is self.store:
            self.update_enabled()

    def update_enabled(self) -> None:
        reason = self.shell.context.read_only_reason(self.store)
        for button in self.buttons.values():
            button.setEnabled(reason is None)
            button.setToolTip(reason or "")


def model_edit_bar(shell: Shell, store: Store, name: str, edits: RegistryEdits) -> EditBar:
    return EditBar(
        shell,
        store,
        [
            ("Rename…", lambda: edits.rename_model(store, name)),
            ("Delete…", lambda: edits.delete_model(store, name)),
            ("Description…", lambda: edits.edit_model_description(store, name)),
            ("Tags…", lambda: edits.edit_model_tags(store, name)),
            ("Workflow…", lambda: edits.edit_workflow(store, name)),
        ],
    )


def version_edit_bar(
    shell: Shell, store: Store, name: str, version: str, edits: RegistryEdits
) -> EditBar:
    return EditBar(
        shell,
        store,
        [
            ("Set Alias…", lambda: edits.set_alias(store, name, version)),
            ("Remove Aliases…", lambda: edits.remove_aliases(store, name, version)),
            ("Stage…", lambda: edits.transition_stage(store, name, version)),
            ("Description…", lambda: edits.edit_version_description(store, name, version)),
            ("Tags…", lambda: edits.edit_version_tags(store, name, version)),
            ("Delete…", lambda: edits.delete_version(store, name, version)),
        ],
    )
