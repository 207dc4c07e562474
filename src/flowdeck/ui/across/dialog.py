"""The "Runs Across Stores" dialog: tick experiments of several open stores to see together."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.store_keys import key_of, split_key

INTRO = (
    "Tick experiments of two or more stores: their runs are shown in one table with a Store "
    "column, and each run's curves come from its own store."
)
NEED_TWO = "Tick experiments of at least two stores."
KEY_ROLE = Qt.ItemDataRole.UserRole + 1


class AcrossDialog(QDialog):
    """Stores and their active experiments with check boxes; ``keys()`` are the ticked ones."""

    def __init__(
        self,
        stores: Sequence[tuple[str, Sequence[tuple[str, str]]]],
        checked: Sequence[str],
        parent: QWidget | None = None,
    ) -> None:
        """``stores``: each store's label and its (experiment id, name) pairs, store 1 first."""
        super().__init__(parent)
        self.setWindowTitle("Runs Across Stores")
        self.resize(460, 520)
        intro = QLabel(INTRO, self)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        wanted = set(checked)
        for number, (label, experiments) in enumerate(stores, start=1):
            store_item = QTreeWidgetItem(self.tree, [label])
            store_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for experiment_id, name in experiments:
                key = key_of(number, experiment_id)
                item = QTreeWidgetItem(store_item, [name])
                item.setData(0, KEY_ROLE, key)
                item.setToolTip(0, f"{name} (ID {experiment_id}) in {label}")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                checked_state = Qt.CheckState.Checked if key in wanted else Qt.CheckState.Unchecked
                item.setCheckState(0, checked_state)
        self.tree.expandAll()
        self.hint = QLabel(NEED_TWO, self)
        self.hint.setTextFormat(Qt.TextFormat.PlainText)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.show_button = QPushButton("Show Runs", self)
        self.show_button.setDefault(True)
        self.buttons.addButton(self.show_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.tree.itemChanged.connect(lambda _item, _column: self._update())
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        self._update()

    def keys(self) -> list[str]:
        """The ticked experiments, ``<store number>:<experiment id>``, in the listed order."""
        keys = []
        for top in range(self.tree.topLevelItemCount()):
            store_item = self.tree.topLevelItem(top)
            for row in range(store_item.childCount()):
                item = store_item.child(row)
                if item.checkState(0) == Qt.CheckState.Checked:
                    keys.append(str(item.data(0, KEY_ROLE)))
        return keys

    def set_checked(self, key: str, checked: bool) -> None:
        """Tick or untick one experiment (as a click on its box does)."""
        for top in range(self.tree.topLevelItemCount()):
            store_item = self.tree.topLevelItem(top)
            for row in range(store_item.childCount()):
                item = store_item.child(row)
                if item.data(0, KEY_ROLE) == key:
                    state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
                    item.setCheckState(0, state)

    def _update(self) -> None:
        enough = len({split_key(key)[0] for key in self.keys()}) >= 2
        self.show_button.setEnabled(enough)
        self.hint.setVisible(not enough)
