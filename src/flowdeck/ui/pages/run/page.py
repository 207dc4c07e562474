"""The run page (``run/<id>``, ``run/<id>/artifacts/<path>``): overview, values, tags, artifacts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from flowdeck.core.addresses import Address, run_address
from flowdeck.core.context import Item, Selection
from flowdeck.core.entities import RunDetail
from flowdeck.core.runs_table_format import DEFAULT_PALETTE
from flowdeck.core.text_format import short_id
from flowdeck.store.base import Store
from flowdeck.ui.artifacts.browser import ArtifactsView
from flowdeck.ui.charts.charts_view import ChartsView
from flowdeck.ui.charts.loading import ChartRun
from flowdeck.ui.crash import failure_text
from flowdeck.ui.evaluation.view import EvaluationView
from flowdeck.ui.pages.overview_widgets import LOADING_TEXT, plain_label
from flowdeck.ui.pages.run.overview import DELETED, OverviewView
from flowdeck.ui.pages.run.reads import (
    RunData,
    RunLinks,
    Sparkline,
    read_detail,
    read_links,
    read_run,
    read_sparklines,
)
from flowdeck.ui.pages.run.sparkline import polylines
from flowdeck.ui.pages.run.tags import TagsView
from flowdeck.ui.pages.run.values import MetricsTable, ParamsView
from flowdeck.ui.shell.page import Page, Shell
from flowdeck.ui.shell.page_types import page_type

OVERVIEW, PARAMETERS, METRICS, TAGS, ARTIFACTS = range(5)
SPARKLINE_BATCH = 50  # metrics per history read
CHART_HINT = "Click a metric to chart it; Ctrl+click or Shift+click charts several."


@page_type
class RunPage(Page):
    """One run: Overview, Parameters, Metrics (sparklines and charts), Tags and Artifacts."""

    family = "run"

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.run_id = address.first_id
        self.artifact_path = address.path if address.kind == "run-artifacts" else ""
        self.data: RunData | None = None
        self.links: RunLinks | None = None
        self.evaluation: EvaluationView | None = None
        self.artifacts: QWidget | None = None
        self._pending: set[str] = set()
        self._artifact_shown = False  # the preview of an artifacts address is on screen
        self._sparklines_left: list[str] = []
        self.set_title(short_id(self.run_id))
        self.overview = OverviewView()
        self.params = ParamsView()
        self.metrics = MetricsTable()
        self.charts = ChartsView(shell.runner)
        self.chart_hint = plain_label(CHART_HINT, wrap=True)
        self.chart_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.chart_stack = QStackedWidget()
        self.chart_stack.addWidget(self.chart_hint)
        self.chart_stack.addWidget(self.charts)
        self.metrics_split = QSplitter(Qt.Orientation.Vertical)
        self.metrics_split.addWidget(self.metrics)
        self.metrics_split.addWidget(self.chart_stack)
        self.metrics_split.setChildrenCollapsible(False)
        self.metrics_split.setSizes([300, 300])
        self.tags = TagsView()
        self.artifacts_tab = QWidget()
        QVBoxLayout(self.artifacts_tab).setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for widget, name in (
            (self.overview, "Overview"),
            (self.params, "Parameters"),
            (self.metrics_split, "Metrics"),
            (self.tags, "Tags"),
            (self.artifacts_tab, "Artifacts"),
        ):
            self.tabs.addTab(widget, name)
        self.message = plain_label(wrap=True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.message.setContentsMargins(12, 10, 12, 10)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message)
        self.stack.addWidget(self.tabs)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self._connect()
        if address.kind == "run-artifacts":
            self.tabs.setCurrentIndex(ARTIFACTS)

    def _connect(self) -> None:
        self.tabs.currentChanged.connect(self._tab_changed)
        self.overview.open_requested.connect(self.open_requested)
        self.overview.rename_requested.connect(lambda: self.edit("item.rename"))
        self.overview.describe_requested.connect(lambda: self.edit("item.description"))
        self.tags.edit_requested.connect(lambda: self.edit("item.tags"))
        for view in (self.overview, self.params, self.metrics, self.tags):
            view.copied.connect(self.status)
        self.metrics.chart_requested.connect(self.chart)
        self.charts.message.connect(self.status)
        self.shell.context.read_only_changed.connect(lambda _s, _r: self._update_editable())

    # --- loading ---------------------------------------------------------------------------------

    def start(self) -> None:
        self.shell.runner.cancel_owner(self)
        self._pending = {"run"}
        if self.address.kind == "run-artifacts" and not self._artifact_shown:
            self._pending.add("artifacts")  # a deep link has loaded once its preview shows
        self.begin_loading()
        if self.data is None:
            self.message.setText(LOADING_TEXT)
            self.stack.setCurrentWidget(self.message)
        self._submit("run", read_run, self.run_id, on_result=self._show, on_error=self.fail)

    def _submit(
        self,
        key: str,
        fn: Callable[..., Any],
        *args: Any,
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        self.shell.runner.submit(
            fn,
            self.store,
            *args,
            key=key,
            owner=self,
            store=self.store,
            label=f"Reading the run ({key})",
            on_result=on_result,
            on_error=lambda error, _details: on_error(error),
        )

    def _show(self, data: RunData) -> None:
        self.data = data
        detail = data.detail
        self._show_name(detail)
        self.overview.show_run(data)
        self.overview.looking_for_links()
        self.params.set_params(detail.params)
        charted = self.metrics.selected_keys()
        self.metrics.set_rows(data.metrics)
        self.metrics.select_keys(charted)  # a refresh keeps the charted metrics
        self._show_tags(detail)
        self.tabs.setTabText(PARAMETERS, f"Parameters ({len(detail.params)})")
        self.tabs.setTabText(METRICS, f"Metrics ({len(data.metrics)})")
        self.stack.setCurrentWidget(self.tabs)
        self._update_editable()
        self.selection_changed.emit(self.selection())
        self._pending |= {"links", "sparklines"}
        self._read_links()
        self._sparklines_left = [row.key for row in data.metrics]
        self._next_sparklines()
        self._done("run")

    def _show_name(self, detail: RunDetail) -> None:
        name = detail.info.run_name or short_id(detail.info.run_id)
        self.set_title(name)
        self.overview.name.setText(name)

    def _show_tags(self, detail: RunDetail) -> None:
        self.tags.set_tags(detail.tags)
        users = self.tags.user_model.rowCount()
        self.tabs.setTabText(TAGS, f"Tags ({users})")

    def _read_links(self) -> None:
        assert self.data is not None
        self._pending.add("links")
        detail = self.data.detail
        self._submit(
            "links", read_links, detail, on_result=self._show_links, on_error=self._links_failed
        )

    def _show_links(self, links: RunLinks) -> None:
        assert self.data is not None
        self.links = links
        self.overview.show_links(links, self.data.detail.info.experiment_id)
        if links.traces and self.evaluation is None:
            self._add_evaluation_tab(self.data.detail.info.experiment_id)
        self._done("links")

    def _add_evaluation_tab(self, experiment_id: str) -> None:
        """Runs with traces may be evaluation runs: their judges' table, read when shown."""
        self.evaluation = EvaluationView(self.shell.runner, self.store, experiment_id, self.run_id)
        self.evaluation.open_requested.connect(self.open_requested.emit)
        self.tabs.addTab(self.evaluation, "Evaluation")

    def _links_failed(self, error: BaseException) -> None:
        text = failure_text(error, "Looking up what this run is linked to")
        self.overview.links_note.setText(f"Could not look up what this run is linked to: {text}")
        self._done("links")

    def _next_sparklines(self) -> None:
        if not self._sparklines_left:
            self._done("sparklines")
            return
        batch = self._sparklines_left[:SPARKLINE_BATCH]
        del self._sparklines_left[:SPARKLINE_BATCH]
        self._submit(
            "sparklines",
            read_sparklines,
            self.run_id,
            batch,
            on_result=self._show_sparklines,
            on_error=self._sparklines_failed,
        )

    def _show_sparklines(self, found: dict[str, Sparkline | None]) -> None:
        self.metrics.model.set_lines({k: polylines(v) if v else None for k, v in found.items()})
        self._next_sparklines()

    def _sparklines_failed(self, error: BaseException) -> None:
        self._sparklines_left = []
        self.status.emit(f"Could not draw the sparklines: {failure_text(error, 'Sparklines')}")
        self._done("sparklines")

    def _done(self, part: str) -> None:
        self._pending.discard(part)
        if not self._pending and self.loading:
            self.finish_loading()

    def fail(self, error: BaseException | str) -> None:
        super().fail(error)
        self._pending.clear()
        self.data = None
        self.message.setText(self.error or "")
        self.stack.setCurrentWidget(self.message)

    def cancel_loads(self) -> None:
        super().cancel_loads()
        self.charts.cancel_load()
        self._sparklines_left = []
        if self.loading:
            self._pending.clear()
            self.loading = False
            self.busy_changed.emit(False)
            self.status.emit("Stopped loading the run page.")
            if self.data is None:
                self.message.setText("Loading was stopped. Refresh (F5) to read the run again.")

    def close_page(self) -> None:
        self.charts.cancel_load()
        if self.artifacts is not None:
            self.artifacts.close_view()
        super().close_page()

    def auto_refresh(self) -> None:
        running = self.data is not None and self.data.detail.info.status == "RUNNING"
        if running and not self.loading:
            self.refresh()
            self.charts.refresh_running()

    def add_context_actions(self, actions: list[Any]) -> None:
        """The window's run commands (rename, tags, copy ID…) on the overview's context menu."""
        elsewhere = {"run.open", "run.compare", "runs.export"}
        self.overview.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.overview.addActions([a for a in actions if a.objectName() not in elsewhere])

    # --- changes ---------------------------------------------------------------------------------

    def shows(self, change: Any) -> bool:
        if change.kind != "run":
            return False
        children = {link.run_id for link in self.links.children} if self.links else set()
        return self.run_id in change.ids or bool(children & set(change.ids))

    def apply_change(self, store: Store, change: Any) -> None:
        if store is not self.store or not self.shows(change):
            return
        if self.data is None:
            self.start()
        elif self.run_id in change.ids:
            self.begin_loading()
            self._pending.add("detail")
            self._submit(
                "detail",
                read_detail,
                self.run_id,
                on_result=lambda detail: self._changed(detail, change.action),
                on_error=self.fail,
            )
        else:
            self.begin_loading()
            self._read_links()

    def _changed(self, detail: RunDetail, action: str) -> None:
        """Show what ``action`` changed of the re-read run."""
        assert self.data is not None
        self.data = replace(self.data, detail=detail)
        if action == "rename":
            self._show_name(detail)
        elif action == "describe":
            self.overview.show_description(detail.description)
        else:  # tags, deletion, restoring: the facts, the status and the tags
            self.overview.show_run(self.data)
            self._show_tags(detail)
        self._update_editable()
        self.selection_changed.emit(self.selection())
        self._done("detail")

    # --- editing ---------------------------------------------------------------------------------

    def selection(self) -> Selection:
        if self.data is None:
            return super().selection()
        info = self.data.detail.info
        deleted = info.lifecycle_stage == DELETED
        item = Item(info.run_id, info.run_name, deleted, info.artifact_uri or "")
        return Selection("run", self.store, (item,))

    def edit_reason(self) -> str | None:
        """Why the run cannot be edited from this page now (None when it can)."""
        if self.shell.commands is None:
            return "Editing needs the main window."
        if self.data is None:
            return "The run is still loading."
        if self.data.detail.info.lifecycle_stage == DELETED:
            return "This run is deleted: restore it to edit it."
        reason = self.shell.context.read_only_reason(self.store)
        return None if reason is None else f"This store is read-only: {reason}"

    def _update_editable(self) -> None:
        reason = self.edit_reason()
        self.overview.set_editable(reason)
        self.tags.set_editable(reason)

    def edit(self, command_id: str) -> None:
        """Run the window's edit command (``item.rename``…) on this run."""
        commands = self.shell.commands
        if commands is None or self.data is None:
            return
        self.shell.context.set_focus(self.selection())
        if not commands.trigger(command_id):
            self.status.emit(commands.reason(command_id) or "")

    # --- artifacts -------------------------------------------------------------------------------

    def _tab_changed(self, index: int) -> None:
        if self.evaluation is not None and self.tabs.widget(index) is self.evaluation:
            self.evaluation.start()
        if index == ARTIFACTS:
            self._ensure_artifacts()
            address = run_address(self.run_id, self.artifact_path)
        else:
            address = run_address(self.run_id)
        self._move_to(address)

    def _ensure_artifacts(self) -> None:
        if self.artifacts is not None:
            return
        self.artifacts = ArtifactsView(self.shell, self.store, self.run_id, self.artifact_path)
        self.artifacts_tab.layout().addWidget(self.artifacts)
        self.artifacts.path_changed.connect(self._artifact_path_changed)
        self.artifacts.status.connect(self.status.emit)
        self.artifacts.open_requested.connect(self.open_requested.emit)
        self.artifacts.host.shown.connect(self._artifact_on_screen)

    def _artifact_on_screen(self, _path: str) -> None:
        self._artifact_shown = True
        self._done("artifacts")

    def _artifact_path_changed(self, path: str) -> None:
        self.artifact_path = path
        if self.tabs.currentIndex() == ARTIFACTS:
            self._move_to(run_address(self.run_id, path))

    def show_artifact(self, path: str) -> None:
        """Switch to the Artifacts tab on ``path``."""
        self.artifact_path = path
        self.tabs.setCurrentIndex(ARTIFACTS)
        if self.artifacts is not None:
            self.artifacts.select_path(path)
        self._move_to(run_address(self.run_id, path))

    def _move_to(self, address: Address) -> None:
        if address != self.address:
            self.address = address
            self.address_changed.emit(address)

    # --- charts ----------------------------------------------------------------------------------

    def chart(self, keys: list[str]) -> None:
        """Chart these metrics of the run below the table (the hint when none)."""
        if not keys or self.data is None:
            self.chart_stack.setCurrentWidget(self.chart_hint)
            return
        info = self.data.detail.info
        run = ChartRun(
            info.run_id,
            info.run_name or short_id(info.run_id),
            DEFAULT_PALETTE[0],
            info.start_time,
            info.status == "RUNNING",
        )
        self.chart_stack.setCurrentWidget(self.charts)
        self.charts.set_selection(self.store, [run], keys)
