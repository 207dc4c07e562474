"""The charts panel of an experiment page: curves, parallel coordinates and scatter of the runs."""

from __future__ import annotations

from dataclasses import asdict, fields, replace

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from flowdeck.ui.charts.charts_view import ChartsView
from flowdeck.ui.charts.metric_chart import MetricChart
from flowdeck.ui.charts.options import ChartOptions
from flowdeck.ui.charts.parallel import ParallelCoordinates
from flowdeck.ui.charts.scatter import ScatterChart
from flowdeck.ui.charts.selection import chart_groups, chart_runs
from flowdeck.ui.runs.pane import RunsPane
from flowdeck.ui.settings import Settings
from flowdeck.ui.tasks import TaskRunner

SELECTION_SETTLE_MS = 120  # shift-click and keyboard selection come in bursts
OPTIONS_KEY = "charts/options"
HIDDEN_KEY = "charts/hidden_metrics"
TAB_KEY = "charts/tab"
CURVES_TAB, PARALLEL_TAB, SCATTER_TAB = range(3)
TAB_LABELS = ("Curves", "Parallel coordinates", "Scatter")


class ChartsPanel(QWidget):
    """Curves, parallel coordinates and scatter tabs of the runs a ``RunsPane`` has selected.

    It reads the pane through its public API (table, selection, groups) and asks for
    selection changes with ``select_requested`` / ``focus_requested``; the page wires both.
    The parallel and scatter charts (two plot widgets, ~45 ms) are made when first shown or
    asked for (``parallel`` / ``scatter``); until then their tabs hold empty placeholders.
    """

    select_requested = Signal(list)  # run ids brushed in the parallel chart
    focus_requested = Signal(str)  # run id of a clicked curve or point

    def __init__(self, runner: TaskRunner, runs: RunsPane, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.runs = runs
        self.tabs = QTabWidget(self)
        self.charts = ChartsView(runner, self.tabs)
        self._parallel: ParallelCoordinates | None = None
        self._scatter: ScatterChart | None = None
        self.tabs.addTab(self.charts, TAB_LABELS[CURVES_TAB])
        for index in (PARALLEL_TAB, SCATTER_TAB):
            self.tabs.addTab(QWidget(self.tabs), TAB_LABELS[index])
        self.tabs.setDocumentMode(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self._brushing = False
        self._keep_charts = False
        self._compared: tuple[int, tuple[str, ...]] | None = None
        self._restore_state()
        self.tabs.currentChanged.connect(self._tab_changed)
        self.tabs.currentChanged.connect(lambda i: settings.set_value(TAB_KEY, i))
        toolbar = self.charts.toolbar
        toolbar.options_changed.connect(lambda o: settings.set_value(OPTIONS_KEY, asdict(o)))
        toolbar.metrics_changed.connect(lambda hidden: settings.set_value(HIDDEN_KEY, hidden))
        self._settle = QTimer(self, singleShot=True, interval=SELECTION_SETTLE_MS)
        self._settle.timeout.connect(self.follow_selection)
        runs.selection_changed.connect(lambda _ids: self._settle.start())
        runs.grouping_changed.connect(self._settle.start)
        runs.loaded.connect(lambda _n: self.charts.refresh_running())
        runs.hovered.connect(self.charts.highlight)
        self.charts.run_clicked.connect(self.focus_run)
        self.charts.toolbar.export_requested.connect(self.export_current)
        self.charts.export_requested.connect(self.export)

    @property
    def parallel(self) -> ParallelCoordinates:
        """The parallel-coordinates chart, made (and put in its tab) on first use."""
        if self._parallel is None:
            self._parallel = ParallelCoordinates(self.tabs)
            self._parallel.brushed.connect(self.select_brushed)
            self._put_in_tab(PARALLEL_TAB, self._parallel)
        return self._parallel

    @property
    def scatter(self) -> ScatterChart:
        """The scatter chart, made (and put in its tab) on first use."""
        if self._scatter is None:
            self._scatter = ScatterChart(self.tabs)
            self._scatter.run_clicked.connect(self.focus_run)
            self._put_in_tab(SCATTER_TAB, self._scatter)
        return self._scatter

    def built_charts(self) -> list[QWidget]:
        """The charts made so far (the curves always; parallel and scatter once shown)."""
        return [w for w in (self.charts, self._parallel, self._scatter) if w is not None]

    def _put_in_tab(self, index: int, chart: QWidget) -> None:
        """Swap a lazy tab's placeholder for its chart; the current tab stays current."""
        tabs = self.tabs
        current, placeholder = tabs.currentIndex(), tabs.widget(index)
        blocked = tabs.blockSignals(True)
        try:
            tabs.removeTab(index)
            tabs.insertTab(index, chart, TAB_LABELS[index])
            tabs.setCurrentIndex(current)
        finally:
            tabs.blockSignals(blocked)
        placeholder.deleteLater()

    def _tab_changed(self, _index: int) -> None:
        if self.isVisible():
            QTimer.singleShot(0, self._build_current_tab)  # not while the tab bar emits
        self._settle.start()

    def _build_current_tab(self) -> None:
        """Make the chart of the tab just shown, so it appears before the selection settles."""
        index = self.tabs.currentIndex()
        if index == PARALLEL_TAB and self._parallel is None:
            self.parallel  # noqa: B018 - made on access
        elif index == SCATTER_TAB and self._scatter is None:
            self.scatter  # noqa: B018 - made on access

    def showEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)  # type: ignore[arg-type]
        self._settle.start()

    def follow_selection(self) -> None:
        """Chart the runs selected in the table (nothing happens while the dock is hidden)."""
        if not self.isVisible():
            return
        if self._keep_charts:  # the selection came from a click in a chart
            self._keep_charts = False
            return
        table = self.runs.table()
        selected = self.runs.selected_run_ids()
        index = self.tabs.currentIndex()
        if index == CURVES_TAB:
            runs, keys = chart_runs(table, selected)
            groups = None
            shown_groups = self.runs.groups()
            if shown_groups is not None:
                groups = chart_groups(shown_groups, table, selected)
            self.charts.set_selection(self.runs.store, runs, keys, groups)
        elif not self._brushing:
            found = (table.row_of(run_id) for run_id in selected)
            rows = np.array([row for row in found if row is not None], dtype=np.int64)
            compared = (id(table), tuple(selected))
            if compared != self._compared or index == SCATTER_TAB:
                self._compared = compared if index == PARALLEL_TAB else None
                chart = self.parallel if index == PARALLEL_TAB else self.scatter
                chart.set_data(table, rows)
        self._brushing = False

    def select_brushed(self, run_ids: list[str]) -> None:
        """Brushing the parallel axes selects the runs inside every brush in the table."""
        if set(run_ids) == set(self.runs.selected_run_ids()):
            return
        self._brushing = True  # the parallel chart keeps all its runs, faint or not
        self.select_requested.emit(run_ids)

    def focus_run(self, run_id: str) -> None:
        """Select a clicked curve's (or point's) run in the table; the charts keep their runs."""
        if self.runs.selected_run_ids() != [run_id]:
            self._keep_charts = True
        self.focus_requested.emit(run_id)
        self.charts.highlight(run_id)

    def export_current(self) -> None:
        """Export the chart last clicked (else the first one)."""
        chart = self.charts.chart_under_focus()
        if chart is not None:
            self.export(chart)

    def export(self, chart: MetricChart) -> None:
        from flowdeck.ui.charts.export_actions import export_chart  # the dialog, on first use

        export_chart(chart, self.charts)

    def _restore_state(self) -> None:
        """The chart options, hidden metrics and tab of the last session."""
        saved = self.settings.value(OPTIONS_KEY, {}, dict)
        known = {f.name for f in fields(ChartOptions)}
        try:
            options = ChartOptions(**{k: v for k, v in saved.items() if k in known})
        except TypeError:
            options = ChartOptions()
        if options.x_mode == "metric":  # the metric may not exist in the next store
            options = replace(options, x_mode="step", x_metric=None)
        self.charts.toolbar.set_view_options(options)
        self.charts.toolbar.hidden_metrics = set(self.settings.value(HIDDEN_KEY, [], list))
        self.tabs.setCurrentIndex(self.settings.value(TAB_KEY, 0, int))
