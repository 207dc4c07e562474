"""The charts toolbar: metrics shown, x axis, log scale, outliers, smoothing and group bands."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSlider,
    QToolButton,
    QWidget,
)

from flowdeck.ui.charts.options import ChartOptions

SMOOTHING_STEPS = 99  # slider positions 0..99 map to EMA weights 0.00..0.99
X_CHOICES = (("Step", "step"), ("Wall time", "wall"), ("Relative time", "relative"))


class ChartToolbar(QWidget):
    """Edits the shared ChartOptions and the set of metrics shown."""

    options_changed = Signal(object)  # ChartOptions
    metrics_changed = Signal(list)  # hidden metric keys
    export_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.options = ChartOptions()
        self._keys: list[str] = []
        self.hidden_metrics: set[str] = set()
        self.metrics_button = QToolButton(self, text="Metrics…")
        self.metrics_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.metrics_button.setToolTip("Choose which metrics get a chart")
        self.metrics_menu = QMenu(self)
        self.metrics_button.setMenu(self.metrics_menu)
        self.x_combo = QComboBox(self)
        self.x_combo.setToolTip("What the x axis shows")
        self.log_box = QCheckBox("Log y", self)
        self.log_box.setToolTip("Logarithmic y axis (zero and negative values become gaps)")
        self.outliers_box = QCheckBox("Ignore outliers", self)
        self.outliers_box.setToolTip("Scale the y axis to the 0.5–99.5 percentile of the values")
        self.smoothing = QSlider(Qt.Orientation.Horizontal, self)
        self.smoothing.setRange(0, SMOOTHING_STEPS)
        self.smoothing.setMaximumWidth(140)
        self.smoothing.setToolTip("Exponential moving average; the raw curve stays faint behind")
        self.smoothing_label = QLabel(self)
        self.smoothing_label.setTextFormat(Qt.TextFormat.PlainText)
        self.spread_combo = QComboBox(self)
        self.spread_combo.addItem("Band: min–max", "minmax")
        self.spread_combo.addItem("Band: ±1 std", "std")
        self.spread_combo.setToolTip("The band drawn around each group's mean")
        self.spread_combo.hide()
        self.export_button = QToolButton(self, text="Export…")
        self.export_button.setToolTip("Save a chart as PNG or SVG, or its data as CSV")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for widget in (self.metrics_button, QLabel("X:", self), self.x_combo, self.log_box):
            layout.addWidget(widget)
        layout.addWidget(self.outliers_box)
        layout.addWidget(QLabel("Smoothing:", self))
        layout.addWidget(self.smoothing)
        layout.addWidget(self.smoothing_label)
        layout.addWidget(self.spread_combo)
        layout.addStretch(1)
        layout.addWidget(self.export_button)
        self.set_metric_keys([])
        self._show_smoothing(0)
        self.x_combo.activated.connect(lambda _i: self._emit())
        self.log_box.toggled.connect(lambda _on: self._emit())
        self.outliers_box.toggled.connect(lambda _on: self._emit())
        self.smoothing.valueChanged.connect(self._show_smoothing)
        self.smoothing.sliderReleased.connect(self._emit)
        self.smoothing.valueChanged.connect(
            lambda _v: self.smoothing.isSliderDown() or self._emit()
        )
        self.spread_combo.activated.connect(lambda _i: self._emit())
        self.export_button.clicked.connect(self.export_requested)

    def set_metric_keys(self, keys: list[str]) -> None:
        """Offer these metrics in the chooser and as x axes; keep the current choices."""
        self._keys = list(keys)
        current = self.x_combo.currentData()
        self.x_combo.clear()
        for title, mode in X_CHOICES:
            self.x_combo.addItem(title, (mode, None))
        for key in keys:
            self.x_combo.addItem(f"Metric: {key}", ("metric", key))
        found = self.x_combo.findData(current) if current is not None else -1
        self.x_combo.setCurrentIndex(max(found, 0))
        self.metrics_menu.clear()
        self.metrics_menu.addAction("Show all", lambda: self._set_hidden(set()))
        self.metrics_menu.addAction("Hide all", lambda: self._set_hidden(set(self._keys)))
        self.metrics_menu.addSeparator()
        for key in keys:
            action = self.metrics_menu.addAction(key.replace("&", "&&"))
            action.setData(key)
            action.setCheckable(True)
            action.setChecked(key not in self.hidden_metrics)
            action.toggled.connect(lambda on, k=key: self._toggle_metric(k, on))
        if (mode := self.x_combo.currentData()) and mode != (
            self.options.x_mode,
            self.options.x_metric,
        ):
            self._emit()

    def set_grouped(self, grouped: bool) -> None:
        self.spread_combo.setVisible(grouped)

    def set_view_options(self, options: ChartOptions) -> None:
        """Show ``options`` in the widgets (e.g. restored from settings) without emitting."""
        self.options = options
        widgets = (self.x_combo, self.log_box, self.outliers_box, self.smoothing, self.spread_combo)
        for widget in widgets:
            widget.blockSignals(True)
        self.x_combo.setCurrentIndex(
            max(self.x_combo.findData((options.x_mode, options.x_metric)), 0)
        )
        self.log_box.setChecked(options.log_y)
        self.outliers_box.setChecked(options.ignore_outliers)
        self.smoothing.setValue(round(options.smoothing * 100))
        self.spread_combo.setCurrentIndex(max(self.spread_combo.findData(options.spread), 0))
        for widget in widgets:
            widget.blockSignals(False)
        self._show_smoothing(self.smoothing.value())

    def _show_smoothing(self, value: int) -> None:
        self.smoothing_label.setText(f"{value / 100:.2f}" if value else "off")

    def _emit(self) -> None:
        mode, metric = self.x_combo.currentData() or ("step", None)
        self.options = replace(
            self.options,
            x_mode=mode,
            x_metric=metric,
            log_y=self.log_box.isChecked(),
            ignore_outliers=self.outliers_box.isChecked(),
            smoothing=self.smoothing.value() / 100,
            spread=self.spread_combo.currentData() or "minmax",
        )
        self.options_changed.emit(self.options)

    def _toggle_metric(self, key: str, shown: bool) -> None:
        self.hidden_metrics.discard(key) if shown else self.hidden_metrics.add(key)
        self.metrics_changed.emit(sorted(self.hidden_metrics))

    def _set_hidden(self, hidden: set[str]) -> None:
        self.hidden_metrics = set(hidden)
        for action in self.metrics_menu.actions():
            if action.isCheckable():
                action.blockSignals(True)
                action.setChecked(action.data() not in hidden)
                action.blockSignals(False)
        self.metrics_changed.emit(sorted(self.hidden_metrics))
