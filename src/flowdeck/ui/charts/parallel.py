"""Parallel coordinates: one axis per param or metric, one line per run, brushing to filter."""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.comparison_axes import (
    ComparisonAxis,
    axis_choices,
    comparison_axis,
    default_axes,
    distinct_titles,
)
from flowdeck.core.parallel_lines import (
    MISSING_Y,
    inside_brushes,
    line_alpha,
    line_heights,
    nearest_line,
    polylines,
)
from flowdeck.core.runs_table import RunsTable
from flowdeck.core.runs_table_columns import METRIC, PARAM
from flowdeck.ui.charts.export import export_chart
from flowdeck.ui.charts.parallel_axes import ParallelAxes
from flowdeck.ui.charts.parallel_items import AXIS_HALF_WIDTH, AxisBrush, CheckableMenu

BRUSH_BOUNDS = (MISSING_Y - 0.05, 1.05)
HOVER_PIXELS = 6.0
NO_RUNS = "Select runs to compare"
NO_AXES = "Choose the axes to compare in the Axes menu"


class ParallelCoordinates(QWidget):
    """Runs as polylines across param and metric axes; drag on an axis to brush a range."""

    brushed = Signal(list)  # run ids inside every brush (every shown run without brushes)
    columns_changed = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._table: RunsTable | None = None
        self._rows = np.empty(0, dtype=np.int64)
        self._columns: list[str] = []
        self._chosen: list[str] | None = None  # the user's axes, kept while they exist
        self._axes: list[ComparisonAxis] = []
        self._y = np.empty((0, 0))  # drawn height per shown row and axis
        self._brushes: dict[int, AxisBrush] = {}
        self._dragging = False
        self._last_emitted: list[str] | None = None
        self._hovered = -1
        self.hover_text = ""
        self._curves: list[pg.PlotCurveItem] = []

        self.axes_menu = CheckableMenu(self)
        self.axes_menu.triggered.connect(self._axis_toggled)
        self.axes_button = QToolButton(text="Axes")
        self.axes_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.axes_button.setMenu(self.axes_menu)
        self.clear_action = QAction("Clear brushes", self)
        self.clear_action.triggered.connect(self.clear_brushes)
        clear_button = QToolButton()
        clear_button.setDefaultAction(self.clear_action)
        self.export_button = QToolButton(text="Export…")
        self.export_button.clicked.connect(self._export)
        self.summary = QLabel()
        toolbar = QHBoxLayout()
        for widget in (self.axes_button, clear_button, self.export_button):
            toolbar.addWidget(widget)
        toolbar.addStretch(1)
        toolbar.addWidget(self.summary)

        self.view = pg.PlotWidget(enableMenu=False)
        self.plot = self.view.getPlotItem()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.hideButtons()
        self.plot.vb.setMouseEnabled(False, False)
        self.axes_layer = ParallelAxes(self.plot, self._drag, self._remove_brush)
        self.plot.vb.sigResized.connect(self.axes_layer.fit)
        self.view.scene().sigMouseMoved.connect(self._mouse_moved)
        self._hover_curve = pg.PlotCurveItem()
        self._hover_curve.setZValue(15)
        self.plot.addItem(self._hover_curve)
        self.message = QLabel(NO_RUNS, alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.view)
        toolbar.setContentsMargins(4, 4, 4, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(toolbar)
        layout.addWidget(self.stack, 1)
        self._apply_palette()
        self._redraw()

    # --- data --------------------------------------------------------------------------------

    def set_data(
        self, table: RunsTable, rows: np.ndarray, columns: list[str] | None = None
    ) -> None:
        """Show ``rows`` of ``table`` on ``columns`` (None: the user's axes, else defaults)."""
        self._table = table
        self._rows = np.asarray(rows, dtype=np.int64)
        if columns is not None:
            self._chosen = list(columns)
        kept = [c for c in self._chosen or [] if table.has_column(c)]
        self._columns = kept if kept or self._chosen == [] else default_axes(table, self._rows)
        self._rebuild_menu()
        self._redraw()

    def columns(self) -> list[str]:
        return list(self._columns)

    def set_columns(self, columns: list[str]) -> None:
        """Axes chosen by the user (as the Axes menu does); kept across ``set_data``."""
        self._chosen = list(columns)
        if self._table is not None:
            self._columns = [c for c in columns if self._table.has_column(c)]
            self._rebuild_menu()
            self._redraw()
        self.columns_changed.emit(self.columns())

    def axis(self, column_id: str) -> ComparisonAxis:
        return self._axes[self._columns.index(column_id)]

    def shown_run_ids(self) -> list[str]:
        table = self._table
        return [] if table is None else [table.run_ids[row] for row in self._rows.tolist()]

    def brushed_run_ids(self) -> list[str]:
        shown = self.shown_run_ids()
        inside = self._inside()
        return [run_id for run_id, keep in zip(shown, inside.tolist(), strict=True) if keep]

    def polyline(self, run_id: str) -> np.ndarray:
        """The heights at which ``run_id``'s line crosses each axis (MISSING_Y when missing)."""
        return self._y[self.shown_run_ids().index(run_id)].copy()

    def write_csv(self, path: str) -> None:
        if self._table is not None:
            self._table.to_csv(path, self._rows, ["run_id", "name", *self._columns])

    # --- brushes -----------------------------------------------------------------------------

    def brush_region(self, column_id: str) -> tuple[float, float] | None:
        """The brushed range of an axis, in axis heights (0 bottom .. 1 top), or None."""
        brush = self._brushes.get(self._columns.index(column_id))
        return None if brush is None else tuple(brush.getRegion())

    def clear_brush(self, column_id: str) -> None:
        self._remove_brush(self._columns.index(column_id))

    def clear_brushes(self) -> None:
        for brush in self._brushes.values():
            self.plot.removeItem(brush)
        self._brushes.clear()
        self._restyle()
        self._emit_brushed()

    def _remove_brush(self, index: int) -> None:
        brush = self._brushes.pop(index, None)
        if brush is not None:
            self.plot.removeItem(brush)
            self._restyle()
            self._emit_brushed()

    def _drag(self, index: int, start: float, now: float, finished: bool) -> None:
        low, high = sorted(float(np.clip(y, *BRUSH_BOUNDS)) for y in (start, now))
        self._dragging = not finished
        brush = self._brushes.get(index)
        if brush is None:
            x_low, x_high = self.axes_layer.x_range()
            width = x_high - x_low
            span = (
                (index - AXIS_HALF_WIDTH - x_low) / width,
                (index + AXIS_HALF_WIDTH - x_low) / width,
            )
            highlight = self.palette().color(QPalette.ColorRole.Highlight)
            brush = AxisBrush(index, (low, high), BRUSH_BOUNDS, span, highlight, self._remove_brush)
            brush.sigRegionChanged.connect(self._restyle)
            brush.sigRegionChangeFinished.connect(self._emit_brushed)
            self._brushes[index] = brush
            self.plot.addItem(brush)
        brush.setRegion((low, high))
        self._restyle()
        if finished:
            self._emit_brushed()

    def _inside(self) -> np.ndarray:
        regions = {index: brush.getRegion() for index, brush in self._brushes.items()}
        return inside_brushes(self._y, regions)

    def _emit_brushed(self, *_args) -> None:
        if self._dragging:
            return
        ids = self.brushed_run_ids()
        if ids != self._last_emitted:
            self._last_emitted = ids
            self.brushed.emit(ids)

    # --- drawing -----------------------------------------------------------------------------

    def _redraw(self) -> None:
        had_brushes = bool(self._brushes)
        for brush in self._brushes.values():
            self.plot.removeItem(brush)
        self._brushes.clear()
        self.axes_layer.clear()
        self._hovered = -1
        table, rows = self._table, self._rows
        self._axes = (
            []
            if table is None
            else distinct_titles(table, [comparison_axis(table, c, rows) for c in self._columns])
        )
        self._y = line_heights([axis.positions for axis in self._axes], len(rows))
        if table is None or not len(rows) or not self._axes:
            self.message.setText(NO_RUNS if table is None or not len(rows) else NO_AXES)
            self.stack.setCurrentWidget(self.message)
            self._restyle()
        else:
            self.stack.setCurrentWidget(self.view)
            self.axes_layer.set_axes(self._axes, self.palette())
            self._restyle()
            self.axes_layer.fit()
        if had_brushes:
            self._emit_brushed()
        else:
            self._last_emitted = None

    def _restyle(self, *_args) -> None:
        """Redraw the run lines: inside every brush in the run's colour, the others faint."""
        for curve in self._curves:
            self.plot.removeItem(curve)
        self._curves = []
        self._hover_curve.setData([], [])
        if self._table is None or not len(self._rows) or not self._axes:
            self.summary.setText("")
            return
        inside = self._inside()
        colours = np.array(self._table.colours, dtype=object)[self._rows]
        n_inside = int(inside.sum())
        alpha = line_alpha(n_inside)
        groups: list[tuple[np.ndarray, QColor, int]] = []  # rows, colour, z
        if (~inside).any():
            groups.append((np.flatnonzero(~inside), self._faint_colour(45), 1))
        for colour in sorted(set(colours[inside].tolist())):
            line_colour = QColor(colour)
            line_colour.setAlpha(alpha)
            groups.append((np.flatnonzero(inside & (colours == colour)), line_colour, 2))
        for members, colour, z in groups:
            x, y, connect = polylines(self._y, members)
            # one-pixel pens: antialiased wider ones paint 10-100x slower (200 ms for 50 runs)
            pen = pg.mkPen(colour, width=1)
            curve = pg.PlotCurveItem(x, y, connect=connect, pen=pen, antialias=True)
            curve.setZValue(z)
            self.plot.addItem(curve)
            self._curves.append(curve)
        n_shown = len(self._rows)
        brushed = f"{n_inside} of {n_shown} runs inside the brushes" if self._brushes else ""
        self.summary.setText(brushed or f"{n_shown} run{'s' if n_shown != 1 else ''}")

    # --- hover -------------------------------------------------------------------------------

    def _mouse_moved(self, position: QPointF) -> None:
        row = self._row_at(position)
        if row == self._hovered:
            return
        self._hovered = row
        if row < 0:
            self._hover_curve.setData([], [])
            self.hover_text = ""
            self.plot.vb.setToolTip("")
            return
        x, y, _connect = polylines(self._y, np.array([row]))
        colour = self._table.colours[self._rows[row]]
        self._hover_curve.setData(x, y, pen=pg.mkPen(colour, width=3.5))
        self.hover_text = self._tooltip(row)
        self.plot.vb.setToolTip(self.hover_text)  # shown by Qt when the mouse rests

    def _tooltip(self, row: int) -> str:
        name = self._table.column("name").display[self._rows[row]]
        lines = [f"<b>{html.escape(name)}</b>"]
        for axis in self._axes:
            lines.append(f"{html.escape(axis.title)}: {html.escape(axis.texts[row])}")
        return "<br>".join(lines)

    def _row_at(self, position: QPointF) -> int:
        """The shown row whose line passes within HOVER_PIXELS of ``position``, else -1."""
        vb = self.plot.vb
        if not self._axes or not len(self._rows) or not vb.sceneBoundingRect().contains(position):
            return -1
        point = vb.mapSceneToView(position)
        pixel_size = tuple(vb.viewPixelSize())
        return nearest_line(
            self._y, (point.x(), point.y()), pixel_size, HOVER_PIXELS, self._inside()
        )

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        self._mouse_moved(QPointF(-1e9, -1e9))
        super().leaveEvent(event)

    # --- axes menu, export, palette ----------------------------------------------------------

    def _rebuild_menu(self) -> None:
        self.axes_menu.clear()
        table = self._table
        if table is None:
            return
        choices = axis_choices(table)
        for kind, section in ((PARAM, "Params"), (METRIC, "Metrics")):
            ids = [c for c in choices if table.column(c).spec.kind == kind]
            if ids:
                self.axes_menu.addSection(section)
            for column_id in ids:
                action = self.axes_menu.addAction(table.column(column_id).spec.title)
                action.setCheckable(True)
                action.setChecked(column_id in self._columns)
                action.setData(column_id)

    def _axis_toggled(self, action: QAction) -> None:
        column_id = action.data()
        columns = [c for c in self._columns if c != column_id]
        if action.isChecked():
            columns.append(column_id)
        self.set_columns(columns)

    def _export(self) -> None:
        export_chart(self, self.plot, self.write_csv, "parallel-coordinates")

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
            self._redraw()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        self.view.setBackground(self._background(255))

    def _background(self, alpha: int) -> QColor:
        colour = QColor(self.palette().color(QPalette.ColorRole.Base))
        colour.setAlpha(alpha)
        return colour

    def _text_colour(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.Text)

    def _faint_colour(self, alpha: int) -> QColor:
        colour = QColor(self.palette().color(QPalette.ColorRole.Text))
        colour.setAlpha(alpha)
        return colour
