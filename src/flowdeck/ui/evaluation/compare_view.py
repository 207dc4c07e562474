"""Two evaluation runs row by row: which requests changed verdict, judge by judge."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.addresses import Address
from flowdeck.core.evaluation import EvaluationTable, VerdictChange, compare_evaluations
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.ui.evaluation.reads import read_evaluation
from flowdeck.ui.labels import plain_label

HEADERS = ("Request", "Judge", "Before", "After", "Change")
KIND_COLOURS = {"fixed": "#2e7d32", "broke": "#c62828"}
TRACE_ROLE = Qt.ItemDataRole.UserRole + 2


def read_both(
    state: TaskState, store: Store, runs: tuple[tuple[str, str], tuple[str, str]]
) -> tuple[EvaluationTable, EvaluationTable]:
    """Both runs' evaluation tables; ``runs`` are (experiment id, run id) pairs."""
    (first_experiment, first), (second_experiment, second) = runs
    return (
        read_evaluation(state, store, first_experiment, first),
        read_evaluation(state, store, second_experiment, second),
    )


class EvaluationCompare(QWidget):
    """Read when first shown; double-click opens the row's trace of the second run."""

    open_requested = Signal(object, bool)
    loaded = Signal()

    def __init__(self, runner: Any, store: Store) -> None:
        super().__init__()
        self.runner, self.store = runner, store
        self.runs: tuple[tuple[str, str], tuple[str, str]] | None = None
        self.names = ("first run", "second run")
        self.changes: list[VerdictChange] = []
        self.summary = plain_label("Reading both evaluations…", wrap=True)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.cellDoubleClicked.connect(self._open_row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.started = False

    def set_runs(
        self, runs: tuple[tuple[str, str], tuple[str, str]], names: tuple[str, str]
    ) -> None:
        if runs != self.runs:
            self.runs, self.names, self.started = runs, names, False

    def start(self) -> None:
        if self.started or self.runs is None:
            return
        self.started = True
        self.runner.submit(
            read_both,
            self.store,
            self.runs,
            owner=self,
            store=self.store,
            label="Reading both evaluations",
            on_result=self._show,
            on_error=lambda error, _d: self._say(
                f"The evaluations could not be read: {getattr(error, 'message', error)}"
            ),
        )

    def _say(self, text: str) -> None:
        self.summary.setText(text)
        self.loaded.emit()

    def _show(self, tables: tuple[EvaluationTable, EvaluationTable]) -> None:
        before, after = tables
        if not before.judges and not after.judges:
            self.table.hide()
            self._say("Neither run has evaluation results (judged traces) to compare.")
            return
        self.changes = compare_evaluations(before, after)
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.kind] = counts.get(change.kind, 0) + 1
        parts = [f"{n} {kind}" for kind, n in sorted(counts.items())] or ["no verdict changed"]
        self.summary.setText(
            f"{self.names[0]} → {self.names[1]}: {', '.join(parts)}. "
            f"Before: {before.rate_text() or 'no pass/fail'}. After: {after.rate_text() or 'no pass/fail'}."
        )
        self.table.setRowCount(len(self.changes))
        for row, change in enumerate(self.changes):
            cells = (
                change.request,
                change.judge,
                change.before.text() if change.before else "—",
                change.after.text() if change.after else "—",
                change.kind,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(TRACE_ROLE, change.trace_after or change.trace_before)
                colour = KIND_COLOURS.get(change.kind)
                if colour and column == 4:
                    item.setForeground(QBrush(QColor(colour)))
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(0, min(self.table.columnWidth(0), 360))
        self.loaded.emit()

    def _open_row(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is not None and item.data(TRACE_ROLE):
            self.open_requested.emit(Address("trace", (item.data(TRACE_ROLE),)), False)
