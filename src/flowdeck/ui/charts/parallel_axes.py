"""The axes of the parallel-coordinates chart: lines, missing notches and plain-text labels."""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetrics, QPalette

from flowdeck.core.comparison_axes import MISSING_TEXT, ComparisonAxis
from flowdeck.core.parallel_lines import MISSING_Y, category_labels
from flowdeck.ui.charts.parallel_items import NOTCH_HALF_WIDTH, AxisHandle

MAX_CATEGORY_LABELS = 12
TITLE, VALUE, CATEGORY, MISSING = "title", "value", "category", "missing"


class ParallelAxes:
    """Puts one AxisHandle and its labels per axis into a PlotItem; fits the view to them."""

    def __init__(
        self,
        plot: pg.PlotItem,
        on_drag: Callable[[int, float, float, bool], None],
        on_double_click: Callable[[int], None],
    ) -> None:
        self.plot = plot
        self._on_drag = on_drag
        self._on_double_click = on_double_click
        self.n_axes = 0
        self._handles: list[AxisHandle] = []
        self._labels: list[tuple[pg.TextItem, str, str]] = []  # item, full text, role

    def x_range(self) -> tuple[float, float]:
        return -0.5, self.n_axes - 0.5

    def clear(self) -> None:
        for item in [*self._handles, *(label for label, _text, _role in self._labels)]:
            self.plot.removeItem(item)
        self._handles, self._labels = [], []
        self.n_axes = 0

    def set_axes(self, axes: list[ComparisonAxis], palette: QPalette) -> None:
        self.clear()
        self.n_axes = len(axes)
        text = palette.color(QPalette.ColorRole.Text)
        faint = QColor(text)
        faint.setAlpha(170)
        label_fill = QColor(palette.color(QPalette.ColorRole.Base))
        label_fill.setAlpha(220)
        for index, axis in enumerate(axes):
            handle = AxisHandle(
                index, MISSING_Y, axis.has_unplaced, self._on_drag, self._on_double_click
            )
            handle.set_colours(text, faint)
            handle.setZValue(5)
            self.plot.addItem(handle)
            self._handles.append(handle)
            self._add(axis.title, TITLE, index, 1.0, (0.5, 2.0), text)
            if axis.categories is not None:
                for label, height in category_labels(axis.categories, MAX_CATEGORY_LABELS):
                    self._add(label, CATEGORY, index, height, (0.0, 0.5), text, label_fill)
            elif axis.single_number:
                self._add(axis.low_text, CATEGORY, index, 0.5, (0.0, 0.5), text, label_fill)
            elif axis.low_text or axis.high_text:
                self._add(axis.high_text, VALUE, index, 1.0, (0.5, 1.0), text)
                self._add(axis.low_text, VALUE, index, 0.0, (0.5, 0.0), text)
            if axis.has_unplaced:
                self._add(MISSING_TEXT, MISSING, index, MISSING_Y, (0.0, 0.5), faint)

    def label_texts(self, index: int) -> list[str]:
        """The full (unelided) labels of axis ``index``: title, values or categories, notch."""
        return [text for item, text, _role in self._labels if round(item.pos().x()) == index]

    def _add(
        self,
        text: str,
        role: str,
        index: int,
        height: float,
        anchor: tuple[float, float],
        colour: QColor,
        fill: QColor | None = None,
    ) -> None:
        item = pg.TextItem(text, color=colour, anchor=anchor, fill=fill)  # plain text
        if role == TITLE:
            font = item.textItem.font()
            font.setBold(True)
            item.setFont(font)
        item.setPos(index, height)
        item.setZValue(10)
        self.plot.addItem(item, ignoreBounds=True)
        self._labels.append((item, text, role))

    def fit(self) -> None:
        """Room above the axes for titles and top values, below for the missing notch."""
        if not self.n_axes:
            return
        vb = self.plot.vb
        line = self._label_height()
        top, bottom = 2.0 * line + 4.0, 1.2 * line
        usable = max(vb.height() - top - bottom, 40.0)
        per_pixel = (1.0 - MISSING_Y) / usable
        y_range = (MISSING_Y - bottom * per_pixel, 1.0 + top * per_pixel)
        vb.setRange(xRange=self.x_range(), yRange=y_range, padding=0)
        self._fit_labels()

    def _label_height(self) -> float:
        """The height of a one-line label (text plus the text item's margins)."""
        if self._labels:
            return float(self._labels[0][0].boundingRect().height())
        return QFontMetrics(self.plot.font()).height() + 8.0

    def _fit_labels(self) -> None:
        """Elide labels to the room between axes (centred: the spacing, right-hand: 80%)."""
        vb = self.plot.vb
        if vb.width() <= 0:
            return
        spacing = vb.width() / self.n_axes
        metrics = QFontMetrics(self._labels[0][0].textItem.font()) if self._labels else None
        gap = 4.0 * vb.viewPixelSize()[0]
        for item, text, role in self._labels:
            room = spacing * (0.92 if role in (TITLE, VALUE) else 0.8)
            font_metrics = QFontMetrics(item.textItem.font()) if role == TITLE else metrics
            item.setText(font_metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(room)))
            if role in (CATEGORY, MISSING):
                base = round(item.pos().x())
                offset = gap + (NOTCH_HALF_WIDTH if role == MISSING else 0.0)
                item.setPos(base + offset, item.pos().y())
