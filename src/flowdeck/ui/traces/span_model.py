"""The span tree as a Qt model over the trace's index arrays, and the timeline column's bars."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from flowdeck.core.trace_tree import TraceTree, sibling_rows
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


class SpanTreeModel(QAbstractItemModel):
    """Rows are spans; ``internalId`` is the span's index + 1. Filtering swaps the child lists."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree: TraceTree | None = None
        self.roots: tuple[int, ...] = ()
        self.children: tuple[tuple[int, ...], ...] = ()
        self.row_of: Sequence[int] = ()
        self.critical: frozenset[int] = frozenset()
        self._icons: dict[str, QPixmap] = {}
        self._bold = QFont()
        self._bold.setBold(True)

    def set_tree(self, tree: TraceTree) -> None:
        self.tree = tree
        self.critical = critical_path(tree)
        self.set_visible(tree.roots, tree.children, tree.row or None)

    def set_visible(
        self,
        roots: tuple[int, ...],
        children: tuple[tuple[int, ...], ...],
        row_of: Sequence[int] | None = None,
    ) -> None:
        """Show only these roots and child lists (a filter's result), or the whole tree.

        ``row_of`` (each span's row among its siblings) is computed here unless given.
        """
        count = len(self.tree) if self.tree is not None else 0
        if row_of is None:
            row_of = sibling_rows(count, roots, children)
        self.beginResetModel()
        self.roots, self.children, self.row_of = roots, children, row_of
        self.endResetModel()

    # --- structure --------------------------------------------------------------------------

    def span_of(self, index: Index) -> int | None:
        return index.internalId() - 1 if index.isValid() else None

    def index_of(self, span: int, column: int = 0) -> QModelIndex:
        """The model index of span ``span`` (invalid when the filter hides it)."""
        if self.tree is None or not 0 <= span < len(self.tree):
            return QModelIndex()
        parent = self.tree.parent[span]
        siblings = self.children[parent] if parent >= 0 else self.roots
        row = self.row_of[span]
        if row >= len(siblings) or siblings[row] != span:
            return QModelIndex()
        return self.createIndex(row, column, span + 1)

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        kids = self._kids(parent)
        if not (0 <= row < len(kids) and 0 <= column < len(HEADERS)):
            return QModelIndex()
        return self.createIndex(row, column, kids[row] + 1)

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        span = self.span_of(index)
        if span is None or self.tree is None:
            return QModelIndex()
        parent = self.tree.parent[span]
        return QModelIndex() if parent < 0 else self.createIndex(self.row_of[parent], 0, parent + 1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._kids(parent))

    def columnCount(self, _parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return len(HEADERS)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: N802, B008
        return self.rowCount(parent) > 0

    def _kids(self, parent: Index) -> tuple[int, ...]:
        if not parent.isValid():
            return self.roots
        span = self.span_of(parent)
        return self.children[span] if span is not None and span < len(self.children) else ()

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
