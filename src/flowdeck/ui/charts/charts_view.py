"""The charts view: one chart per metric for the selected runs, in sections by name prefix."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.chart_axes import curve_xy
from flowdeck.core.chart_groups import group_band
from flowdeck.core.chart_sections import metric_sections
from flowdeck.core.history_cache import HistoryCache
from flowdeck.core.runs_table import DEFAULT_PALETTE
from flowdeck.store.base import Store
from flowdeck.ui.charts.loading import ChartRun, load_histories
from flowdeck.ui.charts.metric_chart import CHART_HEIGHT, CHART_WIDTH_HINT, MetricChart
from flowdeck.ui.charts.options import ChartOptions, CurveData
from flowdeck.ui.charts.toolbar import ChartToolbar
from flowdeck.ui.crash import failure_text
from flowdeck.ui.tasks import TaskHandle, TaskRunner, TaskState

LOAD_KEY = "charts"
SAMPLE_KEY = "charts-sample"
SAMPLE_HEAD_START_MS = 3_000  # a server's sample that takes longer does not hold the full load
CHART_COLUMNS = 2
DRAW_GAP_MS = 1  # between two charts: the last one paints (a posted event) in between
MAX_CHARTS = 60  # more metrics than this: the chooser picks; the rest wait hidden
EMPTY_TEXT = "Select runs in the table to chart their metrics."


class ChartsView(QWidget):
    """Charts of the selected runs; histories load off the GUI thread and are cached."""

    run_clicked = Signal(str)
    loading_changed = Signal(bool)
    progress = Signal(str, int, int)
    drawn = Signal()  # every chart shows the current selection
    message = Signal(str)
    export_requested = Signal(object)  # the MetricChart to export

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.cache = HistoryCache()
        # The server's sample of histories still loading in full: drawn first, then replaced.
        self._preview: dict[tuple[str, str, str], np.ndarray] = {}
        self.store: Store | None = None
        self.runs: list[ChartRun] = []
        self.metric_keys: list[str] = []
        self.groups: list[tuple[str, list[str]]] = []
        self.hidden_runs: set[str] = set()
        self.charts: dict[str, MetricChart] = {}
        self._handle: TaskHandle | None = None
        self._pending: list[str] = []
        self._highlighted: str | None = None
        self._keep_view = False
        self._drawing = False
        self._loading: tuple[Store | None, set[tuple[str, str]]] = (None, set())
        self._cells: dict[str, tuple[QGridLayout, int, int]] = {}
        self._unplaced: set[str] = set()  # charts made off screen, not in their cell yet
        self._drawn_x: tuple[str, str | None] = ("step", None)
        self.toolbar = ChartToolbar(self)
        self.text = QLabel(EMPTY_TEXT, self)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setWordWrap(True)
        self.grid_host = QWidget(self)
        self.grid_layout = QVBoxLayout(self.grid_host)
        self.grid_layout.setContentsMargins(4, 4, 4, 4)
        self.scroll = _ChartsScroll(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.grid_host)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.text)
        self.pages.addWidget(self.scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.pages, 1)
        self._draw_timer = QTimer(self, singleShot=True, interval=DRAW_GAP_MS)
        self._draw_timer.timeout.connect(self._draw_next)
        self.toolbar.options_changed.connect(self._options_changed)
        self.toolbar.metrics_changed.connect(lambda _hidden: self._rebuild())

    @property
    def options(self) -> ChartOptions:
        return self.toolbar.options

    @property
    def loading(self) -> bool:
        return self._handle is not None

    @property
    def showing_sample(self) -> bool:
        """True while the server's sample is drawn and every point is still on its way."""
        return self.loading and bool(self._preview)

    # --- what to show ------------------------------------------------------------------------

    def set_selection(
        self,
        store: Store | None,
        runs: list[ChartRun],
        metric_keys: list[str],
        groups: list[tuple[str, list[str]]] | None = None,
    ) -> None:
        """Chart these runs' metrics; with ``groups`` (label, run ids), one mean band per group.

        The same selection again (a reload of the table restores it) keeps the charts as they
        are, zoom included, while they show it or are loading it."""
        unchanged = (store, list(runs), list(groups or []), list(metric_keys)) == (
            self.store, self.runs, self.groups, self.metric_keys
        )  # fmt: skip
        if unchanged and store is not None and (self.loading or self._shows_charts()):
            return
        self.store, self.runs = store, list(runs)
        self.groups = list(groups or [])
        self.toolbar.set_grouped(bool(self.groups))
        if metric_keys != self.metric_keys:
            self.metric_keys = list(metric_keys)
            self.toolbar.set_metric_keys(self.metric_keys)
        self._rebuild()

    def refresh_running(self) -> None:
        """Load RUNNING runs' histories again; zoom and pan stay as they are."""
        running = [run.run_id for run in self.runs if run.running]
        if self.store is not None and running:
            self.cache.forget_runs(self.store.location, running)
            self._load_then_draw(keep_view=True)

    def highlight(self, run_id: str | None) -> None:
        """Draw this run's curves thicker in every chart."""
        self._highlighted = run_id
        for chart in self.charts.values():
            chart.highlight(run_id)

    def shown_metrics(self) -> list[str]:
        hidden = self.toolbar.hidden_metrics
        return [key for key in self.metric_keys if key not in hidden][:MAX_CHARTS]

    def chart_under_focus(self) -> MetricChart | None:
        """The chart the user last hovered or clicked, else the first one."""
        focus = self.focusWidget()
        if isinstance(focus, MetricChart):
            return focus
        return next(iter(self.charts.values()), None)

    # --- loading -----------------------------------------------------------------------------

    def _rebuild(self) -> None:
        if self.store is None or not self.runs:
            self.cancel_load()
            self._show_text(EMPTY_TEXT)
            return
        if not self.shown_metrics():
            self._show_text(
                "These runs logged no metrics."
                if not self.metric_keys
                else "Every metric is hidden: choose some under Metrics…."
            )
            return
        self._load_then_draw(keep_view=False)

    def _needed_keys(self) -> list[str]:
        keys = self.shown_metrics()
        if self.options.x_mode == "metric" and self.options.x_metric:
            keys = [*keys, self.options.x_metric]
        return list(dict.fromkeys(keys))

    def _load_then_draw(self, keep_view: bool) -> None:
        assert self.store is not None
        run_ids = [run.run_id for run in self.runs]
        missing = self.cache.missing(self.store.location, run_ids, self._needed_keys())
        if not missing:
            self.cancel_load()
            self._start_drawing(keep_view)
            return
        if self._handle is not None and self._loading == (self.store, set(missing)):
            return  # the same histories are on their way already
        if not self.charts or self.pages.currentWidget() is not self.scroll:
            # With charts on screen they stay while loading (progress is in the status bar):
            # hiding and showing them again would repaint every one of them in one go.
            self._show_text(f"Loading the curves of {len(run_ids)} runs…")
        store = self.store
        self._loading = loading = (store, set(missing))
        if list(self._cells) != self.shown_metrics():
            self._layout_charts(self.shown_metrics())  # and make the charts while loading
            self._pending = []
            self._draw_timer.start()
        self._handle = None
        self._handle = self._load_sample_first(store, missing, keep_view, loading)
        if self._handle is None:
            self._load_every_point(store, missing, keep_view)
        self.loading_changed.emit(True)

    def _load_every_point(
        self, store: Store, missing: list[tuple[str, str]], keep_view: bool
    ) -> None:
        self._handle = self.runner.submit(
            load_histories,
            store,
            missing,
            key=LOAD_KEY,
            owner=self,
            label="Loading metric histories",
            store=store,
            on_result=lambda found: self._loaded(store, found, keep_view),
            on_error=self._failed,
            on_progress=lambda done, total, text: self.progress.emit(text, done, total),
        )

    def _load_sample_first(
        self,
        store: Store,
        missing: list[tuple[str, str]],
        keep_view: bool,
        loading: tuple[Store | None, set[tuple[str, str]]],
    ) -> TaskHandle | None:
        """For a server: ask for its sample of each history, draw it, then ask for every
        point (the server's cores go to the sample first; after ``SAMPLE_HEAD_START_MS``
        every point is asked for anyway). None for other stores."""
        if store.kind != "rest" or type(store).sampled_history is Store.sampled_history:
            return None
        sampling = [True]

        def load_every_point() -> None:
            if sampling[0] and self._loading is loading and self._handle is not None:
                sampling[0] = False
                self._load_every_point(store, missing, keep_view)

        def sample(state: TaskState) -> dict | None:
            run_ids = list(dict.fromkeys(run_id for run_id, _ in missing))
            keys = sorted({key for _, key in missing})
            return store.sampled_history(run_ids, keys, state=state)

        def show(found: dict | None) -> None:
            if found and store is self.store and self._handle is not None:
                for (run_id, key), history in found.items():
                    self._preview[(store.location, run_id, key)] = history
                self._start_drawing(keep_view)
                self.message.emit("Showing the server's sample of each curve; every point follows…")
            load_every_point()

        QTimer.singleShot(SAMPLE_HEAD_START_MS, self, load_every_point)
        return self.runner.submit(
            sample,
            key=SAMPLE_KEY,
            owner=self,
            label="Sampling metric histories",
            on_result=show,
            on_error=lambda _error, _details: load_every_point(),
        )

    def cancel_load(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
            self.loading_changed.emit(False)

    def _loaded(self, store: Store, found: dict, keep_view: bool) -> None:
        self._handle = None
        self.loading_changed.emit(False)
        self.cache.put(store.location, found)
        had_preview = bool(self._preview)
        self._preview.clear()
        if store is self.store:
            self._start_drawing(keep_view or had_preview)

    def _failed(self, error: BaseException, _details: str) -> None:
        self._handle = None
        self.loading_changed.emit(False)
        text = failure_text(error, "Loading the curves")
        self._show_text(text)
        self.message.emit(text)
        self.drawn.emit()

    # --- drawing -----------------------------------------------------------------------------

    def _start_drawing(self, keep_view: bool) -> None:
        """Lay out one chart per shown metric, then fill one chart per event-loop turn."""
        keys = self.shown_metrics()
        if list(self._cells) != keys:
            self._layout_charts(keys)
        self._keep_view = keep_view
        self._drawn_x = (self.options.x_mode, self.options.x_metric)
        self._pending = list(keys)
        self._drawing = True
        self._draw_timer.start()

    def _layout_charts(self, keys: list[str]) -> None:
        """Section titles and grid cells for ``keys``; charts kept from before go back in place,
        new ones are created one per event-loop turn by ``_draw_next`` (each costs ~25 ms)."""
        old = self.charts
        self.charts = {key: chart for key in keys if (chart := old.pop(key, None)) is not None}
        self._unplaced &= set(self.charts)
        for chart in old.values():
            chart.setParent(None)
            chart.deleteLater()
        while self.grid_layout.count():
            item = self.grid_layout.takeAt(0)
            if (widget := item.widget()) is not None:
                widget.deleteLater()
            elif item.layout() is not None:
                _empty_layout(item.layout())
        self._cells = {}
        for section, section_keys in metric_sections(keys):
            if section:
                title = QLabel(section, self.grid_host)
                title.setTextFormat(Qt.TextFormat.PlainText)
                title.setStyleSheet("QLabel { font-weight: bold; padding: 6px 2px 0 2px; }")
                self.grid_layout.addWidget(title)
            grid = QGridLayout()
            columns = 1 if len(keys) == 1 else CHART_COLUMNS  # one metric: the whole width
            for column in range(columns):
                grid.setColumnStretch(column, 1)
            for index, key in enumerate(section_keys):
                self._cells[key] = (grid, index // columns, index % columns)
                # A placeholder of the chart's size keeps the layout still while the charts
                # arrive one by one: a moving layout repaints every visible chart each time.
                chart = None if key in self._unplaced else self.charts.get(key)
                widget = chart or _placeholder(self.grid_host)
                grid.addWidget(widget, *self._cells[key][1:])
            self.grid_layout.addLayout(grid)
        self.grid_layout.addStretch(1)

    def _new_chart(self, key: str) -> MetricChart:
        chart = MetricChart(key, self.grid_host)
        chart.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        chart.run_clicked.connect(self.run_clicked)
        chart.run_visibility_changed.connect(self._run_visibility_changed)
        chart.export_requested.connect(lambda: self.export_requested.emit(chart))
        return chart

    def _draw_next(self) -> None:
        """One step per event-loop turn: make a missing chart (while the charts are still
        hidden, so nothing repaints), then show the placeholders, then fill one chart per
        turn, putting a chart made off screen in its cell once it has its curves."""
        missing = [key for key in self._cells if key not in self.charts]
        if missing:
            self._make_chart(missing[0]).reserve(len(self.runs))
            self._draw_timer.start()
            return
        if not self._drawing:
            return  # charts made while the curves load; _start_drawing goes on from here
        if self.pages.currentWidget() is not self.scroll:
            self.pages.setCurrentWidget(self.scroll)
            self._draw_timer.start()
            return
        if not self._pending:
            self._drawing = False
            self.drawn.emit()
            return
        key = self._pending.pop(0)
        if (chart := self.charts.get(key)) is not None:
            self._fill(chart, key)
            if key in self._unplaced:
                self._unplaced.discard(key)
                self._put_in_cell(key, chart)
                chart.show()
        self._draw_timer.start()

    def _make_chart(self, key: str) -> MetricChart:
        """A new chart: in its cell when the charts are on screen, else kept off screen until
        filled (shown empty, every chart on screen would paint and lay out at once, and
        again with its curves; that took 60+ ms of one event-loop turn)."""
        chart = self.charts[key] = self._new_chart(key)
        if self.pages.currentWidget() is self.scroll and self.scroll.isVisible():
            self._put_in_cell(key, chart)
        else:
            chart.hide()
            self._unplaced.add(key)
        return chart

    def _put_in_cell(self, key: str, chart: MetricChart) -> None:
        grid, row, column = self._cells[key]
        placeholder = grid.itemAtPosition(row, column)
        if placeholder is not None and placeholder.widget() is not None:
            old = placeholder.widget()
            grid.replaceWidget(old, chart)
            old.hide()
            old.deleteLater()
        else:
            grid.addWidget(chart, row, column)

    def _fill(self, chart: MetricChart, key: str) -> None:
        assert self.store is not None
        location, options = self.store.location, self.options
        curves = [c for run in self.runs if (c := self._curve(location, run, key, options))]
        if self.groups:
            by_id = {curve.run_id: curve for curve in curves}
            bands = []
            for index, (label, run_ids) in enumerate(self.groups):
                members = [(by_id[r].x, by_id[r].y) for r in run_ids if r in by_id]
                colour = DEFAULT_PALETTE[index % len(DEFAULT_PALETTE)]
                bands.append((label, colour, group_band(members)))
            chart.set_curves([], options)
            chart.set_bands(bands, options.spread)
        else:
            chart.set_bands([])
            chart.set_curves(curves, options, keep_view=self._keep_view)
            chart.set_hidden(self.hidden_runs)
            chart.highlight(self._highlighted)

    def _history(self, location: str, run_id: str, key: str) -> np.ndarray | None:
        found = self.cache.get(location, run_id, key)
        return found if found is not None else self._preview.get((location, run_id, key))

    def _curve(
        self, location: str, run: ChartRun, key: str, options: ChartOptions
    ) -> CurveData | None:
        history = self._history(location, run.run_id, key)
        if history is None or not len(history):
            return None
        other = None
        if options.x_mode == "metric" and options.x_metric:
            other = self._history(location, run.run_id, options.x_metric)
            if other is None or not len(other):
                return None
        x, y = curve_xy(history, options.x_mode, other=other, start_ms=run.start_ms)
        if len(x) > 1 and np.any(np.diff(x) < 0):
            order = np.argsort(x, kind="stable")
            x, y = x[order], y[order]
        return CurveData(run.run_id, run.name, run.colour, x, y)

    def _options_changed(self, options: ChartOptions) -> None:
        x_changed = (options.x_mode, options.x_metric) != self._drawn_x
        if x_changed or self.groups:
            self._rebuild()
            return
        for chart in self.charts.values():
            chart.set_options(options)

    def _run_visibility_changed(self, run_id: str, visible: bool) -> None:
        self.hidden_runs.discard(run_id) if visible else self.hidden_runs.add(run_id)
        for chart in self.charts.values():
            chart.set_hidden(self.hidden_runs)

    def _shows_charts(self) -> bool:
        return self.pages.currentWidget() is self.scroll and bool(self.charts)

    def _show_text(self, text: str) -> None:
        self._drawing = False
        self._pending = []
        self.text.setText(text)
        self.pages.setCurrentWidget(self.text)


def _empty_layout(layout: QGridLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None and not isinstance(widget, MetricChart):
            widget.deleteLater()


class _ChartsScroll(QScrollArea):
    """A scroll area whose size hint ignores its content: charts arriving one by one must not
    make the main window lay its docks out again (which repaints every chart)."""

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(CHART_WIDTH_HINT * 2, CHART_HEIGHT * 2)


class _Placeholder(QWidget):
    """Holds a chart's cell, with the chart's size hints, until the chart is made."""

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(CHART_WIDTH_HINT, CHART_HEIGHT)


def _placeholder(parent: QWidget) -> QWidget:
    placeholder = _Placeholder(parent)
    placeholder.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    placeholder.setFixedHeight(CHART_HEIGHT)
    return placeholder
