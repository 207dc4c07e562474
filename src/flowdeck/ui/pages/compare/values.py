"""The Values tab: params, metrics and tags of the runs side by side, one column per run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QGuiApplication,
    QIcon,
    QMouseEvent,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.compare import (
    METRICS,
    MISSING,
    SECTIONS,
    CompareRow,
    RowFilter,
    as_tsv,
    better_is_lower,
    shown_rows,
)
from flowdeck.core.runs_table_format import format_full_number

COLOUR_ROLE = Qt.ItemDataRole.UserRole + 1  # a run column's colour (hex) in the header
BEST = "★ "
SWATCH_SIZE = 12
MIN_COLUMN_WIDTH = 110
MAX_COLUMN_WIDTH = 320
HEADER_TIP = "Click to open the run; Ctrl+click or the middle button opens a new tab."
Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class RunColumn:
    """A compared run as its column shows it."""

    run_id: str
    name: str
    colour: str
    tooltip: str = ""


def swatch(colour: str) -> QIcon:
    pixmap = QPixmap(SWATCH_SIZE, SWATCH_SIZE)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


def one_line(text: str) -> str:
    return " ⏎ ".join(text.splitlines()) if "\n" in text or "\r" in text else text


class ValuesModel(QAbstractTableModel):
    """Section titles and the rows the filter keeps; every text is prepared in ``set_*``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.columns: list[RunColumn] = []
        self.rows: list[CompareRow] = []
        self.row_filter = RowFilter()
        self._shown: list[str | CompareRow] = []  # a str is a section title
        self._icons: list[QIcon] = []
        palette = QGuiApplication.palette()
        best = QColor(palette.color(QPalette.ColorRole.Highlight))
        best.setAlpha(70)
        self._best = QBrush(best)
        self._missing = QBrush(palette.color(QPalette.ColorRole.PlaceholderText))
        self._bold = QFont()
        self._bold.setBold(True)

    # --- what to show -------------------------------------------------------------------------

    def set_comparison(self, columns: list[RunColumn], rows: list[CompareRow]) -> None:
        self.beginResetModel()
        self.columns = list(columns)
        self._icons = [swatch(column.colour) for column in columns]
        self.rows = list(rows)
        self._shown = self._layout()
        self.endResetModel()

    def set_filter(self, row_filter: RowFilter) -> None:
        self.beginResetModel()
        self.row_filter = row_filter
        self._shown = self._layout()
        self.endResetModel()

    def _layout(self) -> list[str | CompareRow]:
        kept = shown_rows(self.rows, self.row_filter)
        out: list[str | CompareRow] = []
        for section in SECTIONS:
            members = [row for row in kept if row.section == section]
            if members:
                keys = len({row.key for row in members})
                out.append(f"{section} ({keys})")
                out.extend(members)
        return out

    def shown_rows(self) -> list[CompareRow]:
        return [row for row in self._shown if isinstance(row, CompareRow)]

    def row_at(self, row: int) -> CompareRow | None:
        item = self._shown[row] if 0 <= row < len(self._shown) else None
        return item if isinstance(item, CompareRow) else None

    def section_rows(self) -> list[int]:
        return [row for row, item in enumerate(self._shown) if isinstance(item, str)]

    def differing(self) -> tuple[int, int]:
        """(rows that differ, rows) among what the filter keeps."""
        rows = self.shown_rows()
        return sum(row.differs for row in rows), len(rows)

    # --- the model ----------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self._shown)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else 1 + len(self.columns)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if isinstance(self._shown[index.row()], str):
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item, column = self._shown[index.row()], index.column()
        if isinstance(item, str):
            if role == Qt.ItemDataRole.DisplayRole and column == 0:
                return item
            return self._bold if role == Qt.ItemDataRole.FontRole else None
        if column == 0:
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                return item.label
            return None
        value = item.values[column - 1]
        best = column - 1 in item.best
        if role == Qt.ItemDataRole.DisplayRole:
            text = MISSING if value is None else one_line(value)
            return BEST + text if best else text
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item, column - 1)
        if role == Qt.ItemDataRole.FontRole and item.differs and value is not None:
            return self._bold
        if role == Qt.ItemDataRole.BackgroundRole and best:
            return self._best
        if role == Qt.ItemDataRole.ForegroundRole and value is None:
            return self._missing
        return None

    def _tooltip(self, row: CompareRow, position: int) -> str:
        name = self.columns[position].name
        if row.values[position] is None:
            return f"{name} has no {row.label}."
        number = row.numbers[position] if row.numbers else None
        text = format_full_number(number) if number is not None else str(row.values[position])
        if position in row.best:
            way = "lowest" if better_is_lower(row.key) else "highest"
            text += f"\nBest: the {way} value (★)."
        return text

    def headerData(  # noqa: N802 - Qt API
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < self.columnCount():
            return None
        if section == 0:
            return "Key" if role == Qt.ItemDataRole.DisplayRole else None
        column = self.columns[section - 1]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.name
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icons[section - 1]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{column.tooltip}\n{HEADER_TIP}".strip()
        if role == COLOUR_ROLE:
            return column.colour
        return None


class RunHeader(QHeaderView):
    """The column header; a click on a run's section asks to open that run."""

    run_clicked = Signal(int, bool)  # section, in a new tab

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setSectionsClickable(True)
        self.setHighlightSections(False)
        self._pressed = -1

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self._pressed = self.logicalIndexAt(event.position().toPoint())
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        section = self.logicalIndexAt(event.position().toPoint())
        super().mouseReleaseEvent(event)
        button = event.button()
        if section != self._pressed or section < 1:
            return
        if button == Qt.MouseButton.MiddleButton:
            self.run_clicked.emit(section, True)
        elif button == Qt.MouseButton.LeftButton:
            ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            self.run_clicked.emit(section, ctrl)


class ValuesView(QWidget):
    """The table with its search box, filters and copy button."""

    run_clicked = Signal(str, bool)  # run id, in a new tab
    metrics_selected = Signal()  # the selected metric rows changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ValuesModel(self)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search keys")
        self.search.setClearButtonEnabled(True)
        self.differences = QCheckBox("Differences only", self)
        self.min_max = QCheckBox("Min and max", self)
        self.min_max.setToolTip("Show each metric's lowest and highest logged value too")
        self.system_tags = QCheckBox("System tags", self)
        self.system_tags.setToolTip("Show the mlflow.* tags MLflow sets itself")
        self.copy_button = QPushButton("Copy as TSV", self)
        self.copy_button.setToolTip("Copy the rows shown as tab-separated text")
        self.count = QLabel(self)
        self.count.setTextFormat(Qt.TextFormat.PlainText)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 6, 6, 0)
        bar.addWidget(self.search, 1)
        for widget in (self.differences, self.min_max, self.system_tags, self.copy_button):
            bar.addWidget(widget)
        bar.addWidget(self.count)
        self.table = QTableView(self)
        self.header = RunHeader(self.table)
        self.table.setHorizontalHeader(self.header)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.header.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.search.textChanged.connect(self._filter_changed)
        for box in (self.differences, self.min_max, self.system_tags):
            box.toggled.connect(self._filter_changed)
        self.copy_button.clicked.connect(self.copy_tsv)
        self.header.run_clicked.connect(
            lambda section, new_tab: self.run_clicked.emit(
                self.model.columns[section - 1].run_id, new_tab
            )
        )
        self.table.selectionModel().selectionChanged.connect(
            lambda *_: self.metrics_selected.emit()
        )

    def set_comparison(self, columns: list[RunColumn], rows: list[CompareRow]) -> None:
        had_columns = bool(self.model.columns)
        self.model.set_comparison(columns, rows)
        self._after_reset()
        if not had_columns:
            self.table.resizeColumnsToContents()
            for column in range(self.model.columnCount()):
                width = max(self.table.columnWidth(column) + 16, MIN_COLUMN_WIDTH)
                self.table.setColumnWidth(column, min(width, MAX_COLUMN_WIDTH))

    def _filter_changed(self) -> None:
        self.model.set_filter(
            RowFilter(
                differences_only=self.differences.isChecked(),
                min_max=self.min_max.isChecked(),
                system_tags=self.system_tags.isChecked(),
                search=self.search.text(),
            )
        )
        self._after_reset()
        self.metrics_selected.emit()

    def _after_reset(self) -> None:
        self.table.clearSpans()
        for row in self.model.section_rows():
            self.table.setSpan(row, 0, 1, self.model.columnCount())
        differing, total = self.model.differing()
        self.count.setText(f"{differing} of {total} differ")

    def selected_metric_keys(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        keys = [row.key for r in rows if (row := self.model.row_at(r)) and row.section == METRICS]
        return list(dict.fromkeys(keys))

    def copy_tsv(self) -> None:
        names = [column.name for column in self.model.columns]
        QApplication.clipboard().setText(as_tsv(names, self.model.shown_rows()))
