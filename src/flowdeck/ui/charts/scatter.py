"""Scatter of two numeric columns (params, metrics, duration): one point per run."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.comparison_axes import choice_label, numeric_choices, numeric_values
from flowdeck.core.runs_table import RunsTable
from flowdeck.core.runs_table_columns import METRIC, PARAM
from flowdeck.ui.charts.export import export_chart

NO_RUNS = "Select runs to compare"
NO_COLUMNS = "These runs have no numeric params or metrics to plot"
POINT_SIZE = 10
TOOLTIP_MAX_RUNS = 5


@dataclass(frozen=True)
class ScatterCounts:
    """How many shown runs became points, lacked a value, or had one ≤ 0 on a log axis."""

    plotted: int
    without_values: int
    not_positive: int

    def text(self) -> str:
        parts = [f"{self.plotted} run{'' if self.plotted == 1 else 's'} plotted"]
        if self.without_values:
            parts.append(f"{self.without_values} without both values")
        if self.not_positive:
            parts.append(f"{self.not_positive} with a value ≤ 0 on a log axis")
        return ", ".join(parts)


class ScatterChart(QWidget):
    """Pick X and Y among the numeric columns; each run is a point in its colour."""

    run_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._table: RunsTable | None = None
        self._rows = np.empty(0, dtype=np.int64)
        self._wanted: list[str | None] = [None, None]  # the user's X and Y, kept across data
        self._brushes: dict[str, QBrush] = {}
        self.counts = ScatterCounts(0, 0, 0)
        self.hover_text = ""

        self.x_combo, self.y_combo = _column_combo(), _column_combo()
        self.log_x, self.log_y = QCheckBox("log"), QCheckBox("log")
        self.log_x.setToolTip("Logarithmic X axis (values ≤ 0 are left out)")
        self.log_y.setToolTip("Logarithmic Y axis (values ≤ 0 are left out)")
        self.summary = QLabel()
        self.export_button = QToolButton(text="Export…")
        toolbar = QHBoxLayout()
        toolbar.setContentsMargins(4, 4, 4, 0)
        for widget in (QLabel("X:"), self.x_combo, self.log_x, QLabel("Y:"), self.y_combo):
            toolbar.addWidget(widget)
        toolbar.addWidget(self.log_y)
        toolbar.addWidget(self.summary, 1)
        toolbar.addWidget(self.export_button)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        axes = {"left": LogLabelAxis("left"), "bottom": LogLabelAxis("bottom")}
        self.view = pg.PlotWidget(enableMenu=False, axisItems=axes)
        self.plot = self.view.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.hideButtons()
        for name in ("left", "bottom"):
            self.plot.getAxis(name).enableAutoSIPrefix(False)  # "(x0.001)" misreads on log axes
        self.scatter = pg.ScatterPlotItem(size=POINT_SIZE, hoverable=True, tip=None)
        self.scatter.sigClicked.connect(self._clicked)
        self.scatter.sigHovered.connect(self._hovered)
        self.plot.addItem(self.scatter)
        self.message = QLabel(NO_RUNS, alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(toolbar)
        layout.addWidget(self.stack, 1)

        self.x_combo.activated.connect(lambda _i: self._chosen(0, self.x_combo))
        self.y_combo.activated.connect(lambda _i: self._chosen(1, self.y_combo))
        self.log_x.toggled.connect(self._replot)
        self.log_y.toggled.connect(self._replot)
        self.export_button.clicked.connect(self._export)
        self._apply_palette()
        self._replot()

    # --- data --------------------------------------------------------------------------------

    def set_data(self, table: RunsTable, rows: np.ndarray) -> None:
        """Plot ``rows`` of ``table``; the X/Y choice stays while those columns exist."""
        self._table = table
        self._rows = np.asarray(rows, dtype=np.int64)
        choices = numeric_choices(table, self._rows)
        x, y = self._wanted
        x = x if x in choices else _default_x(table, choices)
        y = y if y in choices else _default_y(table, choices, x)
        for combo, current in ((self.x_combo, x), (self.y_combo, y)):
            combo.blockSignals(True)
            combo.clear()
            for column_id in choices:
                combo.addItem(choice_label(table, column_id), column_id)
            combo.setCurrentIndex(max(combo.findData(current), 0))
            combo.blockSignals(False)
        self._replot()

    def set_axes(self, x: str, y: str) -> None:
        """Choose the X and Y columns by id (as the combo boxes do)."""
        self._wanted = [x, y]
        for combo, column_id in ((self.x_combo, x), (self.y_combo, y)):
            index = combo.findData(column_id)
            if index >= 0:
                combo.setCurrentIndex(index)
        self._replot()

    def x_column(self) -> str | None:
        return self.x_combo.currentData()

    def y_column(self) -> str | None:
        return self.y_combo.currentData()

    def plotted_run_ids(self) -> list[str]:
        data = self.scatter.data["data"]
        return [str(run_id) for run_id in data]

    def write_csv(self, path: str) -> None:
        if self._table is not None:
            columns = list(dict.fromkeys(["run_id", "name", self.x_column(), self.y_column()]))
            self._table.to_csv(path, self._rows, [c for c in columns if c])

    # --- drawing -----------------------------------------------------------------------------

    def _chosen(self, axis: int, combo: QComboBox) -> None:
        self._wanted[axis] = combo.currentData()
        if self._wanted[1 - axis] is None:
            other = self.y_combo if axis == 0 else self.x_combo
            self._wanted[1 - axis] = other.currentData()
        self._replot()

    def _replot(self, *_args) -> None:
        table, rows = self._table, self._rows
        x_id, y_id = self.x_column(), self.y_column()
        self.hover_text = ""
        self.plot.vb.setToolTip("")
        if table is None or not len(rows) or x_id is None or y_id is None:
            self.scatter.setData([], [])
            self.counts = ScatterCounts(0, 0, 0)
            self.summary.setText("")
            self.message.setText(NO_RUNS if table is None or not len(rows) else NO_COLUMNS)
            self.stack.setCurrentWidget(self.message)
            return
        self.stack.setCurrentWidget(self.view)
        x = numeric_values(table.column(x_id), rows)
        y = numeric_values(table.column(y_id), rows)
        both = np.isfinite(x) & np.isfinite(y)
        log_x, log_y = self.log_x.isChecked(), self.log_y.isChecked()
        positive = both & (~log_x | (x > 0)) & (~log_y | (y > 0))
        self.counts = ScatterCounts(
            int(positive.sum()), int((~both).sum()), int((both & ~positive).sum())
        )
        keep = np.flatnonzero(positive)
        xs, ys = x[keep], y[keep]
        xs = np.log10(xs) if log_x else xs
        ys = np.log10(ys) if log_y else ys
        run_ids = np.array([table.run_ids[row] for row in rows[keep].tolist()], dtype=object)
        brushes = [self._brush(table.colours[row]) for row in rows[keep].tolist()]
        self.scatter.setData(x=xs, y=ys, data=run_ids, brush=brushes)
        self.plot.setLogMode(x=log_x, y=log_y)
        self.plot.setLabel("bottom", html.escape(choice_label(table, x_id)))
        self.plot.setLabel("left", html.escape(choice_label(table, y_id)))
        self.plot.enableAutoRange()
        self.plot.vb.updateAutoRange()  # now, not at the next paint: clicks map to the new range
        self.summary.setText(self.counts.text())
        for combo in (self.x_combo, self.y_combo):
            combo.setToolTip(combo.currentText())  # long names are cut in the box

    def _brush(self, colour: str) -> QBrush:
        brush = self._brushes.get(colour)
        if brush is None:
            brush = self._brushes[colour] = pg.mkBrush(colour)
        return brush

    # --- interaction -------------------------------------------------------------------------

    def _clicked(self, _item: pg.ScatterPlotItem, points, _event) -> None:  # noqa: ANN001
        if len(points):
            self.run_clicked.emit(str(points[0].data()))

    def _hovered(self, _item: pg.ScatterPlotItem, points, _event) -> None:  # noqa: ANN001
        texts = [self._point_text(str(point.data())) for point in points[:TOOLTIP_MAX_RUNS]]
        if len(points) > TOOLTIP_MAX_RUNS:
            texts.append(f"and {len(points) - TOOLTIP_MAX_RUNS} more")
        text = "<br><br>".join(texts)
        if text != self.hover_text:
            self.hover_text = text
            self.plot.vb.setToolTip(text)

    def _point_text(self, run_id: str) -> str:
        table = self._table
        row = table.row_of(run_id)
        lines = [f"<b>{html.escape(table.column('name').display[row])}</b>"]
        for column_id in dict.fromkeys((self.x_column(), self.y_column())):
            label = choice_label(table, column_id)
            lines.append(
                f"{html.escape(label)}: {html.escape(table.column(column_id).display[row])}"
            )
        return "<br>".join(lines)

    def _export(self) -> None:
        export_chart(self, self.plot, self.write_csv, "scatter")

    # --- palette -----------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        palette = self.palette()
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        self.view.setBackground(base)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))
        outline = QColor(base)
        self.scatter.setPen(pg.mkPen(outline, width=1))
        self.scatter.opts["hoverPen"] = pg.mkPen(text, width=2)
        self.scatter.opts["hoverSize"] = POINT_SIZE + 4


class LogLabelAxis(pg.AxisItem):
    """An axis that, on a log scale, labels only 1 (and 2, 5 within ~a decade) × 10ⁿ."""

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        numbers = 10 ** np.asarray(values, dtype=np.float64) * scale
        decades = abs(self.range[1] - self.range[0])
        labelled = (1,) if decades > 1.5 else (1, 2, 5)
        strings = []
        for number in numbers.tolist():
            if not np.isfinite(number) or number <= 0:
                strings.append("")
                continue
            mantissa = number / 10 ** np.floor(np.log10(number) + 1e-9)
            nearest = round(mantissa)
            keep = nearest in labelled and abs(mantissa - nearest) < 1e-6
            strings.append(f"{number:g}" if keep else "")
        return strings


def _column_combo() -> QComboBox:
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(14)
    combo.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    return combo


def _default_x(table: RunsTable, choices: list[str]) -> str | None:
    """The first numeric param, else the first column."""
    params = [c for c in choices if table.column(c).spec.kind == PARAM]
    return (params or choices or [None])[0]


def _default_y(table: RunsTable, choices: list[str], x: str | None) -> str | None:
    """The first metric other than ``x``, else any other column, else ``x`` itself."""
    metrics = [c for c in choices if table.column(c).spec.kind == METRIC and c != x]
    others = [c for c in choices if c != x]
    return (metrics or others or [x])[0]
