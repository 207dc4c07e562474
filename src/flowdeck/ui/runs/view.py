"""The runs tree view: one row height measured once, so thousands of columns lay out quickly."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QTreeView, QWidget

MEASURED_COLUMNS = 16  # the fixed columns (icons, name, times) come first: measured for real
QUICK_WIDTH = 40  # what a cell past those says of its width while only its height matters

_Index = QModelIndex | QPersistentModelIndex


class RowHeightDelegate(QStyledItemDelegate):
    """Measures the first columns' cells and gives every later cell the same height.

    With uniform row heights QTreeView still asks every column of the first row for its size
    on each layout: 5,000 param columns are 40,000 calls of ``data()`` per layout. Every cell
    is one line of text, so the first columns tell the row's height; widths are measured for
    real whenever the view sizes a column to its contents (``exact``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.exact = False
        self._height = 0

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:  # noqa: N802
        column = index.column()
        if self.exact or column < MEASURED_COLUMNS or self._height == 0:
            size = super().sizeHint(option, index)
            height = size.height()
            self._height = height if column == 0 else max(self._height, height)
            return size
        return QSize(QUICK_WIDTH, self._height)


class RunsView(QTreeView):
    """A QTreeView whose delegate measures the row height once per layout (see above)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row_delegate = RowHeightDelegate(self)
        self.setItemDelegate(self.row_delegate)

    def selected_row_indexes(self) -> list[QModelIndex]:
        """Column-0 indexes of the selected rows, in selection order (repeats possible).

        ``QItemSelectionModel.selectedRows()`` asks every column of every selected row whether
        it is selected: seconds for a few dozen runs with 5,000 param columns. This view selects
        whole rows, so the rows of each selection range are the selected rows."""
        model, indexes = self.model(), []
        for selected in self.selectionModel().selection():
            parent = QModelIndex(selected.parent())
            indexes += [
                model.index(row, 0, parent) for row in range(selected.top(), selected.bottom() + 1)
            ]
        return indexes

    def sizeHintForColumn(self, column: int) -> int:  # noqa: N802 - Qt override
        self.row_delegate.exact = True
        try:
            return super().sizeHintForColumn(column)
        finally:
            self.row_delegate.exact = False
