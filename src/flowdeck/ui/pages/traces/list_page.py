"""The ``traces/<experiment_id>`` page: every trace, paged from the store as the table scrolls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTableView,
)

from flowdeck.core.addresses import Address, experiment_address, run_address
from flowdeck.core.errors import FlowdeckError, InvalidFilter
from flowdeck.core.task_state import TaskState
from flowdeck.core.trace_export import info_record, span_record
from flowdeck.store.base import Store
from flowdeck.ui.edit.confirm import ConfirmChangesDialog
from flowdeck.ui.labels import plain_label
from flowdeck.ui.pages.overview_reads import missing_as
from flowdeck.ui.pages.overview_widgets import LinkButton, OverviewPage
from flowdeck.ui.pages.traces.list_model import (
    COLUMNS,
    RUN,
    SOURCE_RUN_KEY,
    TraceListModel,
    fetch_page,
)
from flowdeck.ui.pages.traces.tag_dialog import TraceTagDialog
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.shell.page_types import page_type

FILTER_HINT = (
    "Filter, e.g.  trace.status = 'ERROR'  or  span.name = 'retrieve'  or  "
    "tags.env = 'prod'  (Enter applies)"
)


def read_first_page(
    state: TaskState, store: Store, experiment_id: str, filter_string: str, order_by: tuple
) -> tuple[Any, list, str | None]:
    """The experiment and the first page of its traces (InvalidFilter for a bad filter)."""
    with missing_as(f"There is no experiment with ID {experiment_id} in {store.display_name}."):
        experiment = store.experiment(experiment_id)
    state.check()
    items, token = fetch_page(state, store, experiment_id, filter_string, order_by, None)
    return experiment, items, token


def check_filter(state: TaskState, store: Store, experiment_id: str, text: str) -> str:
    """Ask the store for one trace with the filter: an invalid one raises InvalidFilter."""
    store.search_traces([experiment_id], text, (), 1, None, state=state)
    return text


def export_traces(state: TaskState, store: Store, trace_ids: list[str], path: str) -> int:
    """Write the traces as a JSON list of MLflow's trace objects; returns how many."""
    records = []
    for number, trace_id in enumerate(trace_ids):
        state.progress(number, len(trace_ids), "Exporting traces")
        trace = store.trace(trace_id)
        spans = [span_record(span, trace_id) for span in trace.spans]
        records.append({"info": info_record(trace), "data": {"spans": spans}})
    Path(path).write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return len(records)


@page_type
class TracesPage(OverviewPage):
    """``traces/<experiment_id>[?filter=…]``: search, sort, group by session, tag, delete, export."""

    family = "traces"
    read_label = "Reading traces"

    def __init__(self, shell: Shell, store: Store, address: Address) -> None:
        super().__init__(shell, store, address)
        self.experiment_id = address.first_id
        self.set_title("Traces")
        self.set_heading("Traces")
        self.model = TraceListModel(shell.runner, store, self.experiment_id)
        self.model.page_arrived.connect(self._page_arrived)
        self.model.page_failed.connect(self._page_failed)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(5, Qt.SortOrder.DescendingOrder)
        header.sectionClicked.connect(self.sort_by)
        for column, width in enumerate((150, 120, 220, 160, 60, 140, 70, 70, 70, 60, 60, 100)):
            self.table.setColumnWidth(column, width)
        self.table.doubleClicked.connect(self._open)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.search = QLineEdit(address.filter)
        self.search.setPlaceholderText(FILTER_HINT)
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(self.apply_filter)
        self.group = QCheckBox("Group by session")
        self.group.setToolTip("Read every trace, then list each session's traces in order")
        self.group.toggled.connect(self._group_toggled)
        self.buttons: dict[str, QPushButton] = {}
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.group)
        for key, text, slot in (
            ("tag", "Tag…", self.tag_selected),
            ("delete", "Delete…", self.delete_selected),
            ("export", "Export…", self.export_dialog),
        ):
            button = QPushButton(text)
            button.clicked.connect(slot)
            bar.addWidget(button)
            self.buttons[key] = button
        self.filter_message = plain_label(wrap=True)
        self.filter_message.hide()
        self.count = plain_label()
        self.body_layout.addLayout(bar)
        self.body_layout.addWidget(self.filter_message)
        self.body_layout.addWidget(self.count)
        self.body_layout.addWidget(self.table, 1)
        self.active_dialog: QDialog | None = None
        shell.context.read_only_changed.connect(lambda *_: self._update_buttons())
        self._update_buttons()

    # --- reading ---------------------------------------------------------------------------------

    def start(self) -> None:
        self.read(
            read_first_page,
            self.experiment_id,
            self.address.filter,
            self._order_by(),
            on_result=self._show_first,
        )

    def _show_first(self, answer: tuple[Any, list, str | None]) -> None:
        experiment, items, token = answer
        name = experiment.name
        self.set_title(f"Traces — {name}")
        self.set_heading(f"Traces — {name}")
        self.set_facts(
            [
                ("Experiment", LinkButton(name, experiment_address([self.experiment_id]))),
                ("Filter", self.address.filter),
            ]
        )
        self.model.start_with(self.address.filter, self._order_by(), items, token)

    def _order_by(self) -> tuple[str, ...]:
        header = self.table.horizontalHeader()
        column = COLUMNS[header.sortIndicatorSection()]
        if not column.order_by:
            return ()
        ascending = header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
        return (f"{column.order_by} {'ASC' if ascending else 'DESC'}",)

    def _page_arrived(self, loaded: int) -> None:
        more = "" if self.model.exhausted else " (more load as you scroll)"
        noun = "trace" if loaded == 1 else "traces"
        if not loaded:
            self.count.setText(
                "No traces match the filter."
                if self.model.filter_string
                else "This experiment has no traces."
            )
        else:
            self.count.setText(f"{loaded:,} {noun}{more}")
        if self.group.isChecked():
            if self.model.exhausted:
                self._group_rows()
            else:
                self.model.fetchMore()

    def _page_failed(self, message: str) -> None:
        self.count.setText(message)

    def apply_filter(self) -> None:
        text = self.search.text().strip()
        self.shell.runner.submit(
            check_filter,
            self.store,
            self.experiment_id,
            text,
            owner=self,
            store=self.store,
            label="Checking the filter",
            on_result=self._filter_ok,
            on_error=self._filter_failed,
        )

    def _filter_ok(self, text: str) -> None:
        self.filter_message.hide()
        if text != self.address.filter:
            self.address = Address("traces", (self.experiment_id,), filter=text)
            self.address_changed.emit(self.address)
        self.set_facts(
            [
                (
                    "Experiment",
                    LinkButton(
                        self.heading.text().removeprefix("Traces — "),
                        experiment_address([self.experiment_id]),
                    ),
                ),
                ("Filter", text),
            ]
        )
        self.model.restart(text, self._order_by())

    def _filter_failed(self, error: BaseException, _details: str) -> None:
        message = error.message if isinstance(error, FlowdeckError) else str(error)
        if not isinstance(error, InvalidFilter):
            message = f"The traces could not be searched: {message}"
        self.filter_message.setText(message)  # the last good filter stays the address
        self.filter_message.show()

    # --- sorting and grouping --------------------------------------------------------------------

    def sort_by(self, column: int) -> None:
        """The store sorts when it can (and pages stay right); else the loaded rows are sorted."""
        self.group.setChecked(False)
        if COLUMNS[column].order_by:
            self.model.restart(self.model.filter_string, self._order_by())
            return
        descending = (
            self.table.horizontalHeader().sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
        )
        key = COLUMNS[column].sort
        self.model.set_rows(sorted(self.model.rows, key=key, reverse=descending))
        self.status.emit(f"Sorted the {len(self.model.rows):,} traces loaded so far")

    def _group_toggled(self, on: bool) -> None:
        if not on:
            self.model.restart(self.model.filter_string, self._order_by())
        elif self.model.exhausted:
            self._group_rows()
        else:
            self.count.setText("Reading every trace to group them by session…")
            self.model.fetchMore()

    def _group_rows(self) -> None:
        rows = sorted(
            self.model.rows,
            key=lambda i: (i.session_id is None, i.session_id or "", i.timestamp_ms),
        )
        self.model.set_rows(rows)
        sessions = len({i.session_id for i in rows if i.session_id})
        self.count.setText(f"{len(rows):,} traces in {sessions:,} sessions, each in order")

    # --- selection actions -----------------------------------------------------------------------

    def selected_ids(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.model.trace_at(row).trace_id for row in rows]

    def why_not(self, key: str) -> str | None:
        if not self.selected_ids():
            return "Select traces in the table first."
        if key != "export":
            return self.shell.context.read_only_reason(self.store)
        return None

    def _update_buttons(self) -> None:
        for key, button in self.buttons.items():
            reason = self.why_not(key)
            button.setEnabled(reason is None)
            button.setToolTip(reason or "")

    def _open(self, index: QModelIndex) -> None:
        info = self.model.trace_at(index.row())
        if index.column() == RUN and info.metadata.get(SOURCE_RUN_KEY):
            self.open_requested.emit(run_address(info.metadata[SOURCE_RUN_KEY]), False)
        else:
            self.open_requested.emit(Address("trace", (info.trace_id,)), False)

    def tag_selected(self) -> None:
        ids = self.selected_ids()
        if self.why_not("tag") or not ids:
            return
        dialog = TraceTagDialog(len(ids), self)
        self.active_dialog = dialog

        def finished(result: int) -> None:
            self.active_dialog = None
            dialog.deleteLater()
            if result == QDialog.DialogCode.Accepted:
                key, value = dialog.key(), dialog.value()
                self.shell.writes.write(
                    self.store,
                    lambda w: [w.set_trace_tag(trace_id, key, value) for trace_id in ids],
                    f"Tagged {len(ids)} traces {key}={value}",
                )

        dialog.finished.connect(finished)
        dialog.open()

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if self.why_not("delete") or not ids:
            return
        dialog = ConfirmChangesDialog(
            "Delete",
            "trace" if len(ids) == 1 else "traces",
            ids,
            "Their spans and assessments go with them. This cannot be undone.",
            self,
        )
        self.active_dialog = dialog
        experiment_id = self.experiment_id

        def finished(result: int) -> None:
            self.active_dialog = None
            dialog.deleteLater()
            if result == QDialog.DialogCode.Accepted:
                self.shell.writes.write(
                    self.store,
                    lambda w: w.delete_traces(experiment_id, ids),
                    f"Deleted {len(ids)} traces",
                )

        dialog.finished.connect(finished)
        dialog.open()

    def export_dialog(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export Traces", "traces.json", "JSON (*.json)")
        if path:
            self.export(ids, path)

    def export(self, ids: list[str], path: str) -> None:
        """Write the traces ``ids`` to ``path`` as a JSON list of MLflow trace objects."""
        self.shell.runner.submit(
            export_traces,
            self.store,
            ids,
            path,
            owner=self,
            store=self.store,
            label="Exporting traces",
            on_result=lambda count: self.status.emit(f"Saved {count} traces to {path}"),
            on_error=lambda error, _d: self.status.emit(
                f"Could not export the traces: {getattr(error, 'message', error)}"
            ),
        )

    def refresh(self) -> None:
        self.model.restart(self.model.filter_string, self._order_by())

    def shows(self, change: Any) -> bool:
        return change.kind == "trace"

    def apply_change(self, store: Store, change: Any) -> None:
        if store is self.store and self.shows(change):
            self.refresh()
