"""Ask for one tag (key and value) to set on the selected traces."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QWidget

from flowdeck.ui.labels import plain_label


class TraceTagDialog(QDialog):
    """Key and value; OK only with a key."""

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Tag Traces")
        self.key_edit = QLineEdit(placeholderText="key")
        self.value_edit = QLineEdit(placeholderText="value")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Tag")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(plain_label(f"Set a tag on {count} trace{'' if count == 1 else 's'}:"))
        form.addRow("Key", self.key_edit)
        form.addRow("Value", self.value_edit)
        form.addRow(self.buttons)
        self.key_edit.textChanged.connect(self._update)
        self._update()

    def key(self) -> str:
        return self.key_edit.text().strip()

    def value(self) -> str:
        return self.value_edit.text()

    def _update(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.key()))
