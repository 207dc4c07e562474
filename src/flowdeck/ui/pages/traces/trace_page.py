"""The ``trace/<trace_id>`` page: the span tree with a timeline, filters, and the span's detail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
)

from flowdeck.core.addresses import Address, experiment_address, run_address
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import format_millis, format_time
from flowdeck.core.trace_export import trace_json
from flowdeck.core.trace_view import SpanFilter, filter_keep, next_error, span_json
from flowdeck.store.base import Store
from flowdeck.ui.pages.overview_reads import TraceView, read_trace, trace_label
from flowdeck.ui.pages.overview_widgets import LinkButton, OverviewPage
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import page_type
from flowdeck.ui.traces.assessments import AssessmentsPanel
from flowdeck.ui.traces.span_detail import SpanDetail
from flowdeck.ui.traces.span_model import (
    DURATION,
    NAME,
    SPAN_ROLE,
    STATUS,
    TIMELINE,
    TOKENS,
    SpanTreeModel,
    TimelineDelegate,
)
from flowdeck.ui.traces.span_view import SpanTreeView

SOURCE_RUN_KEY = "mlflow.sourceRun"
ALL_TYPES, ALL_STATUSES = "All types", "Any status"
STATUSES = ("OK", "ERROR", "UNSET")
SMALL_TREE = 2_000  # expanded fully when it has at most this many spans
ALL_LEVELS = 1 << 30  # expand_depth: every level


def write_export(state: TaskState, view: TraceView, path: str) -> str:
    """Write the trace as MLflow's JSON to ``path`` (on a worker); returns the path."""
    state.check()
    Path(path).write_text(trace_json(view.trace), encoding="utf-8")
    return path


def apply_filter(
    state: TaskState, view: TraceView, span_filter: SpanFilter
) -> tuple[np.ndarray | None, int]:
    """(which spans to keep — None: all —, match count) of the filter, on a worker."""
    keep, matched = filter_keep(view.tree, span_filter, state)
    return (None if keep is None else np.frombuffer(keep, dtype=np.bool_)), matched


@page_type
class TracePage(OverviewPage):
    """``trace/<trace_id>``: a span tree with a timeline column and the selected span's detail."""

    family = "trace"
    read_label = "Reading the trace"

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.trace_id = address.first_id
        self.view: TraceView | None = None
        self.set_title(self.trace_id)
        self.model = SpanTreeModel(self)
        self.tree = SpanTreeView()
        self.tree.setModel(self.model)
        self.tree.setItemDelegateForColumn(TIMELINE, TimelineDelegate(self.model, self.tree))
        header = self.tree.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in ((NAME, 280), (STATUS, 60), (DURATION, 80), (TOKENS, 110)):
            self.tree.setColumnWidth(column, width)
        self.tree.selectionModel().currentChanged.connect(self._current_changed)
        self.detail = SpanDetail()
        self.search = QLineEdit(placeholderText="Filter spans by name", clearButtonEnabled=True)
        self.search.returnPressed.connect(self.refilter)
        self.search.textChanged.connect(lambda text: self.refilter() if not text else None)
        self.type_box = QComboBox()
        self.type_box.addItem(ALL_TYPES)
        self.status_box = QComboBox()
        self.status_box.addItems([ALL_STATUSES, *STATUSES])
        self.type_box.currentIndexChanged.connect(self.refilter)
        self.status_box.currentIndexChanged.connect(self.refilter)
        self.depth = QSpinBox(minimum=0, maximum=99, value=2, prefix="Depth ")
        self.depth.setToolTip("Expand the tree to this depth")
        self.buttons: dict[str, QPushButton] = {}
        bar = QHBoxLayout()
        bar.addWidget(self.search, 2)
        bar.addWidget(self.type_box)
        bar.addWidget(self.status_box)
        for key, text, slot, tip in (
            ("expand", "Expand All", self.expand_all, "Expand every span"),
            ("collapse", "Collapse All", self.tree.collapseAll, "Show only the top spans"),
            ("depth", "Expand to", self.expand_to_depth, "Expand to the chosen depth"),
            (
                "error",
                "Next Error",
                self.select_next_error,
                "Select the next span that failed (F8)",
            ),
            ("copy", "Copy Span", self.copy_span, "Copy the selected span as JSON"),
            ("export", "Export Trace…", self.export_dialog, "Save the trace as MLflow's JSON"),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            self.buttons[key] = button
            if key == "error":
                bar.addWidget(self.depth)
            bar.addWidget(button)
        QShortcut(QKeySequence("F8"), self, activated=self.select_next_error)
        self.assessments = AssessmentsPanel(shell, store)
        self.left = QTabWidget()
        self.left.addTab(self.tree, "Spans")
        self.left.addTab(self.assessments, "Assessments")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.left)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.body_layout.addLayout(bar)
        self.body_layout.addWidget(splitter, 1)
        self.match_note = ""

    def start(self) -> None:
        self.read(read_trace, self.trace_id, on_result=self._show)

    # --- showing ---------------------------------------------------------------------------------

    def _show(self, view: TraceView) -> None:
        self.view = view
        info, tree = view.trace.info, view.tree
        self.set_title(trace_label(info))
        self.set_heading(trace_label(info))
        experiment = LinkButton(
            view.experiment_name or f"Experiment {info.experiment_id}",
            experiment_address([info.experiment_id]),
        )
        source_run = info.metadata.get(SOURCE_RUN_KEY, "")
        run: LinkButton | str = (
            LinkButton(source_run, run_address(source_run)) if source_run else ""
        )
        tokens = ", ".join(f"{key} {value:,}" for key, value in sorted(info.token_usage.items()))
        self.set_facts(
            [
                ("Trace ID", info.trace_id),
                ("Experiment", experiment),
                ("Run", run),
                ("State", info.status),
                ("Started", format_time(info.timestamp_ms)),
                ("Duration", format_millis(info.execution_time_ms)),
                ("Spans", f"{len(tree):,}"),
                ("Session", info.session_id or ""),
                ("Tokens", tokens),
            ]
        )
        # everything that walks all the spans was done by the worker (read_trace)
        self.type_box.blockSignals(True)
        self.type_box.clear()
        self.type_box.addItem(ALL_TYPES)
        self.type_box.addItems(list(view.facts.span_types))
        self.type_box.blockSignals(False)
        depth = ALL_LEVELS if len(tree) <= SMALL_TREE else 1
        self.model.set_tree(tree, view.arrays, view.critical, expand_depth=depth)
        if tree.roots:
            self.select_span(tree.roots[0])
        self.buttons["error"].setEnabled(view.facts.has_error)
        self.assessments.show_trace(view.trace, view.facts.names)
        self.left.setTabText(1, f"Assessments ({len(view.trace.assessments)})")

    def span_filter(self) -> SpanFilter:
        types = (
            frozenset()
            if self.type_box.currentIndex() <= 0
            else frozenset({self.type_box.currentText()})
        )
        status = self.status_box.currentText()
        statuses = frozenset() if status == ALL_STATUSES else frozenset({status})
        return SpanFilter(self.search.text(), types, statuses)

    def refilter(self) -> None:
        """Apply the name, type and status filters (computed on a worker)."""
        if self.view is None:
            return
        self.shell.runner.submit(
            apply_filter,
            self.view,
            self.span_filter(),
            key="filter",
            owner=self,
            label="Filtering spans",
            on_result=self._filtered,
        )

    def _filtered(self, answer: tuple[np.ndarray | None, int]) -> None:
        keep, matched = answer
        span = self.selected_span()
        self.model.set_filter(keep, ALL_LEVELS if keep is not None else 1)
        self.match_note = f"{matched:,} matching spans" if keep is not None else ""
        if span is not None:  # still selected, its ancestors expanded (unless filtered out)
            self.select_span(span)
        self.status.emit(self.match_note or f"{len(self.view.tree):,} spans")

    # --- navigation ------------------------------------------------------------------------------

    def select_span(self, span: int) -> None:
        """Select span ``span`` (its ancestors expanded); nothing when the filter hides it."""
        if self.model.reveal(span):
            self.tree.set_current_span(span)

    def selected_span(self) -> int | None:
        return self.tree.current_span()

    def _current_changed(self, current: Any, _previous: Any) -> None:
        span = current.data(SPAN_ROLE) if current.isValid() else None
        if span is None or self.view is None:
            self.detail.show_span(None, None)
            return
        tree = self.view.tree
        self.detail.show_span(tree.spans[span], tree.duration_ns[span])
        self.assessments.selected_span = (tree.spans[span].span_id, tree.spans[span].name)

    def expand_all(self) -> None:
        """Expand every span (every one shows: the view lays out nothing per row)."""
        self.tree.expandAll()

    def expand_to_depth(self) -> None:
        self.tree.expandToDepth(self.depth.value() - 1)

    def select_next_error(self) -> None:
        if self.view is None:
            return
        found = next_error(self.view.tree, self.selected_span())
        if found is None:
            self.status.emit("No span of this trace failed.")
            return
        if not self.model.is_kept(found):  # hidden by the filter: show everything
            self.search.clear()
            self.type_box.setCurrentIndex(0)
            self.status_box.setCurrentIndex(0)
            self.model.set_filter(None, 1)
        self.select_span(found)

    # --- copy and export -------------------------------------------------------------------------

    def copy_span(self) -> None:
        span = self.selected_span()
        if span is None or self.view is None:
            return
        QGuiApplication.clipboard().setText(span_json(self.view.tree.spans[span]))
        self.status.emit("Copied the span as JSON")

    def export_dialog(self) -> None:
        if self.view is None:
            return
        name = f"{self.trace_id}.json"
        path, _ = QFileDialog.getSaveFileName(self, "Export Trace", name, "JSON (*.json)")
        if path:
            self.export(path)

    def export(self, path: str) -> None:
        """Save the trace as MLflow's JSON to ``path`` (on a worker)."""
        if self.view is None:
            return
        self.shell.runner.submit(
            write_export,
            self.view,
            path,
            owner=self,
            label="Exporting the trace",
            on_result=lambda written: self.status.emit(f"Saved the trace to {written}"),
            on_error=lambda error, _details: self.status.emit(
                f"Could not save the trace: {getattr(error, 'message', error)}"
            ),
        )

    def shows(self, change: Any) -> bool:
        return change.kind == "trace" and self.trace_id in change.ids
