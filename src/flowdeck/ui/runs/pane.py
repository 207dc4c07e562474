"""The runs pane: filter bar, runs tree over RunsTreeModel, grouping, columns and CSV export."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QObject,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.runs_table import RunsTable
from flowdeck.store.base import Store
from flowdeck.ui.crash import failure_text
from flowdeck.ui.edit.run_ref import ACTIVE, DELETED, RunRef
from flowdeck.ui.runs.column_chooser import ColumnChooser
from flowdeck.ui.runs.column_layout import ColumnLayout, experiment_key
from flowdeck.ui.runs.filter_bar import FilterBar
from flowdeck.ui.runs.loading import RunsLoad, load_runs
from flowdeck.ui.runs.model import FLAT, GROUPED, TREE, RunsTreeModel
from flowdeck.ui.runs.view import RunsView
from flowdeck.ui.settings import Settings
from flowdeck.ui.tasks import TaskHandle, TaskRunner

LOAD_KEY = "runs"
EXPAND_UP_TO = 300  # nested runs start expanded in tables this small
NO_EXPERIMENT_TEXT = "Select one or more experiments in the sidebar."


class RunsPane(QWidget):
    """Shows the runs of the chosen experiments; loads off the GUI thread, newest request wins."""

    loaded = Signal(int)  # shown runs, after a load was applied
    load_failed = Signal(str)  # plain message
    loading_changed = Signal(bool)
    selection_changed = Signal(list)  # selected run ids
    message = Signal(str)  # short status-bar texts
    grouping_changed = Signal()  # the group-by column or the group metric changed
    hovered = Signal(object)  # run id under the mouse, None when it left the table
    filter_applied = Signal(str)  # the MLflow filter now applied ("" for none)
    activated = Signal(str, bool)  # run id opened (double-click / Enter), in a new tab

    def __init__(
        self, runner: TaskRunner, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.settings = settings
        self.store: Store | None = None
        self.experiment_ids: list[str] = []
        self.with_summaries = False
        self.last_load_seconds = 0.0
        self._artifact_uris: dict[str, str] = {}
        self._handle: TaskHandle | None = None
        self._keep_view = False
        self._mode_state: tuple[str, str | None, str | None] = (TREE, None, None)
        self._build()
        self.model.set_mode(TREE)
        self._width_timer = QTimer(self, singleShot=True, interval=500)
        self._width_timer.timeout.connect(self.save_layout)
        self._connect()
        self._show_text(NO_EXPERIMENT_TEXT)

    def _build(self) -> None:
        self.filter_bar = FilterBar(self, self.settings)
        self.model = RunsTreeModel(parent=self)
        self.view = RunsView(self)
        self.view.setModel(self.model)
        self.columns = ColumnLayout(self.view, self.model, self.settings)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setAllColumnsShowFocus(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        header = self.view.header()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the store's order at first
        header.setSectionsMovable(False)
        header.setStretchLastSection(False)
        self.view.setSortingEnabled(True)

        self.group_combo = QComboBox(self)
        self.group_combo.setToolTip("Show nested runs as a tree, a flat list, or group by a value")
        self.metric_combo = QComboBox(self)
        self.metric_combo.setToolTip("Metric summarised (mean, min, max) per group")
        self.columns_button = QToolButton(self, text="Columns…")
        self.columns_button.setToolTip("Choose, find and order the columns")
        self.export_button = QToolButton(self, text="Export CSV…")
        self.export_button.setToolTip("Save the selected runs, or the whole table, as CSV")
        self.count_label = QLabel(self)
        self.count_label.setTextFormat(Qt.TextFormat.PlainText)
        self._fill_group_combos()

        self.text_label = QLabel(self)
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        self.text_label.setWordWrap(True)
        self.text_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.view)
        self.pages.addWidget(self.text_label)

        tools = QHBoxLayout()
        tools.setContentsMargins(4, 0, 4, 0)
        tools.addWidget(self.group_combo)
        tools.addWidget(self.metric_combo)
        tools.addStretch(1)
        tools.addWidget(self.count_label)
        tools.addWidget(self.columns_button)
        tools.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.filter_bar)
        layout.addLayout(tools)
        layout.addWidget(self.pages, 1)

    def _connect(self) -> None:
        self.filter_bar.filter_changed.connect(lambda _text: self.reload(keep_view=False))
        self.filter_bar.view_changed.connect(lambda _view: self.reload(keep_view=False))
        self.filter_bar.name_search_changed.connect(self._name_search)
        self.filter_bar.statuses_changed.connect(self._statuses)
        self.filter_bar.filter_changed.connect(self.filter_applied.emit)
        self.group_combo.activated.connect(lambda _i: self._apply_mode())
        self.metric_combo.activated.connect(lambda _i: self._apply_mode())
        self.group_combo.activated.connect(lambda _i: self.grouping_changed.emit())
        self.metric_combo.activated.connect(lambda _i: self.grouping_changed.emit())
        self.view.setMouseTracking(True)
        self.view.entered.connect(lambda index: self.hovered.emit(self.model.run_id(index)))
        self.view.viewport().installEventFilter(self)
        self.view.activated.connect(self._activated)
        self.columns_button.clicked.connect(self.choose_columns)
        self.export_button.clicked.connect(self.export_dialog)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.header().sectionResized.connect(lambda *_args: self._width_timer.start())

    # --- loading -----------------------------------------------------------------------------

    @property
    def loading(self) -> bool:
        return self._handle is not None

    def set_source(self, store: Store | None, experiment_ids: list[str]) -> None:
        """Show the runs of these experiments (a new source clears the table, then loads)."""
        if store is self.store and list(experiment_ids) == self.experiment_ids:
            return
        self.save_layout()
        self.store, self.experiment_ids = store, list(experiment_ids)
        self.view.selectionModel().clear()
        self.model.set_table(RunsTable([], [], np.zeros(0, dtype=np.int64), []))
        self._artifact_uris = {}
        if store is None or not experiment_ids:
            self.cancel_load()
            self._show_text(NO_EXPERIMENT_TEXT)
            return
        self.filter_bar.set_history_key(f"{store.location}\n{experiment_key(self.experiment_ids)}")
        self.reload(keep_view=False)

    def reload(self, keep_view: bool = True) -> None:
        """Load again with the current filter and view; ``keep_view`` keeps selection and scroll."""
        if self.store is None or not self.experiment_ids:
            return
        self._keep_view = keep_view
        if not keep_view or self.model.rowCount() == 0:
            self._show_text("Loading runs…")
        self._handle = self.runner.submit(
            load_runs,
            self.store,
            self.experiment_ids,
            self.filter_bar.applied_filter(),
            self.filter_bar.view(),
            self.with_summaries,
            key=LOAD_KEY,
            owner=self,
            label="Loading runs",
            store=self.store,
            on_result=self._loaded,
            on_error=self._failed,
        )
        self.loading_changed.emit(True)

    def cancel_load(self) -> None:
        """Stop the running load; the table keeps what it showed."""
        if self._handle is None:
            return
        self._handle.cancel()
        self._handle = None
        self.loading_changed.emit(False)
        if self.model.rowCount() == 0:
            self._show_text("Loading was cancelled. Press F5 to load the runs again.")
        self.message.emit("Loading cancelled")

    def _loaded(self, result: RunsLoad) -> None:
        self._handle = None
        self.last_load_seconds = result.seconds
        top_run = self.model.run_id(self.view.indexAt(QPoint(2, 2))) if self._keep_view else None
        if not self._keep_view:
            self.view.selectionModel().clear()
        self._artifact_uris = result.artifact_uris
        table = result.table
        self.model.set_table(table)
        if self.store is not None:
            self.columns.apply(self.store.location, self.experiment_ids)
        self.place_tree_column()
        self._fill_group_combos()
        self.filter_bar.set_keys(table.keys("metric"), table.keys("param"), table.keys("tag"))
        expand = not self._keep_view and self.model.mode() == TREE and table.n_rows <= EXPAND_UP_TO
        hidden = self.pages.currentWidget() is not self.view
        if expand and not hidden:
            self.view.expandAll()
        if top_run is not None and (index := self.model.index_of_run(top_run)).isValid():
            self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
        elif not self._keep_view:
            self.view.scrollToTop()
        self._update_count()
        if table.n_rows == 0:
            self._show_text(self._empty_text())
            self._finish_load()
        elif not hidden:
            self._finish_load()
        else:
            # Expanding, laying out every row and the first paint each get an event-loop turn
            # of their own, so none adds to another's stall (each takes ~20 ms of a run
            # with 5,000 params).
            QTimer.singleShot(1, self._expand_hidden_view if expand else self._layout_hidden_view)

    def _expand_hidden_view(self) -> None:
        self.view.expandAll()
        QTimer.singleShot(1, self._layout_hidden_view)

    def _layout_hidden_view(self) -> None:
        self.view.doItemsLayout()
        QTimer.singleShot(1, self._show_view)

    def _show_view(self) -> None:
        self.pages.setCurrentWidget(self.view)
        self._finish_load()

    def _finish_load(self) -> None:
        self.loading_changed.emit(False)
        self.loaded.emit(self.model.table().n_rows)
        self._selection_changed()

    def _failed(self, error: BaseException, _details: str) -> None:
        self._handle = None
        self.loading_changed.emit(False)
        text = failure_text(error, "Loading the runs")
        self._show_text(text)
        self.load_failed.emit(text)

    def _empty_text(self) -> str:
        if self.filter_bar.applied_filter():
            return "No runs match the filter."
        return "No deleted runs." if self.filter_bar.view() == "deleted" else "No runs yet."

    def _show_text(self, text: str) -> None:
        self.text_label.setText(text)
        self.pages.setCurrentWidget(self.text_label)

    # --- state -------------------------------------------------------------------------------

    def has_running(self) -> bool:
        """True when a shown run is RUNNING (auto-refresh is worth it)."""
        table = self.model.table()
        return table.n_rows > 0 and bool(np.any(table.column("status").raw == "RUNNING"))

    def selected_run_ids(self) -> list[str]:
        return self.model.run_ids(self.view.selected_row_indexes())

    def selected_refs(self) -> list[RunRef]:
        """The selection as the edit actions need it."""
        table = self.model.table()
        lifecycle = DELETED if self.filter_bar.view() == "deleted" else ACTIVE
        refs = []
        for run_id in self.selected_run_ids():
            row = table.row_of(run_id)
            name = table.column("name").display[row] if row is not None else run_id
            refs.append(RunRef(run_id, name, self._artifact_uris.get(run_id), lifecycle))
        return refs

    def select_first(self, count: int) -> None:
        """Select the first ``count`` top-level rows and make the first one current."""
        rows = min(count, self.model.rowCount())
        selection = QItemSelection()
        if rows > 0:
            selection.select(self.model.index(0, 0), self.model.index(rows - 1, 0))
            self.view.setCurrentIndex(self.model.index(0, 0))
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.view.selectionModel().select(selection, flags)

    def _selection_changed(self, *_args: object) -> None:
        self.selection_changed.emit(self.selected_run_ids())
        self._update_count()

    def _update_count(self) -> None:
        shown = len(self.model.visible_rows()) if self.model.mode() == GROUPED else None
        total = self.model.table().n_rows
        text = f"{total} run{'s' * (total != 1)}"
        if shown is not None and shown != total:
            text = f"{shown} of {text}"
        selected = len(self.selected_run_ids())
        self.count_label.setText(f"{text}, {selected} selected" if selected else text)

    def _name_search(self, text: str) -> None:
        self.model.set_name_filter(text)
        self._update_count()

    def _statuses(self, statuses: set[str]) -> None:
        self.model.set_status_filter(statuses or None)
        self._update_count()

    def table(self) -> RunsTable:
        return self.model.table()

    def groups(self) -> Any:
        """The groups shown when the table is grouped by a value, else None."""
        return self.model.groups() if self.model.mode() == GROUPED else None

    def select_runs(self, run_ids: list[str]) -> None:
        """Select exactly these runs (those shown in the table)."""
        selection = QItemSelection()
        for run_id in run_ids:
            index = self.model.index_of_run(run_id)
            if index.isValid():
                selection.select(index, index)
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.view.selectionModel().select(selection, flags)

    def focus_run(self, run_id: str) -> bool:
        """Make ``run_id`` the current and only selected run and scroll to it."""
        index = self.model.index_of_run(run_id)
        if not index.isValid():
            return False
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        self.view.selectionModel().setCurrentIndex(index, flags)
        self.view.scrollTo(index)
        return True

    def _activated(self, index: Any) -> None:
        run_id = self.model.run_id(index)
        if run_id:
            modifiers = QApplication.keyboardModifiers()
            self.activated.emit(run_id, bool(modifiers & Qt.KeyboardModifier.ControlModifier))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Leave:
            self.hovered.emit(None)
        elif (
            event.type() == QEvent.Type.MouseButtonRelease
            and isinstance(event, QMouseEvent)
            and event.button() == Qt.MouseButton.MiddleButton
        ):
            run_id = self.model.run_id(self.view.indexAt(event.position().toPoint()))
            if run_id:
                self.activated.emit(run_id, True)
                return True
        return False

    # --- grouping ----------------------------------------------------------------------------

    def _fill_group_combos(self) -> None:
        table = self.model.table()
        current = self.group_combo.currentData()
        self.group_combo.clear()
        self.group_combo.addItem("Nested runs", (TREE, None))
        self.group_combo.addItem("Flat list", (FLAT, None))
        for kind, label in (("param", "param"), ("tag", "tag")):
            for key in table.keys(kind):
                prefix = "params" if kind == "param" else "tags"
                self.group_combo.addItem(f"Group by {label} {key}", (GROUPED, f"{prefix}.{key}"))
        found = self.group_combo.findData(current) if current is not None else -1
        self.group_combo.setCurrentIndex(max(found, 0))
        metric = self.metric_combo.currentData()
        self.metric_combo.clear()
        self.metric_combo.addItem("No group metric", None)
        for key in table.keys("metric"):
            self.metric_combo.addItem(f"Mean of {key}", key)
        self.metric_combo.setCurrentIndex(max(self.metric_combo.findData(metric), 0))
        self._apply_mode()

    def _apply_mode(self) -> None:
        mode, column = self.group_combo.currentData() or (TREE, None)
        self.metric_combo.setVisible(mode == GROUPED)
        if mode == GROUPED and not self.model.table().has_column(column):
            mode, column = TREE, None
        wanted = (mode, column, self.metric_combo.currentData() if mode == GROUPED else None)
        if wanted != self._mode_state or self.model.mode() != mode:
            self.model.set_mode(*wanted)
            self._mode_state = wanted
            if mode == GROUPED:
                self.view.expandAll()
        self._update_count()

    # --- columns -----------------------------------------------------------------------------

    def place_tree_column(self) -> None:
        """Expand arrows and indentation go into the Name column, leaving the swatch whole."""
        visible = self.model.visible_column_ids()
        self.view.setTreePosition(visible.index("name") if "name" in visible else 0)

    def save_layout(self) -> None:
        """Remember the columns (order, visibility, widths) of the shown experiments."""
        if self.store is not None and self.experiment_ids and self.model.table().n_rows:
            self.columns.save(self.store.location, self.experiment_ids)

    def choose_columns(self) -> ColumnChooser:
        """Open the column chooser; changes apply at once and are remembered per experiment."""
        store = self.store.location if self.store is not None else ""
        chooser = self.columns.choose(store, self.experiment_ids, self)
        chooser.layout_changed.connect(lambda _ids: self.place_tree_column())
        return chooser

    # --- export ------------------------------------------------------------------------------

    def export_dialog(self) -> None:
        selected = bool(self.selected_run_ids())
        what = "selected runs" if selected else "runs table"
        path, _ = QFileDialog.getSaveFileName(self, f"Export the {what}", "runs.csv", "CSV (*.csv)")
        if path:
            self.export_csv(path, selection_only=selected)

    def export_csv(self, path: str, selection_only: bool = False) -> TaskHandle:
        """Write the visible columns of the selection (or every shown row) to ``path`` as CSV."""
        table = self.model.table()
        if selection_only:
            found = (table.row_of(run_id) for run_id in self.selected_run_ids())
            rows = np.array([row for row in found if row is not None], dtype=np.int64)
        else:
            rows = self.model.visible_rows()
        columns = self.model.visible_column_ids()

        def write(_state: Any) -> int:
            table.to_csv(path, rows, columns)
            return len(rows)

        return self.runner.submit(
            write,
            on_result=lambda count: self.message.emit(f"Exported {count} runs to {path}"),
            on_error=lambda error, _tb: self.message.emit(f"Export failed: {error}"),
        )
