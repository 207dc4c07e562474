"""The name dialog shared by every rename and create (experiments, runs, models)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget


def _plain_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


def _buttons(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    box = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    box.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    box.accepted.connect(dialog.accept)
    box.rejected.connect(dialog.reject)
    return box


class NameDialog(QDialog):
    """Asks for an experiment name; OK stays disabled while the name is empty or unchanged."""

    def __init__(
        self,
        title: str,
        prompt: str,
        name: str = "",
        ok_text: str = "OK",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._original = name
        self.name_edit = QLineEdit(name)
        self.name_edit.selectAll()
        self.buttons = _buttons(self, ok_text)
        layout = QVBoxLayout(self)
        layout.addWidget(_plain_label(prompt))
        layout.addWidget(self.name_edit)
        layout.addWidget(self.buttons)
        self.name_edit.textChanged.connect(self._update_ok)
        self._update_ok()
        self.resize(380, self.sizeHint().height())

    def name(self) -> str:
        return self.name_edit.text().strip()

    def _update_ok(self) -> None:
        valid = bool(self.name()) and self.name() != self._original
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(valid)
