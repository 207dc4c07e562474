"""Edit the tags of one or many runs: a key/value table where differing values stay '(mixed)'."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

SYSTEM_PREFIX = "mlflow."
DESCRIPTION_TAG = "mlflow.note.content"  # edited in the description editor instead
MIXED_TEXT = "(mixed)"
KEY_COLUMN, VALUE_COLUMN = 0, 1
ORIGINAL_KEY_ROLE = Qt.ItemDataRole.UserRole + 1  # on the key item: the key before editing
SYSTEM_ROLE = Qt.ItemDataRole.UserRole + 2  # on the key item: an MLflow tag, read-only
MIXED_ROLE = Qt.ItemDataRole.UserRole + 1  # on the value item: differs between runs, untouched
ORIGINAL_VALUE_ROLE = Qt.ItemDataRole.UserRole + 2  # on the value item


def is_system_tag(key: str) -> bool:
    return key.startswith(SYSTEM_PREFIX)


def common_values(tags_per_run: Sequence[Mapping[str, str]]) -> dict[str, str | None]:
    """Each key of any run with its value, or None when runs differ (or some lack the key)."""
    keys = sorted({key for tags in tags_per_run for key in tags} - {DESCRIPTION_TAG})
    merged: dict[str, str | None] = {}
    for key in keys:
        values = {tags.get(key) for tags in tags_per_run}
        merged[key] = values.pop() if len(values) == 1 else None
    return merged


class _ValueDelegate(QStyledItemDelegate):
    """Opens a mixed value empty (placeholder '(mixed)'); leaving it empty keeps it untouched."""

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:  # noqa: N802
        if isinstance(editor, QLineEdit) and index.data(MIXED_ROLE):
            editor.setText("")
            editor.setPlaceholderText(f"{MIXED_TEXT}: type a value to set it on every run")
            return
        super().setEditorData(editor, index)

    def setModelData(  # noqa: N802
        self,
        editor: QWidget,
        model: QAbstractItemModel,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        if isinstance(editor, QLineEdit) and index.data(MIXED_ROLE):
            text = editor.text()  # read first: each setData refreshes the open editor
            if text:
                model.setData(index, text, Qt.ItemDataRole.EditRole)
                model.setData(index, False, MIXED_ROLE)
            return
        super().setModelData(editor, model, index)

    def initStyleOption(  # noqa: N802
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        if index.data(MIXED_ROLE):
            option.font.setItalic(True)
            option.palette.setBrush(
                QPalette.ColorRole.Text, option.palette.brush(QPalette.ColorRole.PlaceholderText)
            )


class TagsEditor(QDialog):
    """Add, edit and delete tags of one or many runs; ``changes()`` says what to write.

    MLflow's own tags (``mlflow.*``) are listed read-only behind "Show system tags";
    ``mlflow.note.content`` is left out (the description editor owns it).
    """

    def __init__(
        self,
        tags_per_run: Sequence[Mapping[str, str]],
        subject: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.run_count = len(tags_per_run)
        self._deleted_keys: list[str] = []
        self.setWindowTitle(f"Tags of {subject}" if subject else "Tags")

        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Key", "Value"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._value_delegate = _ValueDelegate(self.table)  # keep the Python side alive
        self.table.setItemDelegateForColumn(VALUE_COLUMN, self._value_delegate)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self._fill(common_values(tags_per_run))
        self.table.setColumnWidth(KEY_COLUMN, 180)

        self.add_button = QPushButton("Add tag")
        self.delete_button = QPushButton("Delete tag")
        self.show_system = QCheckBox("Show system tags")
        self.show_system.toggled.connect(self._apply_system_visibility)
        self.add_button.clicked.connect(self.add_row)
        self.delete_button.clicked.connect(self.delete_selected_rows)
        row_buttons = QHBoxLayout()
        row_buttons.addWidget(self.add_button)
        row_buttons.addWidget(self.delete_button)
        row_buttons.addStretch(1)
        row_buttons.addWidget(self.show_system)

        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b;")
        note = QLabel(
            f"Editing {self.run_count} runs: {MIXED_TEXT} values differ and stay as they are "
            "unless you type a new one."
            if self.run_count > 1
            else ""
        )
        note.setWordWrap(True)
        note.setVisible(self.run_count > 1)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        layout.addLayout(row_buttons)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

        self.table.itemChanged.connect(self.validate)
        self.table.itemSelectionChanged.connect(self._update_delete_button)
        self._apply_system_visibility(False)
        self._update_delete_button()
        self.validate()
        self.resize(560, 380)

    # --- building ---------------------------------------------------------------------------

    def _fill(self, merged: Mapping[str, str | None]) -> None:
        ordered = sorted(merged, key=lambda key: (is_system_tag(key), key))
        self.table.blockSignals(True)
        for key in ordered:
            self._append_row(key, merged[key], original=True)
        self.table.blockSignals(False)

    def _append_row(self, key: str, value: str | None, original: bool) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        system = original and is_system_tag(key)
        key_item = QTableWidgetItem(key)
        key_item.setData(ORIGINAL_KEY_ROLE, key if original else None)
        key_item.setData(SYSTEM_ROLE, system)
        value_item = QTableWidgetItem(MIXED_TEXT if value is None else value)
        value_item.setData(MIXED_ROLE, value is None)
        value_item.setData(ORIGINAL_VALUE_ROLE, value)
        if system:
            read_only = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            key_item.setFlags(read_only)
            value_item.setFlags(read_only)
            key_item.setForeground(QBrush(self.palette().color(QPalette.ColorRole.PlaceholderText)))
        self.table.setItem(row, KEY_COLUMN, key_item)
        self.table.setItem(row, VALUE_COLUMN, value_item)
        return row

    # --- row actions --------------------------------------------------------------------------

    def add_row(self) -> None:
        """A new empty row, with the key cell in edit mode."""
        self.table.blockSignals(True)
        row = self._append_row("", "", original=False)
        self.table.blockSignals(False)
        self.validate()
        self.table.setCurrentCell(row, KEY_COLUMN)
        self.table.editItem(self.table.item(row, KEY_COLUMN))

    def delete_selected_rows(self) -> None:
        """Remove the selected editable rows; existing keys are deleted on save."""
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            key_item = self.table.item(row, KEY_COLUMN)
            if key_item.data(SYSTEM_ROLE):
                continue
            original = key_item.data(ORIGINAL_KEY_ROLE)
            if original is not None:
                self._deleted_keys.append(original)
            self.table.removeRow(row)
        self.validate()

    def _apply_system_visibility(self, shown: bool) -> None:
        for row in range(self.table.rowCount()):
            system = bool(self.table.item(row, KEY_COLUMN).data(SYSTEM_ROLE))
            self.table.setRowHidden(row, system and not shown)

    def _update_delete_button(self) -> None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        editable = [r for r in rows if not self.table.item(r, KEY_COLUMN).data(SYSTEM_ROLE)]
        self.delete_button.setEnabled(bool(editable))

    # --- validation and result -----------------------------------------------------------------

    def problems(self) -> list[str]:
        """Plain-language reasons the table cannot be saved as it is."""
        found: list[str] = []
        seen: set[str] = set()
        for row in range(self.table.rowCount()):
            key_item = self.table.item(row, KEY_COLUMN)
            value_item = self.table.item(row, VALUE_COLUMN)
            key = key_item.text()
            original = key_item.data(ORIGINAL_KEY_ROLE)
            if not key.strip():
                found.append(f"Row {row + 1}: the key is empty.")
            elif key in seen:
                found.append(f"The key '{key}' is used twice.")
            seen.add(key)
            if key_item.data(SYSTEM_ROLE) or key == original:
                continue
            if is_system_tag(key):
                found.append(f"'{key}': keys starting with '{SYSTEM_PREFIX}' belong to MLflow.")
            elif original is not None and value_item.data(MIXED_ROLE):
                found.append(f"'{original}' differs between runs: type a value to rename it.")
        return found

    def validate(self) -> bool:
        """Show the first problems inline and enable Save only when there are none."""
        found = self.problems()
        self.error_label.setText("\n".join(found[:3]))
        self.error_label.setVisible(bool(found))
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not found)
        return not found

    def changes(self) -> tuple[dict[str, str], list[str]]:
        """``(tags to set on every run, keys to delete)``; untouched mixed values are left out."""
        to_set: dict[str, str] = {}
        to_delete = list(self._deleted_keys)
        for row in range(self.table.rowCount()):
            key_item = self.table.item(row, KEY_COLUMN)
            value_item = self.table.item(row, VALUE_COLUMN)
            if key_item.data(SYSTEM_ROLE):
                continue
            key, value = key_item.text(), value_item.text()
            original = key_item.data(ORIGINAL_KEY_ROLE)
            mixed = bool(value_item.data(MIXED_ROLE))
            if original is None:
                to_set[key] = value
            elif key != original:
                to_delete.append(original)
                to_set[key] = value
            elif not mixed and value != value_item.data(ORIGINAL_VALUE_ROLE):
                to_set[key] = value
        to_delete = [key for key in dict.fromkeys(to_delete) if key not in to_set]
        return to_set, to_delete

    def accept(self) -> None:
        if self.validate():
            super().accept()
