"""A sortable table model over row arrays with link cells, and the view that opens them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent, QMouseEvent, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from flowdeck.core.addresses import Address
from flowdeck.ui.pages.overview_widgets import OPEN_HINT, one_line

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Link:
    """A cell that opens a page."""

    text: str
    address: Address


CellValue = str | Link


@dataclass(frozen=True)
class Row:
    """One row: what each cell shows and the value it sorts by."""

    cells: tuple[CellValue, ...]
    keys: tuple[Any, ...]


class RowsModel(QAbstractTableModel):
    """Rows prepared on the worker; ``data()`` only indexes into them."""

    def __init__(self, headers: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headers = list(headers)
        self.rows: list[Row] = []
        self.texts: list[list[str]] = []
        self.link_colour = QPalette().color(QPalette.ColorRole.Link)
        self.link_font = QFont()
        self.link_font.setUnderline(True)

    def set_rows(self, rows: Sequence[Row], headers: Sequence[str] | None = None) -> None:
        self.beginResetModel()
        if headers is not None:
            self.headers = list(headers)
        self.rows = list(rows)
        self.texts = [[_text(cell) for cell in row.cells] for row in self.rows]
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt override
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt override
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            text = self.texts[row][column]
            if role == Qt.ItemDataRole.ToolTipRole:
                return OPEN_HINT if self.address(row, column, fallback=False) else None
            return text
        link = self.address(row, column, fallback=False) is not None
        if role == Qt.ItemDataRole.ForegroundRole and link:
            return self.link_colour
        if role == Qt.ItemDataRole.FontRole and link:
            return self.link_font
        return None

    def headerData(  # noqa: N802 - Qt override
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(self.headers):
            return self.headers[section]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.headers):
            return
        self.layoutAboutToBeChanged.emit()
        reverse = order == Qt.SortOrder.DescendingOrder
        pairs = sorted(
            zip(self.rows, self.texts, strict=True),
            key=lambda pair: _sort_key(pair[0].keys[column]),
            reverse=reverse,
        )
        self.rows = [row for row, _texts in pairs]
        self.texts = [texts for _row, texts in pairs]
        self.layoutChanged.emit()

    def address(self, row: int, column: int, fallback: bool = True) -> Address | None:
        """The cell's page; with ``fallback`` the row's first link when the cell has none."""
        if not 0 <= row < len(self.rows):
            return None
        cells = self.rows[row].cells
        if 0 <= column < len(cells) and isinstance(cells[column], Link):
            return cells[column].address  # type: ignore[union-attr]
        if not fallback:
            return None
        return next((cell.address for cell in cells if isinstance(cell, Link)), None)


def _text(cell: CellValue) -> str:
    return one_line(cell.text if isinstance(cell, Link) else cell)


def _sort_key(value: Any) -> tuple[int, Any]:
    """Missing values last when ascending; text compared case-insensitively."""
    if value is None or value == "":
        return (1, "")
    if isinstance(value, str):
        return (0, value.casefold())
    return (0, value)


class LinkView(QTableView):
    """A read-only table over a ``RowsModel``; double-click or Enter opens, Ctrl a new tab."""

    open_requested = Signal(object, bool)  # Address, in a new tab

    def __init__(
        self,
        headers: Sequence[str],
        sortable: bool = False,
        order: Qt.SortOrder = Qt.SortOrder.AscendingOrder,
    ) -> None:
        super().__init__()
        self.rows_model = RowsModel(headers, self)
        self.setModel(self.rows_model)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.setSortingEnabled(sortable)
        if sortable:
            header.setSortIndicator(0, order)

    def set_rows(
        self,
        rows: Sequence[Row],
        widths: Sequence[int] = (),
        headers: Sequence[str] | None = None,
    ) -> None:
        self.rows_model.set_rows(rows, headers)
        if self.isSortingEnabled():
            header = self.horizontalHeader()
            self.rows_model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        for column, width in enumerate(widths):
            self.setColumnWidth(column, width)

    def texts(self) -> list[list[str]]:
        return [list(row) for row in self.rows_model.texts]

    def _open(self, index: QModelIndex, new_tab: bool) -> bool:
        address = self.rows_model.address(index.row(), index.column())
        if address is None:
            return False
        self.open_requested.emit(address, new_tab)
        return True

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        index = self.indexAt(event.position().toPoint())
        new_tab = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if event.button() == Qt.MouseButton.LeftButton and self._open(index, new_tab):
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        middle = event.button() == Qt.MouseButton.MiddleButton
        if middle and self._open(self.indexAt(event.position().toPoint()), True):
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        new_tab = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if enter and self._open(self.currentIndex(), new_tab):
            event.accept()
            return
        super().keyPressEvent(event)
