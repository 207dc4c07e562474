"""The span tree as a flat Qt model of the shown rows, and the timeline column's bars."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from flowdeck.core.span_rows import (
    Mask,
    TreeArrays,
    child_counts,
    row_numbers,
    tree_arrays,
    visible_rows,
)
from flowdeck.core.trace_tree import TraceTree, build_trace_tree
from flowdeck.core.trace_view import ERROR, critical_path, format_span_duration, span_tokens
from flowdeck.ui.runs.decorations import escaped_tooltip

Index = QModelIndex | QPersistentModelIndex
NAME, STATUS, DURATION, TOKENS, TIMELINE = range(5)
HEADERS = ("Span", "Status", "Duration", "Tokens", "Timeline")
TYPE_COLOURS = {
    "AGENT": "#7e57c2", "CHAIN": "#5c6bc0", "CHAT_MODEL": "#26a69a", "LLM": "#26a69a",
    "TOOL": "#ffa726", "RETRIEVER": "#42a5f5", "RERANKER": "#29b6f6", "EMBEDDING": "#8d6e63",
    "PARSER": "#78909c", "MEMORY": "#ab47bc", "WORKFLOW": "#5c6bc0", "TASK": "#66bb6a",
    "GUARDRAIL": "#ef5350", "EVALUATOR": "#ec407a",
}  # fmt: skip
OTHER_COLOUR = "#9e9e9e"
ERROR_COLOUR = QColor("#d32f2f")
SPAN_ROLE = Qt.ItemDataRole.UserRole + 1  # the span's index in the trace


def type_colour(span_type: str) -> QColor:
    return QColor(TYPE_COLOURS.get(span_type, OTHER_COLOUR))


class SpanTreeModel(QAbstractTableModel):
    """One row a shown span, depth-first (a flat list: the view draws the tree in the Name column).

    A span shows when the filter keeps it and all its ancestors are kept and expanded. Rows are
    recomputed with numpy (``core.span_rows``): expanding all 100,000 spans of a trace takes a
    few ms, and the view lays out nothing per row. Expanding or collapsing one span inserts or
    removes the rows of its subtree; bulk changes (expand all, to a depth, a filter) reset.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree: TraceTree | None = None
        self.arrays: TreeArrays = tree_arrays(build_trace_tree(()))
        self.critical: frozenset[int] = frozenset()
        self.keep: Mask | None = None  # None: every span
        self.expanded: Mask = np.zeros(0, dtype=bool)
        self.rows: np.ndarray = np.zeros(0, dtype=np.int64)
        self._kids: np.ndarray = np.zeros(0, dtype=np.int64)
        self._row_of: np.ndarray | None = None
        self._icons: dict[str, QPixmap] = {}
        self._bold = QFont()
        self._bold.setBold(True)

    def set_tree(
        self,
        tree: TraceTree,
        arrays: TreeArrays | None = None,
        critical: frozenset[int] | None = None,
        expand_depth: int = -1,
    ) -> None:
        """Show ``tree`` (unfiltered), expanded to ``expand_depth`` (see ``expand_to_depth``).

        ``arrays`` and ``critical`` are computed here unless given (the page has a worker
        compute them)."""
        self.beginResetModel()
        self.tree = tree
        self.arrays = arrays if arrays is not None else tree_arrays(tree)
        self.critical = critical if critical is not None else critical_path(tree)
        self.keep = None
        self._kids = child_counts(self.arrays, None)
        self.expanded = self.arrays.depth <= expand_depth
        self._update_rows()
        self.endResetModel()

    def set_filter(self, keep: Mask | None, expand_depth: int = -1) -> None:
        """Show only the spans ``keep`` marks (None: all), expanded to ``expand_depth``."""
        self.beginResetModel()
        self.keep = keep
        self._kids = child_counts(self.arrays, keep)
        self.expanded = self.arrays.depth <= expand_depth
        self._update_rows()
        self.endResetModel()

    def _update_rows(self) -> None:
        self.rows = visible_rows(self.arrays, self.keep, self.expanded)
        self._row_of = None

    # --- structure --------------------------------------------------------------------------

    def span_of(self, index: Index) -> int | None:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        return int(self.rows[index.row()])

    def row_of(self, span: int) -> int:
        """The row of span ``span`` (-1 when it is not shown)."""
        if self._row_of is None:
            self._row_of = row_numbers(len(self.arrays), self.rows)
        return int(self._row_of[span]) if 0 <= span < len(self._row_of) else -1

    def index_of(self, span: int, column: int = 0) -> QModelIndex:
        """The model index of span ``span`` (invalid when the filter or a collapse hides it)."""
        row = self.row_of(span)
        return self.index(row, column) if row >= 0 else QModelIndex()

    def depth_of(self, span: int) -> int:
        return int(self.arrays.depth[span])

    def parent_of(self, span: int) -> int:
        return int(self.arrays.parent[span])

    def has_children(self, span: int) -> bool:
        """Whether the span has children the filter keeps."""
        return bool(self._kids[span])

    def is_expanded(self, span: int) -> bool:
        return bool(self.expanded[span])

    def is_kept(self, span: int) -> bool:
        return self.keep is None or bool(self.keep[span])

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(HEADERS)

    # --- expanding ----------------------------------------------------------------------------

    def set_expanded(self, span: int, expanded: bool) -> None:
        """Expand or collapse one span: its subtree's rows are inserted or removed."""
        if self.is_expanded(span) == expanded:
            return
        self._change(span, [span], expanded)

    def reveal(self, span: int) -> bool:
        """Expand the span's ancestors; False when the filter hides the span."""
        if not self.is_kept(span):
            return False
        chain, parent = [], self.parent_of(span)
        while parent >= 0 and len(chain) <= len(self.arrays):
            chain.append(parent)
            parent = self.parent_of(parent)
        closed = [a for a in chain if not self.expanded[a]]
        if closed:  # every row that appears is inside the outermost closed ancestor's subtree
            self._change(closed[-1], closed, True)
        return True

    def _change(self, anchor: int, spans: list[int], expanded: bool) -> None:
        """Set the flag of ``spans``, all inside the subtree of ``anchor``."""
        row = self.row_of(anchor)
        self.expanded[spans] = expanded
        if row < 0:  # not shown: no row changes
            return
        before = len(self.rows)
        rows = visible_rows(self.arrays, self.keep, self.expanded)
        delta = len(rows) - before
        if delta > 0:
            self.beginInsertRows(QModelIndex(), row + 1, row + delta)
        elif delta < 0:
            self.beginRemoveRows(QModelIndex(), row + 1, row - delta)
        self.rows, self._row_of = rows, None
        if delta > 0:
            self.endInsertRows()
        elif delta < 0:
            self.endRemoveRows()
        self.dataChanged.emit(self.index(row, NAME), self.index(row, NAME))  # the arrow

    def expand_all(self) -> None:
        self.beginResetModel()
        self.expanded = np.ones(len(self.arrays), dtype=bool)
        self._update_rows()
        self.endResetModel()

    def expand_to_depth(self, depth: int) -> None:
        """Expand the spans at depth ``depth`` and above, collapse the rest (-1: collapse all)."""
        self.beginResetModel()
        self.expanded = self.arrays.depth <= depth
        self._update_rows()
        self.endResetModel()

    # --- data ---------------------------------------------------------------------------------

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        span_index = self.span_of(index)
        if span_index is None or self.tree is None:
            return None
        if role == SPAN_ROLE:
            return span_index
        span = self.tree.spans[span_index]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == NAME:
                return span.name or span.span_id
            if column == STATUS:
                return span.status
            if column == DURATION:
                duration = self.tree.duration_ns[span_index]
                return format_span_duration(duration)
            if column == TOKENS:
                return span_tokens(span).text()
            return None
        if role == Qt.ItemDataRole.DecorationRole and column == NAME:
            return self._icon(span.span_type)
        if role == Qt.ItemDataRole.ForegroundRole and span.status == ERROR and column < TIMELINE:
            return QBrush(ERROR_COLOUR)
        if role == Qt.ItemDataRole.FontRole and span_index in self.critical and column == NAME:
            return self._bold
        if role == Qt.ItemDataRole.ToolTipRole and column in (NAME, TIMELINE):
            path = " (on the critical path)" if span_index in self.critical else ""
            return escaped_tooltip(f"{span.name} — {span.span_type}{path}")
        return None

    def _icon(self, span_type: str) -> QPixmap:
        icon = self._icons.get(span_type)
        if icon is None:
            icon = QPixmap(10, 10)
            icon.fill(type_colour(span_type))
            self._icons[span_type] = icon
        return icon


class TimelineDelegate(QStyledItemDelegate):
    """Draws a span's bar in the timeline column; Qt paints only the visible rows."""

    def __init__(self, model: SpanTreeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        if index.column() != TIMELINE or self.model.tree is None:
            super().paint(painter, option, index)
            return
        style = option.widget.style() if option.widget is not None else None
        if style is not None:
            style.drawPrimitive(
                QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget
            )
        tree, span = self.model.tree, self.model.span_of(index)
        if span is None:
            return
        total = max(tree.total_ns, 1)
        rect = option.rect.adjusted(4, 4, -4, -4)
        duration = tree.duration_ns[span]
        left = rect.left() + rect.width() * tree.offset_ns[span] / total
        width = max(2.0, rect.width() * (duration if duration is not None else total) / total)
        colour = (
            ERROR_COLOUR
            if tree.spans[span].status == ERROR
            else type_colour(tree.spans[span].span_type)
        )
        if span not in self.model.critical:
            colour.setAlpha(150)
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(
            QRectF(left, rect.top(), min(width, rect.right() - left + 1), rect.height()), 2, 2
        )
        painter.restore()
