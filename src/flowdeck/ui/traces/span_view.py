"""The span tree's view: a flat table of the shown spans that draws the tree in the Name column.

``SpanTreeModel`` lists the shown spans depth-first; the Name column's delegate indents each
one by its depth and draws its expand arrow. Clicking the arrow (or double-clicking a row)
expands or collapses the span; ← and → collapse and expand (or move to the parent and the
first child), as in a tree view. Expand All on 100,000 spans is one numpy pass and a model
reset: a table lays out nothing per row, where a ``QTreeView`` walks every expanded row.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPersistentModelIndex, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QPolygonF
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from flowdeck.ui.traces.span_model import NAME, SpanTreeModel

Index = QModelIndex | QPersistentModelIndex
INDENT = 16  # pixels a level
ARROW = 16  # the expand arrow's box


class NameDelegate(QStyledItemDelegate):
    """The Name column: indentation by depth, the expand arrow, then the icon and the name."""

    def __init__(self, model: SpanTreeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model

    def arrow_left(self, span: int, cell_left: int) -> int:
        return cell_left + INDENT * self.model.depth_of(span)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        span = self.model.span_of(index)
        if span is None:
            super().paint(painter, option, index)
            return
        style = option.widget.style() if option.widget is not None else None
        if style is not None:  # the row's background (selection) under the indentation too
            style.drawPrimitive(
                QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget
            )
        left = self.arrow_left(span, option.rect.left())
        if self.model.has_children(span):
            self._draw_arrow(painter, option, left, self.model.is_expanded(span))
        shifted = QStyleOptionViewItem(option)
        shifted.rect = option.rect.adjusted(left + ARROW - option.rect.left(), 0, 0, 0)
        super().paint(painter, shifted, index)

    @staticmethod
    def _draw_arrow(
        painter: QPainter, option: QStyleOptionViewItem, left: int, expanded: bool
    ) -> None:
        x, y = left + ARROW / 2, option.rect.center().y() + 0.5
        points = (
            [QPointF(x - 4, y - 2), QPointF(x + 4, y - 2), QPointF(x, y + 3)]
            if expanded
            else [QPointF(x - 2, y - 4), QPointF(x + 3, y), QPointF(x - 2, y + 4)]
        )
        selected = option.state & QStyle.StateFlag.State_Selected
        role = (
            option.palette.ColorRole.HighlightedText if selected else option.palette.ColorRole.Text
        )
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(option.palette.color(role))
        painter.drawPolygon(QPolygonF(points))
        painter.restore()


class SpanTreeView(QTableView):
    """The shown spans as rows; the tree's expand and collapse on the Name column."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTabKeyNavigation(False)
        self.setAlternatingRowColors(False)
        rows = self.verticalHeader()
        rows.setVisible(False)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.names: NameDelegate | None = None

    def setModel(self, model: SpanTreeModel) -> None:  # type: ignore[override]  # noqa: N802
        super().setModel(model)
        self.names = NameDelegate(model, self)
        self.setItemDelegateForColumn(NAME, self.names)

    def span_model(self) -> SpanTreeModel:
        return self.model()  # type: ignore[return-value]

    # --- the current span ------------------------------------------------------------------------

    def current_span(self) -> int | None:
        return self.span_model().span_of(self.currentIndex())

    def set_current_span(self, span: int, scroll: bool = True) -> bool:
        """Make span ``span`` current (selected); False when it is not shown."""
        index = self.span_model().index_of(span)
        if not index.isValid():
            return False
        self.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        if scroll:
            self.scrollTo(index)
        return True

    def _keeping_current(self, change: object) -> None:
        """Run ``change`` (a model reset); then the current span again, or its nearest shown
        ancestor."""
        model, span = self.span_model(), self.current_span()
        change()  # type: ignore[operator]
        while span is not None and span >= 0:
            if self.set_current_span(span, scroll=True):
                return
            span = model.parent_of(span)

    # --- expanding -------------------------------------------------------------------------------

    def expandAll(self) -> None:  # noqa: N802
        self._keeping_current(self.span_model().expand_all)

    def collapseAll(self) -> None:  # noqa: N802
        self._keeping_current(lambda: self.span_model().expand_to_depth(-1))

    def expandToDepth(self, depth: int) -> None:  # noqa: N802
        """Expand the spans at depth ``depth`` and above; collapse the deeper ones."""
        self._keeping_current(lambda: self.span_model().expand_to_depth(depth))

    def toggle(self, span: int) -> None:
        model = self.span_model()
        if model.has_children(span):
            model.set_expanded(span, not model.is_expanded(span))

    # --- mouse and keys --------------------------------------------------------------------------

    def _arrow_span(self, event: QMouseEvent) -> int | None:
        """The span whose expand arrow is under the mouse."""
        index = self.indexAt(event.position().toPoint())
        span = self.span_model().span_of(index)
        if span is None or index.column() != NAME or self.names is None:
            return None
        left = self.names.arrow_left(span, self.visualRect(index).left())
        return span if left <= event.position().x() < left + ARROW else None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        span = self._arrow_span(event)
        if span is not None and event.button() == Qt.MouseButton.LeftButton:
            self.toggle(span)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        span = self.span_model().span_of(self.indexAt(event.position().toPoint()))
        if span is not None and event.button() == Qt.MouseButton.LeftButton:
            self.toggle(span)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        span, model = self.current_span(), self.span_model()
        key = event.key()
        if span is None or key not in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            super().keyPressEvent(event)
            return
        if key == Qt.Key.Key_Left:
            if model.has_children(span) and model.is_expanded(span):
                model.set_expanded(span, False)
            elif model.parent_of(span) >= 0:
                self.set_current_span(model.parent_of(span))
        elif key == Qt.Key.Key_Right and model.has_children(span):
            if not model.is_expanded(span):
                model.set_expanded(span, True)
            else:  # the first child is the next row
                self.set_current_span(model.span_of(model.index(model.row_of(span) + 1, 0)))
        event.accept()
