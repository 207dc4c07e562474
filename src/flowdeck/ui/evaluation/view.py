"""An evaluation run's rows × judges with pass rates, failures only on request, rows → traces."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.addresses import Address
from flowdeck.core.evaluation import EvaluationRow, EvaluationTable
from flowdeck.store.base import Store
from flowdeck.ui.evaluation.reads import read_evaluation
from flowdeck.ui.labels import plain_label
from flowdeck.ui.runs.decorations import escaped_tooltip

PASS_COLOUR, FAIL_COLOUR = QColor("#2e7d32"), QColor("#c62828")
TRACE_ROLE = Qt.ItemDataRole.UserRole + 2
NO_EVALUATION = (
    "This run has no evaluation results: none of its traces carries a judge's verdict "
    "(runs of mlflow.genai.evaluate do)."
)


class EvaluationView(QWidget):
    """Reads the run's judged traces on a worker when first shown; double-click opens a trace."""

    open_requested = Signal(object, bool)  # Address, in a new tab
    loaded = Signal()

    def __init__(self, runner: Any, store: Store, experiment_id: str, run_id: str) -> None:
        super().__init__()
        self.runner, self.store = runner, store
        self.experiment_id, self.run_id = experiment_id, run_id
        self.table_data: EvaluationTable | None = None
        self.summary = plain_label(wrap=True)
        self.failures_only = QCheckBox("Only rows that failed")
        self.failures_only.toggled.connect(self._fill)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellDoubleClicked.connect(self._open_row)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.failures_only)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.summary.setText("Reading the evaluation…")
        self.started = False

    def start(self) -> None:
        if self.started:
            return
        self.started = True
        self.runner.submit(
            read_evaluation,
            self.store,
            self.experiment_id,
            self.run_id,
            owner=self,
            store=self.store,
            label="Reading the evaluation",
            on_result=self._show,
            on_error=lambda error, _d: self._failed(getattr(error, "message", str(error))),
        )

    def _failed(self, text: str) -> None:
        self.summary.setText(f"The evaluation could not be read: {text}")
        self.loaded.emit()

    def _show(self, table: EvaluationTable) -> None:
        self.table_data = table
        if not table.judges:
            self.summary.setText(NO_EVALUATION)
            self.failures_only.hide()
            self.table.hide()
        else:
            failed = sum(1 for row in table.rows if row.failed)
            self.summary.setText(
                f"{len(table.rows)} rows, {failed} with a failure. Pass rates: {table.rate_text()}"
            )
            self._fill()
        self.loaded.emit()

    def visible_rows(self) -> list[EvaluationRow]:
        if self.table_data is None:
            return []
        rows = list(self.table_data.rows)
        return [row for row in rows if row.failed] if self.failures_only.isChecked() else rows

    def _fill(self) -> None:
        if self.table_data is None:
            return
        judges = self.table_data.judges
        headers = ["Request", "Response", *judges, "Expectations"]
        rows = self.visible_rows()
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(rows))
        for number, row in enumerate(rows):
            expectations = "; ".join(f"{k}={v}" for k, v in sorted(row.expectations.items()))
            cells: list[tuple[str, Any]] = [(row.request, None), (row.response, None)]
            cells += [
                (row.verdicts[j].text() if j in row.verdicts else "", row.verdicts.get(j))
                for j in judges
            ]
            cells.append((expectations, None))
            for column, (text, verdict) in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(TRACE_ROLE, row.trace_id)
                if verdict is not None:
                    if verdict.passed is not None:
                        item.setForeground(QBrush(PASS_COLOUR if verdict.passed else FAIL_COLOUR))
                    why = verdict.error or verdict.rationale
                    if why:
                        item.setToolTip(escaped_tooltip(why))
                self.table.setItem(number, column, item)
        self.table.resizeColumnsToContents()
        for column in (0, 1):
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), 320))

    def _open_row(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.open_requested.emit(Address("trace", (item.data(TRACE_ROLE),)), False)
