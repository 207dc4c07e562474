"""A dialog that lists exactly what an edit will change before anything is written."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def describe_change(verb: str, noun: str, names: Sequence[str]) -> str:
    """'Delete 3 runs: run-a, run-b, run-c' (names shortened after the first few)."""
    count = len(names)
    plural = noun if count == 1 else f"{noun}s"
    shown = ", ".join(names[:3])
    more = f" and {count - 3} more" if count > 3 else ""
    return f"{verb} {count} {plural}: {shown}{more}"


class ConfirmChangesDialog(QDialog):
    """'Delete 3 runs: …' with the full list of names; the OK button says the verb.

    Cancel is the default button, so a stray Enter writes nothing. Names are plain text.
    """

    def __init__(
        self,
        verb: str,
        noun: str,
        names: Sequence[str],
        note: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.names = list(names)
        self.setWindowTitle(f"{verb} {noun}s" if len(self.names) != 1 else f"{verb} {noun}")
        self.summary_label = QLabel(describe_change(verb, noun, self.names))
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        self.summary_label.setWordWrap(True)
        self.names_list = QListWidget()
        self.names_list.addItems(self.names)
        self.names_list.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.names_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.note_label = QLabel(note)
        self.note_label.setTextFormat(Qt.TextFormat.PlainText)
        self.note_label.setWordWrap(True)
        self.note_label.setVisible(bool(note))

        buttons = QDialogButtonBox()
        self.ok_button: QPushButton = buttons.addButton(
            verb, QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_button: QPushButton = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button.setAutoDefault(False)
        self.ok_button.setDefault(False)
        self.cancel_button.setAutoDefault(True)
        self.cancel_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.names_list)
        layout.addWidget(self.note_label)
        layout.addWidget(buttons)
        self.cancel_button.setFocus()
        self.resize(440, 300)
