"""The ``trace/<trace_id>`` page: the span tree with a timeline, filters, and the span's detail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QTreeView,
)

from flowdeck.core.addresses import Address, experiment_address, run_address
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import format_millis, format_time
from flowdeck.core.trace_export import trace_json
from flowdeck.core.trace_tree import expansion_depth, sibling_rows
from flowdeck.core.trace_view import (
    SPAN_TYPES,
    SpanFilter,
    filtered_children,
    next_error,
    span_json,
)
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

SOURCE_RUN_KEY = "mlflow.sourceRun"
ALL_TYPES, ALL_STATUSES = "All types", "Any status"
STATUSES = ("OK", "ERROR", "UNSET")
SMALL_TREE = 2_000  # expanded fully when it has at most this many spans
MAX_ROWS = 10_000  # Expand All stops at the level beyond which Qt would lay out more rows


def write_export(state: TaskState, view: TraceView, path: str) -> str:
    """Write the trace as MLflow's JSON to ``path`` (on a worker); returns the path."""
    state.check()
    Path(path).write_text(trace_json(view.trace), encoding="utf-8")
    return path


def apply_filter(state: TaskState, view: TraceView, span_filter: SpanFilter) -> tuple:
    """(roots, children, match count, sibling rows) of the filtered tree, on a worker."""
    roots, children, matched = filtered_children(view.tree, span_filter, state)
    return roots, children, matched, sibling_rows(len(view.tree), roots, children)


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
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setItemDelegateForColumn(TIMELINE, TimelineDelegate(self.model, self.tree))
        header = self.tree.header()
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
        present = {span.span_type for span in tree.spans}
        self.type_box.blockSignals(True)
        self.type_box.clear()
        self.type_box.addItem(ALL_TYPES)
        self.type_box.addItems(
            [t for t in SPAN_TYPES if t in present] + sorted(present - set(SPAN_TYPES))
        )
        self.type_box.blockSignals(False)
        self.model.set_tree(tree)
        if len(tree) <= SMALL_TREE:
            self.tree.expandAll()
        else:
            self.tree.expandToDepth(1)
        if tree.roots:
            self.select_span(tree.roots[0])
        self.buttons["error"].setEnabled(any(s.status == "ERROR" for s in tree.spans))
        self.assessments.show_trace(view.trace)
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

    def _filtered(self, answer: tuple) -> None:
        roots, children, matched, row_of = answer
        self.model.set_visible(roots, children, row_of)
        if self.span_filter().active:
            self.expand_all(quiet=True)
            self.match_note = f"{matched:,} matching spans"
        else:
            self.match_note = ""
            self.tree.expandToDepth(1)
        self.status.emit(self.match_note or f"{len(self.view.tree):,} spans")

    # --- navigation ------------------------------------------------------------------------------

    def select_span(self, span: int) -> None:
        """Select span ``span`` (its ancestors expanded); nothing when the filter hides it."""
        index = self.model.index_of(span)
        if not index.isValid():
            return
        parent = index.parent()
        chain = []
        while parent.isValid():
            chain.append(parent)
            parent = parent.parent()
        for ancestor in reversed(chain):
            self.tree.expand(ancestor)
        self.tree.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.tree.scrollTo(index)

    def selected_span(self) -> int | None:
        index = self.tree.currentIndex()
        return index.data(SPAN_ROLE) if index.isValid() else None

    def _current_changed(self, current: Any, _previous: Any) -> None:
        span = current.data(SPAN_ROLE) if current.isValid() else None
        if span is None or self.view is None:
            self.detail.show_span(None, None)
            return
        tree = self.view.tree
        self.detail.show_span(tree.spans[span], tree.duration_ns[span])
        self.assessments.selected_span = (tree.spans[span].span_id, tree.spans[span].name)

    def expand_all(self, quiet: bool = False) -> None:
        """Expand every span, or as deep as ``MAX_ROWS`` rows allow (Qt lays out every row)."""
        self._expand(self.view.tree.max_depth if self.view is not None else 0, quiet)

    def expand_to_depth(self) -> None:
        self.tree.collapseAll()
        if self.depth.value() > 0:
            self._expand(self.depth.value() - 1, quiet=False)

    def _expand(self, wanted: int, quiet: bool) -> None:
        depth, rows, complete = expansion_depth(self.model.roots, self.model.children, MAX_ROWS)
        if complete or wanted <= depth:
            self.tree.expandToDepth(wanted)
            return
        if depth >= 0:
            self.tree.expandToDepth(depth)
        if not quiet:
            self.status.emit(
                f"Expanded {depth + 1} levels ({rows:,} rows): expand a span or filter to see "
                "deeper ones (showing every span at once would freeze the window)."
            )

    def select_next_error(self) -> None:
        if self.view is None:
            return
        found = next_error(self.view.tree, self.selected_span())
        if found is None:
            self.status.emit("No span of this trace failed.")
            return
        if not self.model.index_of(found).isValid():  # hidden by the filter: show everything
            self.search.clear()
            self.type_box.setCurrentIndex(0)
            self.status_box.setCurrentIndex(0)
            tree = self.view.tree
            self.model.set_visible(tree.roots, tree.children, tree.row or None)
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
