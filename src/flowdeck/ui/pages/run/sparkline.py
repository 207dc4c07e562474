"""Sparklines in a table cell: polylines made once from a decimated curve, painted scaled."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from flowdeck.ui.pages.run.reads import Sparkline

SPARKLINE_ROLE = Qt.ItemDataRole.UserRole + 10  # list[QPolygonF] in the unit square, or None
SPARKLINE_WIDTH = 140
MARGIN = 3
DOT_RADIUS = 1.8


def polylines(line: Sparkline) -> list[QPolygonF]:
    """The curve's unbroken stretches as polygons in the unit square (NaN splits them)."""
    finite = np.isfinite(line.y)
    starts = np.flatnonzero(finite & ~np.r_[False, finite[:-1]])
    stops = np.flatnonzero(finite & ~np.r_[finite[1:], False]) + 1
    xs, ys = line.x.tolist(), line.y.tolist()
    return [
        QPolygonF([QPointF(xs[i], ys[i]) for i in range(start, stop)])
        for start, stop in zip(starts.tolist(), stops.tolist(), strict=True)
    ]


class SparklineDelegate(QStyledItemDelegate):
    """Paints the polygons of ``SPARKLINE_ROLE``; nothing is computed while painting."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().paint(painter, option, index)  # background, selection and focus
        lines = index.data(SPARKLINE_ROLE)
        if not lines:
            return
        rect = QRectF(option.rect).adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        if rect.width() <= 0 or rect.height() <= 0:
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Link
        pen = QPen(option.palette.color(role), 1.3)
        pen.setCosmetic(True)  # the width stays in pixels under the scaling below
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pen)
        painter.save()
        painter.translate(rect.topLeft())
        painter.scale(rect.width(), rect.height())
        for line in lines:
            if line.size() > 1:
                painter.drawPolyline(line)
        painter.restore()
        last = lines[-1][lines[-1].size() - 1]
        painter.setBrush(pen.color())
        end = QPointF(rect.left() + last.x() * rect.width(), rect.top() + last.y() * rect.height())
        painter.drawEllipse(end, DOT_RADIUS, DOT_RADIUS)
        painter.restore()

    def sizeHint(  # noqa: N802 - Qt override
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(SPARKLINE_WIDTH, option.fontMetrics.height() + 2 * MARGIN)
