"""The run's parameters and metrics: models over arrays, searchable, sortable, copyable tables."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFont, QGuiApplication, QKeyEvent, QKeySequence, QPolygonF
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.runs_table_format import format_full_number, format_number
from flowdeck.ui.pages.overview_widgets import one_line, plain_label
from flowdeck.ui.pages.run.reads import MetricRow
from flowdeck.ui.pages.run.sparkline import SPARKLINE_ROLE, SPARKLINE_WIDTH, SparklineDelegate
from flowdeck.ui.sidebar.nodes import rich_tooltip

COPY_ROLE = Qt.ItemDataRole.UserRole + 1  # the cell's full text, as copied
SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # what the column sorts by (numbers for numbers)
MAX_TOOLTIP = 2000
KEY_WIDTH_SAMPLE = 400  # keys measured to size the key column
MAX_KEY_WIDTH = 420
Index = QModelIndex | QPersistentModelIndex
_NO_INDEX = QModelIndex()


def _tooltip(text: str) -> str:
    return rich_tooltip(text if len(text) <= MAX_TOOLTIP else text[:MAX_TOOLTIP] + "…")


class KeyValueModel(QAbstractTableModel):
    """Keys and values in two lists (thousands of rows cost two lists, not widgets)."""

    def __init__(self, headers: Sequence[str] = ("Key", "Value"), parent: Any = None) -> None:
        super().__init__(parent)
        self.headers = list(headers)
        self.keys: list[str] = []
        self.values: list[str] = []
        self._shown: list[str] = []  # values on one line

    def set_items(self, items: Mapping[str, str]) -> None:
        self.beginResetModel()
        self.keys = sorted(items)
        self.values = [str(items[key]) for key in self.keys]
        self._shown = [one_line(value) for value in self.values]
        self.endResetModel()

    def rowCount(self, parent: Index = _NO_INDEX) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.keys)

    def columnCount(self, parent: Index = _NO_INDEX) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else 2

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            return self.keys[row] if column == 0 else self._shown[row]
        if role == COPY_ROLE:
            return self.keys[row] if column == 0 else self.values[row]
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(self.keys[row] if column == 0 else self.values[row])
        return None

    def headerData(  # noqa: N802 - Qt override
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None


class SearchProxy(QSortFilterProxyModel):
    """Case-insensitive search on every column (or one), sorting by ``SORT_ROLE``."""

    def __init__(self, source: QAbstractTableModel, column: int = -1) -> None:
        super().__init__(source)
        self.setSourceModel(source)
        self.setFilterKeyColumn(column)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setSortRole(SORT_ROLE)
        self.setFilterRole(Qt.ItemDataRole.DisplayRole)


class CopyTable(QTableView):
    """A read-only table of whole rows; Ctrl+C copies the selected rows as tab-separated lines."""

    copied = Signal(str)  # what was copied, for the status bar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setSortingEnabled(True)
        self.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        vertical = self.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft)
        header.setHighlightSections(False)

    def selected_text(self) -> str:
        """The selected rows in view order, one line each, cells separated by tabs."""
        model = self.model()
        rows = sorted(index.row() for index in self.selectionModel().selectedRows())
        columns = [c for c in range(model.columnCount()) if not self.isColumnHidden(c)]
        lines = []
        for row in rows:
            cells = (model.index(row, column).data(COPY_ROLE) for column in columns)
            lines.append("\t".join(cell for cell in cells if cell is not None))
        return "\n".join(lines)

    def copy_selection(self) -> str:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)
            count = text.count("\n") + 1
            self.copied.emit(f"Copied {count} row{'s' * (count != 1)}")
        return text

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)

    def size_key_column(self, keys: Sequence[str]) -> None:
        """The first column as wide as its longest key (of a sample), within bounds."""
        metrics = self.fontMetrics()
        widest = max((metrics.horizontalAdvance(k) for k in keys[:KEY_WIDTH_SAMPLE]), default=80)
        self.setColumnWidth(0, min(max(widest + 24, 120), MAX_KEY_WIDTH))


def count_text(shown: int, total: int, noun: str) -> str:
    """'12 parameters', or '3 of 12 parameters' while a search hides some."""
    plural = noun if total == 1 else f"{noun}s"
    return f"{shown} of {total} {plural}" if shown != total else f"{total} {plural}"


def search_box(placeholder: str) -> QLineEdit:
    box = QLineEdit()
    box.setPlaceholderText(placeholder)
    box.setClearButtonEnabled(True)
    return box


class ParamsView(QWidget):
    """The run's parameters: search (key and value), sort, Ctrl+C, and copy all as JSON."""

    copied = Signal(str)
    noun = "parameter"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.params: dict[str, str] = {}
        self.model = KeyValueModel(("Parameter", "Value"), self)
        self.proxy = SearchProxy(self.model)
        self.search = search_box("Search parameters (key or value)")
        self.count = plain_label()
        self.copy_button = QPushButton("Copy All as JSON")
        self.copy_button.setToolTip("Copy every parameter as one JSON object")
        self.table = CopyTable(self)
        self.table.setModel(self.proxy)
        self.note = plain_label("This run has no parameters.")
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.count)
        bar.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        self.search.textChanged.connect(self._search)
        self.copy_button.clicked.connect(self.copy_json)
        self.table.copied.connect(self.copied)

    def set_params(self, params: Mapping[str, str]) -> None:
        self.params = dict(params)
        self.model.set_items(self.params)
        self.table.size_key_column(self.model.keys)
        self.note.setVisible(not self.params)
        self.table.setVisible(bool(self.params))
        self._update_count()

    def _search(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._update_count()

    def _update_count(self) -> None:
        self.count.setText(count_text(self.proxy.rowCount(), self.model.rowCount(), self.noun))

    def copy_json(self) -> str:
        text = json.dumps(self.params, indent=2, sort_keys=True, ensure_ascii=False)
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(f"Copied {len(self.params)} parameters as JSON")
        return text


METRIC_HEADERS = ("Metric", "Latest", "Min", "Max", "Best step", "Points", "Trend")
MIN_COLUMN, MAX_COLUMN, TREND_COLUMN = 2, 3, 6
ROW_HEIGHT = 30  # room for a sparkline
BEST_STEP_TIP = "The step of the lowest value for losses and errors, of the highest otherwise"


class MetricsModel(QAbstractTableModel):
    """One row per metric; the sparklines arrive later, as polygons made once."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[MetricRow] = []
        self.lines: dict[str, list[QPolygonF] | None] = {}
        self._row_of: dict[str, int] = {}
        self._bold = QFont()
        self._bold.setBold(True)

    def set_rows(self, rows: Sequence[MetricRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.lines = {}
        self._row_of = {row.key: index for index, row in enumerate(self.rows)}
        self.endResetModel()

    def set_lines(self, lines: Mapping[str, list[QPolygonF] | None]) -> None:
        self.lines.update(lines)
        found = [self._row_of[key] for key in lines if key in self._row_of]
        if found:
            top = self.index(min(found), TREND_COLUMN)
            self.dataChanged.emit(top, self.index(max(found), TREND_COLUMN), [SPARKLINE_ROLE])

    def rowCount(self, parent: Index = _NO_INDEX) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = _NO_INDEX) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(METRIC_HEADERS)

    def _value(self, row: MetricRow, column: int) -> Any:
        return (
            row.key,
            row.latest,
            row.minimum,
            row.maximum,
            row.best_step,
            row.count,
            None,
        )[column]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], index.column()
        value = self._value(row, column)
        if role in (Qt.ItemDataRole.DisplayRole, COPY_ROLE):
            if column == TREND_COLUMN:
                return None
            if isinstance(value, float):
                return format_number(value)
            return "" if value is None else str(value)
        if role == SORT_ROLE:
            if column == TREND_COLUMN:
                return row.count
            return -1 if value is None else value
        if role == SPARKLINE_ROLE and column == TREND_COLUMN:
            return self.lines.get(row.key)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column, value)
        if role == Qt.ItemDataRole.FontRole:
            best = MIN_COLUMN if row.lower_better else MAX_COLUMN
            return self._bold if column == best else None
        if role == Qt.ItemDataRole.TextAlignmentRole and column:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    def _tooltip(self, row: MetricRow, column: int, value: Any) -> str | None:
        if column == 0:
            return _tooltip(row.key)
        if isinstance(value, float):
            return format_full_number(value)
        if column == 4:
            return BEST_STEP_TIP
        if column == TREND_COLUMN:
            return f"{row.count} points; the dot is the latest value. Click to chart it."
        return None

    def headerData(  # noqa: N802 - Qt override
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return METRIC_HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole and section == 4:
            return BEST_STEP_TIP
        return None


class MetricsTable(QWidget):
    """Search and the metrics table; ``chart_requested`` names the metrics to chart."""

    chart_requested = Signal(list)  # metric keys, in table order
    copied = Signal(str)
    noun = "metric"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = MetricsModel(self)
        self.proxy = SearchProxy(self.model, column=0)
        self.search = search_box("Search metrics")
        self.count = plain_label()
        self.table = CopyTable(self)
        self.table.setModel(self.proxy)
        self.delegate = SparklineDelegate(self.table)
        self.table.setItemDelegateForColumn(TREND_COLUMN, self.delegate)
        self.table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(TREND_COLUMN, QHeaderView.ResizeMode.Stretch)
        for column in range(1, TREND_COLUMN):
            self.table.setColumnWidth(column, 92)
        self.table.setColumnWidth(TREND_COLUMN, SPARKLINE_WIDTH)
        self.note = plain_label("This run has no metrics.")
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addLayout(bar)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        self._settle = QTimer(self, singleShot=True, interval=80)
        self._settle.timeout.connect(self.chart_selected)
        self.search.textChanged.connect(self._search)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.activated.connect(lambda _index: self.chart_selected())
        self.table.copied.connect(self.copied)

    def set_rows(self, rows: Sequence[MetricRow]) -> None:
        self.model.set_rows(rows)
        self.table.size_key_column([row.key for row in rows])
        self.note.setVisible(not rows)
        self.table.setVisible(bool(rows))
        self._update_count()

    def selected_keys(self) -> list[str]:
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self.proxy.index(row, 0).data() for row in rows]

    def select_keys(self, keys: Sequence[str]) -> None:
        """Select these metrics (those shown) as if clicked."""
        wanted = set(keys)
        selection = QItemSelection()
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data() in wanted:
                last = self.proxy.columnCount() - 1
                selection.select(self.proxy.index(row, 0), self.proxy.index(row, last))
        flags = self.table.selectionModel().SelectionFlag.ClearAndSelect
        self.table.selectionModel().select(selection, flags)

    def chart_selected(self) -> None:
        self.chart_requested.emit(self.selected_keys())

    def _selection_changed(self, *_args: object) -> None:
        self._settle.start()

    def _search(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._update_count()

    def _update_count(self) -> None:
        self.count.setText(count_text(self.proxy.rowCount(), self.model.rowCount(), self.noun))
