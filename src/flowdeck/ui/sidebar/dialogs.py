"""Small dialogs of the sidebar: experiment name, confirmation, description and tags editors."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


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


class ConfirmDialog(QDialog):
    """States exactly what will change and asks to go ahead."""

    def __init__(
        self,
        title: str,
        message: str,
        details: list[str],
        ok_text: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.message_label = _plain_label(message)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message_label)
        if details:
            self.details = QPlainTextEdit("\n".join(details))
            self.details.setReadOnly(True)
            self.details.setMaximumHeight(120)
            layout.addWidget(self.details)
        self.buttons = _buttons(self, ok_text)
        layout.addWidget(self.buttons)
        self.resize(420, self.sizeHint().height())


class DescriptionDialog(QDialog):
    """A plain-text editor for an experiment's Markdown description."""

    def __init__(self, experiment_name: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit description")
        self.editor = QPlainTextEdit(text)
        self.editor.setPlaceholderText("Describe the experiment (Markdown)")
        layout = QVBoxLayout(self)
        layout.addWidget(_plain_label(f"Description of experiment '{experiment_name}' (Markdown):"))
        layout.addWidget(self.editor)
        layout.addWidget(_buttons(self, "Save"))
        self.resize(520, 360)

    def text(self) -> str:
        return self.editor.toPlainText()


class TagsDialog(QDialog):
    """A key/value table editor; ``changes()`` says what to set and what to delete."""

    def __init__(
        self, experiment_name: str, tags: dict[str, str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit tags")
        self._original = dict(tags)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Key", "Value"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 180)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for key, value in sorted(tags.items()):
            self.add_row(key, value)
        add = QPushButton("Add tag")
        add.clicked.connect(lambda: self._add_and_edit())
        self.remove_button = QPushButton("Remove tag")
        self.remove_button.clicked.connect(self.remove_selected)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(_plain_label(f"Tags of experiment '{experiment_name}':"))
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(_buttons(self, "Save"))
        self.resize(520, 360)

    def add_row(self, key: str = "", value: str = "") -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(key))
        self.table.setItem(row, 1, QTableWidgetItem(value))
        return row

    def remove_selected(self) -> None:
        for row in sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)

    def tags(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for row in range(self.table.rowCount()):
            key_item, value_item = self.table.item(row, 0), self.table.item(row, 1)
            key = key_item.text().strip() if key_item else ""
            if key:
                found[key] = value_item.text() if value_item else ""
        return found

    def changes(self) -> tuple[dict[str, str], list[str]]:
        """(tags to set, keys to delete) compared with the tags the dialog opened with."""
        now = self.tags()
        to_set = {k: v for k, v in now.items() if self._original.get(k) != v}
        to_delete = [k for k in self._original if k not in now]
        return to_set, to_delete

    def _add_and_edit(self) -> None:
        row = self.add_row()
        self.table.setCurrentCell(row, 0)
        self.table.editItem(self.table.item(row, 0))
