"""One chart: every shown run's curve of one metric, decimated to the pixels it covers."""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QSize, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QContextMenuEvent, QCursor, QPalette
from PySide6.QtWidgets import QApplication, QMenu, QSizePolicy, QToolTip, QWidget

from flowdeck.core.chart_axes import log_safe, robust_range
from flowdeck.core.chart_export import ChartCurve
from flowdeck.core.chart_groups import GroupBand
from flowdeck.core.curve_hit import nearest_curve
from flowdeck.core.decimate import decimate_minmax, nonfinite_points
from flowdeck.core.smoothing import ema
from flowdeck.ui.charts.curve_bundle import CurveBundle
from flowdeck.ui.charts.log_axis import MetricAxis
from flowdeck.ui.charts.options import X_LABELS, ChartOptions, CurveData
from flowdeck.ui.runs.decorations import escaped_tooltip

LEGEND_MAX_RUNS = 12  # more runs than this: no legend, and one bundle draws them all
TOOLTIP_MAX_RUNS = 25
MIN_COLUMNS = 200
FEW_POINTS = 3  # curves this short also get a dot per point
CHART_HEIGHT = 250
CHART_WIDTH_HINT = 400
HIT_PIXELS = 6  # a click or hover this close to a curve is on its run
LEAD = "\u25b8 "  # marks the run under the pointer in the crosshair tooltip
_NO_POINTS = np.zeros(0)


class _Curve:
    """A run's curve in one chart: its full data, the shown y and what is drawn of it.

    With up to LEGEND_MAX_RUNS runs each curve has plot items of its own (and a legend entry);
    with more, ``item`` is None and the chart's bundle draws ``drawn`` with the others."""

    def __init__(self, data: CurveData, item: pg.PlotCurveItem | None) -> None:
        self.data = data
        self.item = item  # the shown (maybe smoothed) curve
        self.visible = True
        self.drawn: tuple[np.ndarray, np.ndarray] = (_NO_POINTS, _NO_POINTS)  # decimated x, y
        self.raw_drawn: tuple[np.ndarray, np.ndarray] = (_NO_POINTS, _NO_POINTS)
        self.raw: pg.PlotCurveItem | None = None  # the raw curve, faint behind a smoothed one
        self.shown_y = data.y  # log10 of the values on a log axis
        self.raw_y = data.y
        self.whole = False  # the item holds every point of shown_y: nothing to redo on zoom
        self.nonfinite = nonfinite_points(data.x, data.y)


class MetricChart(pg.PlotWidget):
    """Curves of one metric for many runs, with crosshair values, legend and group bands."""

    run_clicked = Signal(str)
    run_visibility_changed = Signal(str, bool)  # legend clicks
    export_requested = Signal()

    def __init__(self, metric: str, parent: QWidget | None = None) -> None:
        # No menus: the chart has its own; pyqtgraph's ViewBox menu costs ~4 ms per chart.
        super().__init__(parent, enableMenu=False, axisItems={"left": MetricAxis("left")})
        self.metric_key = metric  # not "metric": that name would override QWidget.metric()
        self.options = ChartOptions()
        self._curves: dict[str, _Curve] = {}
        self._bands: list[pg.GraphicsObject] = []
        self._highlighted: str | None = None
        plot = self.getPlotItem()
        plot.setTitle(html.escape(metric), size="10pt")
        plot.showGrid(x=True, y=True, alpha=0.15)
        # The x label from the start: adding it later shrinks the plot, a repaint more.
        plot.setLabel("bottom", X_LABELS["step"])
        self.setFixedHeight(CHART_HEIGHT)  # adding a chart must not resize (and redraw) the others
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.legend = plot.addLegend(offset=(-8, 8), labelTextSize="8pt")
        # Legend clicks toggle an item's visibility; watching visibleChanged instead would call
        # Python while a removed item is being destroyed (PySide6 then crashes).
        self.legend.sigSampleClicked.connect(self._legend_clicked)
        self._markers = pg.ScatterPlotItem(size=9, pen=None)
        plot.addItem(self._markers, ignoreBounds=True)
        self._points = pg.ScatterPlotItem(size=6, pen=None)
        plot.addItem(self._points)
        self._pool: list[pg.PlotCurveItem] = []
        self._raw_pool: list[pg.PlotCurveItem] = []
        self._bundled = False  # many runs: drawn by the bundles below, not one item each
        vb = plot.vb
        self._bundle = CurveBundle(vb, self._thin_pen, clicked=self._bundle_clicked)
        self._raw_bundle = CurveBundle(vb, lambda colour: pg.mkPen(_faint(colour), width=1), -1)
        self._lead = pg.PlotCurveItem(connect="finite")  # the highlighted run, over the bundle
        self._lead.setZValue(10)
        self._lead.hide()
        vb.addItem(self._lead)
        self._crosshair = pg.InfiniteLine(angle=90, movable=False)
        self._crosshair.setPen(pg.mkPen(QColor(128, 128, 128, 160), width=1))
        self._crosshair.hide()
        plot.addItem(self._crosshair, ignoreBounds=True)
        self._redraw_timer = QTimer(self, singleShot=True, interval=0)
        self._redraw_timer.timeout.connect(self._redecimate)
        plot.vb.sigXRangeChanged.connect(lambda *_a: self._redraw_timer.start())
        plot.vb.sigResized.connect(lambda *_a: self._redraw_timer.start())
        plot.vb.sigYRangeChanged.connect(lambda *_a: self._place_markers())
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.apply_palette(self.palette())

    # --- content -----------------------------------------------------------------------------

    def run_ids(self) -> list[str]:
        return list(self._curves)

    def set_curves(
        self, curves: list[CurveData], options: ChartOptions, keep_view: bool = False
    ) -> None:
        """Show these runs' curves (replacing the others); ``keep_view`` keeps zoom and pan.

        A few runs get a pooled plot item each (creating one costs about a millisecond) and a
        legend entry; more runs are drawn by one bundle of a few items (see CurveBundle)."""
        vb = self.getPlotItem().vb
        kept = (vb.viewRange(), vb.autoRangeEnabled()) if keep_view else None
        self.legend.clear()
        named = len(curves) <= LEGEND_MAX_RUNS
        self._bundled = not named
        own_items = 0 if self._bundled else len(curves)
        self.reserve(own_items)
        for item in self._pool[own_items:]:
            item.hide()
        for raw in self._raw_pool:
            raw.hide()
        self._bundle.clear()
        self._raw_bundle.clear()
        self._lead.hide()
        self._curves = {}
        for index, data in enumerate(curves):
            item = None if self._bundled else self._pool[index]
            self._curves[data.run_id] = _Curve(data, item)
            if item is not None:
                item.setPen(self._pen(data, False))
                item.setZValue(0)
                item.setVisible(True)
                self.legend.addItem(item, html.escape(data.name))
        self._highlighted = None
        self.legend.setVisible(named and bool(curves))
        x_label = X_LABELS.get(options.x_mode, options.x_mode)
        if self.getPlotItem().getAxis("bottom").labelText != x_label:  # same: no new layout
            self.getPlotItem().setLabel("bottom", x_label)
        self.set_options(options, force=True)
        if kept is not None and not all(kept[1]):
            (x_range, y_range), (auto_x, auto_y) = kept
            vb.setRange(
                xRange=None if auto_x else x_range, yRange=None if auto_y else y_range, padding=0
            )
            self._redecimate()

    def reserve(self, count: int) -> None:
        """Have the curve items for ``count`` runs ready (hidden), so drawing them makes none
        (more than LEGEND_MAX_RUNS runs share the bundle's items)."""
        while len(self._pool) < (count if count <= LEGEND_MAX_RUNS else 0):
            item = self._new_item()
            item.setClickable(True, width=8)
            item.sigClicked.connect(self._curve_clicked)
            item.hide()
            self._pool.append(item)

    def _new_item(self) -> pg.PlotCurveItem:
        # Straight into the ViewBox: PlotItem.addItem's bookkeeping doubles the cost.
        item = pg.PlotCurveItem(connect="finite", skipFiniteCheck=True)
        self.getPlotItem().vb.addItem(item)
        return item

    def _attach_raw_curves(self) -> None:
        """Give every curve its faint raw companion (made only once smoothing is on)."""
        if self._bundled:
            return  # the raw bundle draws them
        while len(self._raw_pool) < len(self._curves):
            item = self._new_item()
            item.setZValue(-1)
            self._raw_pool.append(item)
        for curve, raw in zip(self._curves.values(), self._raw_pool, strict=False):
            raw.setPen(pg.mkPen(_faint(curve.data.colour), width=1))
            curve.raw = raw

    def _show_raw(self, curve: _Curve, visible: bool) -> None:
        if curve.raw is not None:
            curve.raw.setVisible(visible and self.options.smoothing > 0)

    def set_options(self, options: ChartOptions, force: bool = False) -> None:
        """Apply axis mode, log scale, outlier-robust range and smoothing."""
        old, self.options = self.options, options
        plot = self.getPlotItem()
        if force or old.log_y != options.log_y:
            plot.getAxis("left").setLogMode(False, options.log_y)
        if force or (old.log_y, old.smoothing) != (options.log_y, options.smoothing):
            if options.smoothing > 0:
                self._attach_raw_curves()
            for curve in self._curves.values():
                raw_y = _log10(curve.data.y) if options.log_y else curve.data.y
                curve.raw_y = raw_y
                curve.shown_y = ema(raw_y, options.smoothing) if options.smoothing > 0 else raw_y
                curve.whole = False
                self._show_raw(curve, curve.visible)
        self._redecimate(full_range=True)
        self._place_points()
        plot.enableAutoRange(x=True, y=not options.ignore_outliers)
        bounds = self._x_bounds()
        if bounds is not None and bounds[0] == bounds[1]:  # one step: a readable range around it
            plot.setXRange(bounds[0] - 1, bounds[0] + 1, padding=0)
        if options.ignore_outliers:
            self._apply_robust_range()
        self._place_markers()

    def set_bands(self, bands: list[tuple[str, str, GroupBand]], spread: str = "minmax") -> None:
        """Group mean curves with a band (``minmax`` or ``std``): (label, colour, band) each."""
        for item in self._bands:
            self.removeItem(item)
        self._bands = []
        for label, colour, band in bands:
            if not len(band.x):
                continue
            low, high = (
                (band.low, band.high)
                if spread == "minmax"
                else (
                    band.mean - band.std,
                    band.mean + band.std,
                )
            )
            low_item = pg.PlotDataItem(band.x, low, pen=None, connect="finite")
            high_item = pg.PlotDataItem(band.x, high, pen=None, connect="finite")
            fill = pg.FillBetweenItem(low_item, high_item, brush=_faint(colour, 50))
            mean = pg.PlotDataItem(
                band.x,
                band.mean,
                pen=pg.mkPen(colour, width=2),
                connect="finite",
                name=html.escape(f"{label} (mean of {band.runs})"),
            )
            for item in (low_item, high_item, fill, mean):
                self.addItem(item)
                self._bands.append(item)
        self.legend.setVisible(bool(self._bands) or 0 < len(self._curves) <= LEGEND_MAX_RUNS)

    def set_hidden(self, hidden: set[str]) -> None:
        """Hide these runs' curves (the legend and the other charts stay in step)."""
        for run_id, curve in self._curves.items():
            curve.visible = run_id not in hidden
            if curve.item is not None:
                curve.item.setVisible(curve.visible)
            self._show_raw(curve, curve.visible)
        if self._bundled:
            self._draw_bundles()
        self._place_points()
        self._place_markers()

    def highlight(self, run_id: str | None) -> None:
        """Draw ``run_id``'s curve thicker and on top (None: no highlight)."""
        for key in {self._highlighted, run_id} - {None}:
            curve = self._curves.get(key)
            if curve is not None and curve.item is not None:
                on = key == run_id
                curve.item.setPen(self._pen(curve.data, on))
                curve.item.setZValue(10 if on else 0)
        self._highlighted = run_id
        self._draw_lead()

    def export_curves(self) -> list[ChartCurve]:
        """The raw data behind the chart (what a CSV export writes)."""
        label = X_LABELS.get(self.options.x_mode, self.options.x_mode)
        return [
            ChartCurve(c.data.run_id, c.data.name, self.metric_key, c.data.x, c.data.y, label)
            for c in self._curves.values()
        ]

    def apply_palette(self, palette: QPalette) -> None:
        """Follow the app's light or dark palette."""
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        plot = self.getPlotItem()
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))
        plot.titleLabel.setText(html.escape(self.metric_key), color=text.name(), size="10pt")

    # --- drawing -----------------------------------------------------------------------------

    def _redecimate(self, full_range: bool = False) -> None:
        vb = self.getPlotItem().vb
        columns = max(MIN_COLUMNS, int(vb.width()) or 800)
        # While x follows the data, decimate over all of it: the view range then is the
        # previous data's range, and decimating to it would shrink the data to that range.
        follows_data = full_range or vb.autoRangeEnabled()[0]
        bounds = self._x_bounds() if follows_data else tuple(vb.viewRange()[0])
        if bounds is None:
            return
        x_min, x_max = bounds
        changed = False
        for curve in self._curves.values():
            x = curve.data.x
            if curve.whole and len(x) <= 2 * columns:
                continue  # short curves are drawn whole once; setData again would repaint
            xs, ys = decimate_minmax(x, curve.shown_y, x_min, x_max, columns)
            curve.drawn, changed = (xs, ys), True
            if curve.item is not None:
                curve.item.setData(xs, ys)
            curve.whole = len(xs) == len(x) and self.options.smoothing == 0
            if self.options.smoothing > 0 and (self._bundled or curve.raw is not None):
                curve.raw_drawn = decimate_minmax(x, curve.raw_y, x_min, x_max, columns)
                if curve.raw is not None:
                    curve.raw.setData(*curve.raw_drawn)
        if changed and self._bundled:
            self._draw_bundles()

    def _draw_bundles(self) -> None:
        """Many runs: every visible curve into the bundle (and the raw bundle when smoothed)."""
        shown = [curve for curve in self._curves.values() if curve.visible]
        self._bundle.set_curves([(curve.data.colour, *curve.drawn) for curve in shown])
        smoothed = self.options.smoothing > 0
        raw = [(curve.data.colour, *curve.raw_drawn) for curve in shown] if smoothed else []
        self._raw_bundle.set_curves(raw)
        self._draw_lead()

    def _draw_lead(self) -> None:
        """Many runs: the highlighted run's curve drawn again, thick, over the bundle."""
        curve = self._curves.get(self._highlighted) if self._highlighted else None
        if not self._bundled or curve is None or not curve.visible:
            self._lead.hide()
            return
        self._lead.setPen(self._pen(curve.data, True))
        self._lead.setData(*curve.drawn)
        self._lead.show()

    def _x_bounds(self) -> tuple[float, float] | None:
        lows = [c.data.x[0] for c in self._curves.values() if len(c.data.x)]
        highs = [c.data.x[-1] for c in self._curves.values() if len(c.data.x)]
        if not lows:
            return None
        return float(min(lows)), float(max(highs))

    def _apply_robust_range(self) -> None:
        found = robust_range([c.shown_y for c in self._curves.values()], self.options.log_y)
        if found is None:
            return
        low, high = found
        if self.options.log_y:
            low, high = np.log10(low), np.log10(high)
        self.getPlotItem().setYRange(low, high, padding=0)

    def _place_markers(self) -> None:
        """Triangles at the top/bottom edge for ±inf, crosses at the bottom for NaN."""
        (_x0, _x1), (y0, y1) = self.getPlotItem().vb.viewRange()
        spots = []
        for run_id, curve in self._curves.items():
            found = curve.nonfinite
            if not curve.visible or not any(len(xs) for xs, _i in found.values()):
                continue
            brush = pg.mkBrush(curve.data.colour)
            for kind, symbol, y in (("+inf", "t1", y1), ("-inf", "t", y0), ("nan", "x", y0)):
                xs = found.get(kind, (np.zeros(0), None))[0]
                spots.extend(
                    {"pos": (float(x), y), "symbol": symbol, "brush": brush, "data": run_id}
                    for x in xs[:500]
                )
        if spots or len(self._markers.data):
            self._markers.setData(spots)

    def _place_points(self) -> None:
        """A dot on every point of short curves: a lone point draws no line."""
        brushes: dict[str, QBrush] = {}
        spots = [
            {"pos": (float(x), float(y)), "brush": brushes.setdefault(c, pg.mkBrush(c))}
            for curve in self._curves.values()
            if (c := curve.data.colour)
            if curve.visible and len(curve.data.x) <= FEW_POINTS
            for x, y in zip(curve.data.x, curve.shown_y, strict=True)
            if np.isfinite(y)
        ]
        self._points.setData(spots)

    def _pen(self, data: CurveData, highlighted: bool) -> pg.QtGui.QPen:
        return pg.mkPen(data.colour, width=3.0 if highlighted else 1.5)

    def _thin_pen(self, colour: str) -> pg.QtGui.QPen:
        return pg.mkPen(colour, width=1.5)

    def bundle_items(self) -> list[pg.PlotCurveItem]:
        """The plot items drawing many runs' curves (none while each run has its own item)."""
        return self._bundle.items() + self._raw_bundle.items()

    def run_at(self, scene_position: QPointF) -> str | None:
        """The visible run whose curve passes within HIT_PIXELS of this point of the scene."""
        vb = self.getPlotItem().vb
        (x0, x1), (y0, y1) = vb.viewRange()
        if x1 <= x0 or y1 <= y0:
            return None
        point = vb.mapSceneToView(scene_position)
        shown = [curve for curve in self._curves.values() if curve.visible]
        scale = (vb.width() / (x1 - x0), vb.height() / (y1 - y0))
        found = nearest_curve([c.drawn for c in shown], point.x(), point.y(), scale, HIT_PIXELS)
        return None if found is None else shown[found].data.run_id

    def _bundle_clicked(self, event: object) -> None:
        run_id = self.run_at(event.scenePos())  # type: ignore[attr-defined]
        if run_id is not None:
            self.run_clicked.emit(run_id)

    def _run_of_item(self, item: object) -> str | None:
        return next((run_id for run_id, c in self._curves.items() if c.item is item), None)

    def _curve_clicked(self, item: object, *_args: object) -> None:
        run_id = self._run_of_item(item)
        if run_id is not None:
            self.run_clicked.emit(run_id)

    def _legend_clicked(self, item: object) -> None:
        run_id = self._run_of_item(item)
        curve = self._curves.get(run_id) if run_id is not None else None
        if curve is None or curve.item is None:
            return
        visible = curve.visible = curve.item.isVisible()
        self._show_raw(curve, visible)
        self._place_points()
        self.run_visibility_changed.emit(run_id, visible)

    # --- reading values ----------------------------------------------------------------------

    def values_at(self, x: float) -> list[tuple[str, float, float]]:
        """(run name, x, raw value) of each visible run's point nearest to ``x``."""
        return [(name, at, value) for _run_id, name, at, value in self._values_at(x)]

    def _values_at(self, x: float) -> list[tuple[str, str, float, float]]:
        rows = []
        for run_id, curve in self._curves.items():
            xs = curve.data.x
            if not curve.visible or not len(xs):
                continue
            index = int(np.clip(np.searchsorted(xs, x), 0, len(xs) - 1))
            if index > 0 and abs(xs[index - 1] - x) <= abs(xs[index] - x):
                index -= 1
            rows.append((run_id, curve.data.name, float(xs[index]), float(curve.data.y[index])))
        return rows

    def _mouse_moved(self, position: QPointF) -> None:
        vb = self.getPlotItem().vb
        if not self._curves or not vb.sceneBoundingRect().contains(position):
            self._crosshair.hide()
            return
        x = vb.mapSceneToView(position).x()
        self._crosshair.setPos(x)
        self._crosshair.show()
        rows = self._values_at(x)
        if rows and QApplication.instance() is not None:
            near = self.run_at(position)
            rows.sort(key=lambda row: row[0] != near)  # the run under the pointer first
            lines = [f"{self.metric_key} at {X_LABELS.get(self.options.x_mode, 'x')} ≈ {x:.6g}"]
            lines += [
                f"{LEAD if run_id == near else ''}{name}: {value:.6g}"
                for run_id, name, _x, value in rows[:TOOLTIP_MAX_RUNS]
            ]
            QToolTip.showText(QCursor.pos(), escaped_tooltip("\n".join(lines)), self)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(CHART_WIDTH_HINT, CHART_HEIGHT)  # the same as its placeholder's

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        # Also called while pyqtgraph's constructor runs, before there is a plot.
        if event.type() == QEvent.Type.PaletteChange and getattr(self, "plotItem", None):
            self.apply_palette(self.palette())
        super().changeEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 - Qt override
        menu = QMenu(self)
        menu.addAction("Reset Zoom", self.reset_zoom)
        menu.addAction("Export Chart or Data…", self.export_requested.emit)
        menu.exec(event.globalPos())

    def reset_zoom(self) -> None:
        """Back to the whole of every curve (and the outlier-robust y range if chosen)."""
        self.set_options(self.options, force=True)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        self.reset_zoom()
        super().mouseDoubleClickEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: ANN001 - Qt override
        self._crosshair.hide()
        QToolTip.hideText()
        super().leaveEvent(event)


def _log10(values: np.ndarray) -> np.ndarray:
    """log10 of the positive values; zero and negative values become NaN (gaps)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(log_safe(values))


def _faint(colour: str, alpha: int = 70) -> QColor:
    faint = QColor(colour)
    faint.setAlpha(alpha)
    return faint
