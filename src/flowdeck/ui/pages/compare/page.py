"""``compare/<id>,<id>[,…]``: 2 to 10 runs side by side — values, charts and artifacts."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QTabWidget, QVBoxLayout

from flowdeck.core.addresses import Address, run_address
from flowdeck.core.compare import compare_runs, run_colours
from flowdeck.core.context import Item, Selection
from flowdeck.core.entities import RunDetail
from flowdeck.store.base import Store
from flowdeck.ui.charts.charts_view import ChartsView
from flowdeck.ui.charts.loading import ChartRun
from flowdeck.ui.evaluation.compare_view import EvaluationCompare
from flowdeck.ui.pages.compare.artifacts import ArtifactsCompare
from flowdeck.ui.pages.compare.reads import CompareView, read_compare
from flowdeck.ui.pages.compare.values import RunColumn, ValuesView
from flowdeck.ui.shell.page import Page, Shell
from flowdeck.ui.shell.page_types import page_type
from flowdeck.ui.theme import RUN_COLOURS

DELETED = "deleted"
VALUES, CHARTS, ARTIFACTS = 0, 1, 2


def run_name(detail: RunDetail) -> str:
    return detail.info.run_name or detail.info.run_id[:8]


@page_type
class ComparePage(Page):
    """The runs of the address in one column each (colours as in the runs table); the Charts
    and Artifacts tabs load when first shown."""

    family = "compare"

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.run_ids = list(address.ids)
        self.view: CompareView | None = None
        self.columns: list[RunColumn] = []
        self.chart_runs: list[ChartRun] = []
        self.set_title(f"Compare {len(self.run_ids)} runs")
        self.message = QLabel("Loading…")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.values = ValuesView()
        self.charts = ChartsView(shell.runner)
        self.artifacts = ArtifactsCompare(shell.runner)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.values, "Values")
        self.tabs.addTab(self.charts, "Charts")
        self.tabs.addTab(self.artifacts, "Artifacts")
        self.evaluation = EvaluationCompare(shell.runner, store)
        self.evaluation.open_requested.connect(self.open_requested.emit)
        if len(self.run_ids) == 2:  # verdicts compare row by row between two runs
            self.tabs.addTab(self.evaluation, "Evaluation")
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.tabs)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.values.run_clicked.connect(
            lambda run_id, new_tab: self.open_requested.emit(run_address(run_id), new_tab)
        )
        self.values.metrics_selected.connect(self._metrics_selected)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.charts.message.connect(self.status.emit)
        self.artifacts.message.connect(self.status.emit)

    # --- loading ---------------------------------------------------------------------------------

    def start(self) -> None:
        self.begin_loading()
        if self.view is None:
            self._show_message("Loading…")
        self.shell.runner.submit(
            read_compare,
            self.store,
            tuple(self.run_ids),
            key="compare",
            owner=self,
            store=self.store,
            label="Reading the compared runs",
            on_result=self._show,
            on_error=lambda error, _details: self.fail(error),
        )

    def _show(self, view: CompareView) -> None:
        self.view = view
        details = view.details
        colours = run_colours([d.info.run_id for d in details], RUN_COLOURS)
        columns = [
            RunColumn(d.info.run_id, run_name(d), colour, self._tooltip(d))
            for d, colour in zip(details, colours, strict=True)
        ]
        self.values.set_comparison(columns, compare_runs(details, view.extremes))
        self.chart_runs = [
            ChartRun(
                d.info.run_id,
                column.name,
                column.colour,
                d.info.start_time,
                d.info.status == "RUNNING",
            )
            for d, column in zip(details, columns, strict=True)
        ]
        if columns != self.columns:
            self.columns = columns
            self.artifacts.set_runs(self.store, columns)
        if len(details) == 2:
            first, second = details
            self.evaluation.set_runs(
                (
                    (first.info.experiment_id, first.info.run_id),
                    (second.info.experiment_id, second.info.run_id),
                ),
                (columns[0].name, columns[1].name),
            )
        self.stack.setCurrentWidget(self.tabs)
        self._tab_changed(self.tabs.currentIndex())
        if self.tabs.currentIndex() == CHARTS:
            self.charts.refresh_running()
        if view.note:
            self.status.emit(view.note)
        self.selection_changed.emit(self.selection())
        self.finish_loading()

    def _tooltip(self, detail: RunDetail) -> str:
        info = detail.info
        assert self.view is not None
        experiment = self.view.experiment_names.get(info.experiment_id, info.experiment_id)
        deleted = " (deleted)" if info.lifecycle_stage == DELETED else ""
        return f"Run {info.run_id}{deleted}\nExperiment: {experiment}\nStatus: {info.status}"

    def fail(self, error: BaseException | str) -> None:
        super().fail(error)
        self.view = None
        self._show_message(self.error or "")

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)

    # --- tabs --------------------------------------------------------------------------------------

    def _tab_changed(self, index: int) -> None:
        if self.view is None:
            return
        if index == CHARTS:
            self._chart()
        elif index == ARTIFACTS:
            self.artifacts.start()
        elif self.tabs.widget(index) is self.evaluation:
            self.evaluation.start()

    def _metrics_selected(self) -> None:
        if self.tabs.currentIndex() == CHARTS:
            self._chart()

    def _chart(self) -> None:
        """Chart the metrics selected in the Values tab, or every metric when none is."""
        assert self.view is not None
        keys = self.values.selected_metric_keys() or sorted(
            {key for detail in self.view.details for key in detail.metrics}
        )
        if self.charts.runs != self.chart_runs or keys != self.charts.metric_keys:
            self.charts.set_selection(self.store, self.chart_runs, keys)

    # --- what the host asks ------------------------------------------------------------------------

    def selection(self) -> Selection:
        if self.view is None:
            return super().selection()
        items = tuple(
            Item(
                d.info.run_id,
                d.info.run_name,
                d.info.lifecycle_stage == DELETED,
                d.info.artifact_uri or "",
            )
            for d in self.view.details
        )
        return Selection("run", self.store, items)

    def shows(self, change: Any) -> bool:
        return change.kind == "run" and bool(set(change.ids) & set(self.run_ids))

    def auto_refresh(self) -> None:
        if self.view is not None and not self.loading and any(r.running for r in self.chart_runs):
            self.refresh()

    def cancel_loads(self) -> None:
        super().cancel_loads()
        self.charts.cancel_load()
        self.shell.runner.cancel_owner(self.artifacts)

    def close_page(self) -> None:
        self.cancel_loads()
