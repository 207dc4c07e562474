"""A dialog to choose, find and order the runs table's columns."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

GROUPS = ("Run", "Params", "Metrics", "Metric min", "Metric max", "Best step")
ID_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class ColumnSpec:
    """One column the runs table can show: a stable id, its header title and its group."""

    id: str
    title: str
    group: str


def as_spec(spec: Any) -> ColumnSpec:
    """A ColumnSpec from a ColumnSpec-like object, a mapping or an (id, title, group) tuple."""
    if isinstance(spec, ColumnSpec):
        return spec
    if isinstance(spec, Mapping):
        return ColumnSpec(str(spec["id"]), str(spec["title"]), str(spec["group"]))
    if isinstance(spec, tuple):
        return ColumnSpec(*(str(part) for part in spec))
    return ColumnSpec(str(spec.id), str(spec.title), str(spec.group))


def ordered_specs(specs: list[ColumnSpec], visible: list[str] | None) -> list[ColumnSpec]:
    """Visible columns in their saved order, then the others in spec order."""
    if visible is None:
        return list(specs)
    by_id = {spec.id: spec for spec in specs}
    shown = [by_id[i] for i in dict.fromkeys(visible) if i in by_id]
    shown_ids = {spec.id for spec in shown}
    return shown + [spec for spec in specs if spec.id not in shown_ids]


class ColumnChooser(QDialog):
    """Check columns to show them, search by name, and move them up or down.

    ``layout`` is a saved layout ({'visible': [ids in order]}) or None for every column visible.
    ``layout_changed`` carries the visible ids in order after every change.
    """

    layout_changed = Signal(list)

    def __init__(
        self,
        specs: Iterable[Any],
        layout: Mapping[str, Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Columns")
        self._specs = [as_spec(spec) for spec in specs]
        saved = (layout or {}).get("visible")
        visible = [str(i) for i in saved] if isinstance(saved, list) else None
        self._building = True
        self._build()
        self._fill(ordered_specs(self._specs, visible), visible)
        self._building = False
        self._update_count()

    # --- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText("Search columns")
        self.search_edit.setClearButtonEnabled(True)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Column", "Group"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.tree.setDefaultDropAction(Qt.DropAction.MoveAction)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.up_button = QToolButton(self, text="Move up", toolTip="Move up (Alt+Up)")
        self.down_button = QToolButton(self, text="Move down", toolTip="Move down (Alt+Down)")
        self.show_button = self._group_button("Show all", True)
        self.hide_button = self._group_button("Hide all", False)
        self.count_label = QLabel(self)
        self.count_label.setTextFormat(Qt.TextFormat.PlainText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        tools = QHBoxLayout()
        for button in (self.up_button, self.down_button, self.show_button, self.hide_button):
            tools.addWidget(button)
        tools.addStretch(1)
        tools.addWidget(self.count_label)
        root = QVBoxLayout(self)
        root.addWidget(self.search_edit)
        root.addWidget(self.tree, 1)
        root.addLayout(tools)
        root.addWidget(buttons)
        self.resize(440, 520)

        self.search_edit.textChanged.connect(self.set_search)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.up_button.clicked.connect(lambda: self.move_current(-1))
        self.down_button.clicked.connect(lambda: self.move_current(1))
        self.tree.model().rowsMoved.connect(self._after_drop)
        self.tree.model().rowsInserted.connect(self._after_drop)
        QShortcut(QKeySequence("Alt+Up"), self, lambda: self.move_current(-1))
        QShortcut(QKeySequence("Alt+Down"), self, lambda: self.move_current(1))

    def _group_button(self, text: str, visible: bool) -> QToolButton:
        button = QToolButton(self, text=text)
        button.setToolTip(f"{text} columns matching the search; the arrow picks a group")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        menu = QMenu(button)
        for group in GROUPS:
            if any(spec.group == group for spec in self._specs):
                menu.addAction(group, lambda g=group: self.set_group_visible(g, visible))
        button.setMenu(menu)
        button.clicked.connect(lambda: self.set_group_visible(None, visible))
        return button

    def _fill(self, specs: list[ColumnSpec], visible: list[str] | None) -> None:
        shown = set(visible) if visible is not None else None
        for spec in specs:
            item = QTreeWidgetItem([spec.title, spec.group])
            item.setData(0, ID_ROLE, spec.id)
            item.setForeground(1, self.palette().brush(QPalette.ColorRole.PlaceholderText))
            # Rich text is forced and escaped so a key like "<b>x</b>" shows as typed.
            item.setToolTip(0, f"<p>{html.escape(spec.id)}</p>")
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsUserCheckable
                | Qt.ItemFlag.ItemIsDragEnabled
            )
            checked = shown is None or spec.id in shown
            item.setCheckState(0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.tree.addTopLevelItem(item)

    # --- queries ------------------------------------------------------------------------------

    def visible_ids(self) -> list[str]:
        """Ids of the checked columns in their order."""
        return [
            item.data(0, ID_ROLE)
            for item in self._items()
            if item.checkState(0) == Qt.CheckState.Checked
        ]

    def ordered_ids(self) -> list[str]:
        """Every column id in the chooser's order, shown or not."""
        return [item.data(0, ID_ROLE) for item in self._items()]

    def shown_in_list(self) -> list[str]:
        """Ids of the rows the search leaves in the list."""
        return [item.data(0, ID_ROLE) for item in self._items() if not item.isHidden()]

    def column_layout(self) -> dict[str, list[str]]:
        """{'visible': ids in order}, ready for ``Settings.set_column_layout``."""
        return {"visible": self.visible_ids()}

    def layout(self) -> dict[str, list[str]]:  # type: ignore[override]
        """Same as ``column_layout`` (shadows QWidget.layout, which this dialog never needs)."""
        return self.column_layout()

    # --- changes ------------------------------------------------------------------------------

    def set_search(self, text: str) -> None:
        """Leave only the columns whose title, id or group contains ``text`` (any case)."""
        if self.search_edit.text() != text:
            self.search_edit.setText(text)  # comes back here through textChanged
            return
        needle = text.strip().casefold()
        for item in self._items():
            haystack = f"{item.text(0)}\n{item.data(0, ID_ROLE)}\n{item.text(1)}".casefold()
            item.setHidden(bool(needle) and needle not in haystack)
        self._update_count()

    def set_visible(self, column_id: str, visible: bool) -> None:
        for item in self._items():
            if item.data(0, ID_ROLE) == column_id:
                item.setCheckState(0, Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)

    def set_group_visible(self, group: str | None, visible: bool) -> None:
        """Show or hide every column of ``group`` (None: every row the search leaves)."""
        state = Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked
        self._building = True
        changed = False
        for item in self._items():
            matches = item.text(1) == group if group is not None else not item.isHidden()
            if matches and item.checkState(0) != state:
                item.setCheckState(0, state)
                changed = True
        self._building = False
        if changed:
            self._emit()

    def move_current(self, step: int) -> None:
        """Move the selected column past its neighbour among the rows the search leaves."""
        item = self.tree.currentItem()
        if item is None:
            return
        rows = [
            r
            for r in range(self.tree.topLevelItemCount())
            if not self.tree.topLevelItem(r).isHidden()
        ]
        row = self.tree.indexOfTopLevelItem(item)
        position = rows.index(row) if row in rows else -1
        target = position + step
        if position < 0 or not 0 <= target < len(rows):
            return
        self._building = True
        self.tree.takeTopLevelItem(row)
        self.tree.insertTopLevelItem(rows[target], item)
        self._building = False
        self.tree.setCurrentItem(item, 0, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self._emit()

    def _on_item_changed(self, _item: QTreeWidgetItem, column: int) -> None:
        if column == 0 and not self._building:
            self._emit()

    def _after_drop(self, *_args: object) -> None:
        if not self._building:
            # The tree inserts the dropped row before removing the original: wait for both.
            QTimer.singleShot(0, self._emit)

    def _emit(self) -> None:
        self._update_count()
        self.layout_changed.emit(self.visible_ids())

    def _update_count(self) -> None:
        self.count_label.setText(f"{len(self.visible_ids())} of {len(self._specs)} columns shown")

    def _items(self) -> list[QTreeWidgetItem]:
        return [self.tree.topLevelItem(row) for row in range(self.tree.topLevelItemCount())]
