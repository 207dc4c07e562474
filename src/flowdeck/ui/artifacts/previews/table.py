"""Table previews: the first rows of CSV, TSV, Parquet and ``log_table`` JSON in a sortable view."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QLabel, QTableView, QVBoxLayout, QWidget

from flowdeck.core.artifacts import kinds
from flowdeck.core.artifacts.tables import TablePreview, count_csv_rows, read_table
from flowdeck.core.task_state import TaskState
from flowdeck.ui.artifacts.previewer import Previewer, PreviewSource, previewer

Index = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel):
    """The rows of a ``TablePreview`` as strings; numeric columns sort as numbers."""

    def __init__(self, preview: TablePreview | None = None) -> None:
        super().__init__()
        self.preview = preview or TablePreview([], [], [], 0, "csv")
        self.order = list(range(len(self.preview.rows)))  # file row shown at each view row

    def set_preview(self, preview: TablePreview) -> None:
        self.beginResetModel()
        self.preview, self.order = preview, list(range(len(preview.rows)))
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.order)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.preview.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            text = self.preview.rows[self.order[index.row()]][index.column()]
            return text if role == Qt.ItemDataRole.DisplayRole or len(text) > 40 else None
        if role == Qt.ItemDataRole.TextAlignmentRole and self.preview.numeric[index.column()]:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(  # noqa: N802 - Qt API
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.preview.columns[section]
        return f"{self.order[section] + 1:,}"  # the row's number in the file

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by ``column`` (numbers as numbers; empty cells last); -1 is the file's order."""
        self.layoutAboutToBeChanged.emit()
        rows = self.preview.rows
        if column < 0 or column >= len(self.preview.columns):
            self.order = list(range(len(rows)))
        else:
            reverse = order == Qt.SortOrder.DescendingOrder
            filled = [i for i in range(len(rows)) if rows[i][column].strip()]
            empty = [i for i in range(len(rows)) if not rows[i][column].strip()]
            if self.preview.numeric[column]:
                filled.sort(key=lambda i: _number_key(rows[i][column]), reverse=reverse)
            else:
                filled.sort(key=lambda i: rows[i][column].casefold(), reverse=reverse)
            self.order = filled + empty
        self.layoutChanged.emit()

    def cell(self, row: int, column: int) -> str:
        """The text shown at view row ``row`` (after sorting)."""
        return self.preview.rows[self.order[row]][column]


def _number_key(text: str) -> tuple[bool, float]:
    value = float(text)
    return (value != value, 0.0 if value != value else value)  # NaN after every number


class TableView(QWidget):
    """A summary line ("10,000 of 123,456 rows · 4 columns"), notes, and the sortable rows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel(textFormat=Qt.TextFormat.PlainText)
        self.notes = QLabel(textFormat=Qt.TextFormat.PlainText, wordWrap=True, visible=False)
        self.model = RowsModel()
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        # fitting columns to contents measures every row by default: 100 rows are enough
        self.view.horizontalHeader().setResizeContentsPrecision(100)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.notes)
        layout.addWidget(self.view, 1)

    def show_preview(self, preview: TablePreview) -> None:
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.model.set_preview(preview)
        self.notes.setText("\n".join(preview.notes))
        self.notes.setVisible(bool(preview.notes))
        self.view.resizeColumnsToContents()
        header = self.view.horizontalHeader()
        for column in range(len(preview.columns)):
            header.resizeSection(column, max(64, min(header.sectionSize(column), 360)))
        self._summarise()

    def set_total(self, total: int) -> None:
        self.model.preview.total_rows = max(total, len(self.model.preview.rows))
        self._summarise()

    def _summarise(self) -> None:
        preview = self.model.preview
        shown, columns = len(preview.rows), len(preview.columns)
        column_text = f"{columns:,} {'column' if columns == 1 else 'columns'}"
        total = preview.total_rows
        if total is None:
            rows = f"{shown:,} of … rows (counting)"
        elif total > shown:
            about = "about " if preview.approximate else ""
            rows = f"{shown:,} of {about}{total:,} rows"
        else:
            rows = f"{total:,} {'row' if total == 1 else 'rows'}"
        self.summary.setText(f"{rows} · {column_text}")


@dataclass(frozen=True)
class TableData:
    """What the table previewer shows: the file (to count its rows later) and its first rows."""

    path: Path
    preview: TablePreview


@previewer
class TablePreviewer(Previewer):
    """CSV, TSV and Parquet files; a JSON file the host marks as a table (``log_table``)."""

    title = "Table"

    def __init__(self, runner: Any, parent: QWidget | None = None) -> None:
        super().__init__(runner, parent)
        self.table = TableView(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        self.setFocusProxy(self.table.view)
        self.destroyed.connect(lambda: runner.cancel_owner(self))  # nothing to deliver to

    @classmethod
    def accepts(cls, source: PreviewSource) -> int:
        if source.is_dir or source.kind != kinds.TABLE:
            return 0
        return 12 if source.name.lower().endswith(".json") else 10

    @staticmethod
    def prepare(state: TaskState, source: PreviewSource) -> TableData:
        assert source.fetch is not None
        path = source.fetch(state, source.path)
        return TableData(path, read_table(state, path, source.name))

    def show_data(self, data: TableData) -> None:
        self.runner.cancel_owner(self)
        self.table.show_preview(data.preview)
        if data.preview.needs_count:
            self.runner.submit(
                count_csv_rows,
                data.path,
                owner=self,
                key="count",
                label="Counting rows",
                on_result=self.table.set_total,
                on_error=lambda error, _details: self.message.emit(str(error)),
            )
