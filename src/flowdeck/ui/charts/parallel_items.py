"""Graphics items of the parallel-coordinates chart: draggable axes, brushes, the axes menu."""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QMenu, QWidget

AXIS_HALF_WIDTH = 0.14  # how far from an axis (in axis spacings) a drag still brushes it
NOTCH_HALF_WIDTH = 0.05


class AxisHandle(pg.GraphicsObject):
    """One vertical axis: draws its line and missing-value notch; a drag on it brushes it."""

    def __init__(
        self,
        index: int,
        missing_y: float,
        has_missing: bool,
        on_drag: Callable[[int, float, float, bool], None],
        on_double_click: Callable[[int], None],
    ) -> None:
        super().__init__()
        self.index = index
        self._missing_y = missing_y
        self._has_missing = has_missing
        self._on_drag = on_drag
        self._on_double_click = on_double_click
        self._pen = QPen(QColor("black"))
        self._notch_pen = QPen(QColor("gray"))
        self.setCursor(Qt.CursorShape.SizeVerCursor)

    def set_colours(self, axis: QColor, notch: QColor) -> None:
        self._pen = pg.mkPen(axis, width=1)
        self._notch_pen = pg.mkPen(notch, width=1.5, style=Qt.PenStyle.DashLine)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        bottom = self._missing_y - 0.05
        return QRectF(self.index - AXIS_HALF_WIDTH, bottom, 2 * AXIS_HALF_WIDTH, 1.02 - bottom)

    def paint(self, painter: QPainter, *_args) -> None:
        painter.setPen(self._pen)
        painter.drawLine(QPointF(self.index, 0.0), QPointF(self.index, 1.0))
        if self._has_missing:
            painter.setPen(self._notch_pen)
            y = self._missing_y
            painter.drawLine(
                QPointF(self.index - NOTCH_HALF_WIDTH, y), QPointF(self.index + NOTCH_HALF_WIDTH, y)
            )

    def mouseDragEvent(self, ev) -> None:  # noqa: N802, ANN001 - pyqtgraph override
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        self._on_drag(self.index, ev.buttonDownPos().y(), ev.pos().y(), ev.isFinish())

    def mouseClickEvent(self, ev) -> None:  # noqa: N802, ANN001 - pyqtgraph override
        if ev.button() == Qt.MouseButton.LeftButton and ev.double():
            ev.accept()
            self._on_double_click(self.index)
        else:
            ev.ignore()


class AxisBrush(pg.LinearRegionItem):
    """A brushed range on one axis (between two horizontal lines); double-click removes it."""

    def __init__(
        self,
        index: int,
        region: tuple[float, float],
        bounds: tuple[float, float],
        span: tuple[float, float],
        colour: QColor,
        on_double_click: Callable[[int], None],
    ) -> None:
        fill = QColor(colour)
        fill.setAlpha(45)
        edge = QColor(colour)
        edge.setAlpha(200)
        super().__init__(
            values=region,
            orientation="horizontal",
            brush=fill,
            pen=pg.mkPen(edge, width=2),
            bounds=bounds,
            span=span,
        )
        self.index = index
        self._on_double_click = on_double_click
        self.setZValue(20)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802, ANN001 - pyqtgraph override
        if ev.button() == Qt.MouseButton.LeftButton and ev.double():
            ev.accept()
            self._on_double_click(self.index)
            return
        super().mouseClickEvent(ev)


class CheckableMenu(QMenu):
    """A menu that stays open while its checkable actions are toggled."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        action = self.activeAction()
        if action is not None and action.isCheckable() and action.isEnabled():
            action.trigger()
            return
        super().mouseReleaseEvent(event)
