"""The experiment page (``experiment/<id>[,<id>…]``): the runs table with charts below it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QSplitter, QVBoxLayout

from flowdeck.core.addresses import Address, experiment_address, run_address
from flowdeck.core.context import Item, Selection
from flowdeck.core.errors import InvalidFilter, NotFound
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.ui.charts.panel import ChartsPanel
from flowdeck.ui.edit.run_ref import DELETED
from flowdeck.ui.runs.pane import RunsPane
from flowdeck.ui.shell.page import Page, Shell
from flowdeck.ui.shell.page_types import page_type

CHARTS_VISIBLE_KEY = "charts/visible"
SPLIT_KEY = "experiment_page/split"
SUMMARIES_KEY = "metric_summaries"


def _experiment_names(state: TaskState, store: Store, experiment_ids: tuple[str, ...]) -> list[str]:
    """The names of the experiments, in order; ``NotFound`` names the missing ones."""
    frame = store.experiments(view="all")
    names = dict(zip(frame["experiment_id"].astype(str), frame["name"], strict=True))
    missing = [i for i in experiment_ids if i not in names]
    if missing:
        which = ", ".join(missing)
        raise NotFound(f"There is no experiment with ID {which} in {store.display_name}.")
    return [str(names[i]) for i in experiment_ids]


@page_type
class ExperimentPage(Page):
    """Runs of one or more experiments of a store, and the charts of the selected runs."""

    family = "experiment"

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.experiment_ids = list(address.ids)
        self.names: list[str] = []
        self.runs = RunsPane(shell.runner, shell.settings, self)
        self.runs.with_summaries = shell.settings.value(SUMMARIES_KEY, False, bool)
        self.charts_panel = ChartsPanel(shell.runner, self.runs, shell.settings)
        self.charts = self.charts_panel.charts
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(self.runs)
        self.splitter.addWidget(self.charts_panel)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        saved_split = shell.settings.value(SPLIT_KEY, [], list)
        if len(saved_split) == 2:
            self.splitter.setSizes([int(size) for size in saved_split])
        self.charts_panel.setVisible(shell.settings.value(CHARTS_VISIBLE_KEY, True, bool))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self._connect()
        self._filter_problem: str | None = None
        if address.filter:
            bar = self.runs.filter_bar
            bar.set_filter_text(address.filter)
            if not bar.apply_filter():
                problem = bar.problem()
                self._filter_problem = problem.message if problem else address.filter

    def _connect(self) -> None:
        runs = self.runs
        runs.loaded.connect(self._runs_loaded)
        runs.load_failed.connect(self._runs_failed)
        runs.message.connect(self.status.emit)
        runs.loading_changed.connect(lambda _loading: self.busy_changed.emit(self.busy))
        runs.selection_changed.connect(lambda _ids: self.selection_changed.emit(self.selection()))
        runs.filter_applied.connect(self._filter_applied)
        runs.activated.connect(self.open_run)
        self.charts_panel.select_requested.connect(runs.select_runs)
        self.charts_panel.focus_requested.connect(runs.focus_run)
        self.charts.message.connect(self.status.emit)
        self.charts.drawn.connect(self._charts_drawn)
        # a long chart load (every point from a server) shows its progress and can be cancelled
        self.charts.loading_changed.connect(lambda _loading: self.busy_changed.emit(self.busy))
        self.splitter.splitterMoved.connect(
            lambda _pos, _index: self.shell.settings.set_value(SPLIT_KEY, self.splitter.sizes())
        )

    def open_run(self, run_id: str, new_tab: bool) -> None:
        """Open the page of a run of the table (double-click, Enter, middle-click)."""
        self.open_requested.emit(run_address(run_id), new_tab)

    # --- loading -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._filter_problem is not None:
            self.fail(InvalidFilter(f"invalid filter: {self._filter_problem}"))
            self._filter_problem = None  # the bar shows it; a refresh loads without it
            return
        self.begin_loading()
        self.shell.runner.submit(
            _experiment_names,
            self.store,
            tuple(self.experiment_ids),
            key="names",
            owner=self,
            store=self.store,
            label="Reading experiment names",
            on_result=self._named,
            on_error=lambda error, _tb: self.fail(error),
        )

    def _named(self, names: list[str]) -> None:
        self.names = names
        self.set_title(", ".join(names) if len(names) <= 3 else f"{len(names)} experiments")
        self.runs.set_source(self.store, self.experiment_ids)

    def _runs_loaded(self, count: int) -> None:
        seconds = self.runs.last_load_seconds
        self.status.emit(f"Loaded {count} run{'s' * (count != 1)} in {seconds:.2f} s")
        if self.loading:
            self.finish_loading()

    def _runs_failed(self, text: str) -> None:
        self.status.emit(text)
        if self.loading:
            self.fail(text)

    def _charts_drawn(self) -> None:
        runs, charts = len(self.charts.runs), len(self.charts.charts)
        if runs and charts:
            text = f"Charted {runs} run{'s' * (runs != 1)}, {charts} metric{'s' * (charts != 1)}"
            if self.charts.showing_sample:
                text += " from the server's sample; every point follows…"
            self.status.emit(text)

    def refresh(self) -> None:
        if not self.names:
            self.start()
        else:
            self.runs.reload(keep_view=True)

    def _filter_applied(self, text: str) -> None:
        self.address = experiment_address(self.experiment_ids, text)
        self.address_changed.emit(self.address)

    @property
    def busy(self) -> bool:
        return self.runs.loading or self.charts.loading

    def cancel_loads(self) -> None:
        self.runs.cancel_load()
        self.charts.cancel_load()

    def add_context_actions(self, actions: list[Any]) -> None:
        self.runs.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.runs.view.addActions(actions)

    def auto_refresh(self) -> None:
        if not self.runs.loading and self.runs.has_running():
            self.runs.reload(keep_view=True)

    def set_deleted_runs_shown(self, shown: bool) -> None:
        self.runs.filter_bar.deleted_button.setChecked(shown)

    def focus_filter(self) -> None:
        self.runs.filter_bar.focus_filter()

    def focus_name_search(self) -> None:
        self.runs.filter_bar.focus_name_search()

    def export_csv(self) -> None:
        self.runs.export_dialog()

    # --- charts --------------------------------------------------------------------------------

    @property
    def charts_visible(self) -> bool:
        return not self.charts_panel.isHidden()

    def set_charts_visible(self, visible: bool, curves: bool = False) -> None:
        """Show or hide the charts (remembered); ``curves`` also switches to the curves tab."""
        self.charts_panel.setVisible(visible)
        self.shell.settings.set_value(CHARTS_VISIBLE_KEY, visible)
        if visible and curves:
            self.charts_panel.tabs.setCurrentWidget(self.charts)
            height = max(self.height(), 400)
            self.splitter.setSizes([int(height * 0.3), int(height * 0.7)])
        if visible:
            QTimer.singleShot(0, self.charts_panel.follow_selection)

    def set_summaries(self, shown: bool) -> None:
        if self.runs.with_summaries != shown:
            self.runs.with_summaries = shown
            self.runs.reload(keep_view=True)

    # --- context -------------------------------------------------------------------------------

    def selection(self) -> Selection:
        items = tuple(
            Item(ref.run_id, ref.name, ref.lifecycle_stage == DELETED, ref.artifact_uri or "")
            for ref in self.runs.selected_refs()
        )
        return Selection("run", self.store, items)

    def shows(self, change: Any) -> bool:
        if change.kind == "run":
            return True
        return change.kind == "experiment" and bool(set(change.ids) & set(self.experiment_ids))

    def apply_change(self, store: Store, change: Any) -> None:
        if store is not self.store or not self.shows(change):
            return
        if change.kind == "experiment" and change.action == "rename":
            self.start()  # a new title; the runs reload after it
        else:
            self.runs.reload(keep_view=True)

    def close_page(self) -> None:
        self.runs.save_layout()
        super().close_page()
