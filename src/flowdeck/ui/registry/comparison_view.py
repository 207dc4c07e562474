"""The current holder and the candidate side by side: metrics, differing params, signatures, effects."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.entities import ModelVersion
from flowdeck.core.promotion import CANDIDATE, HOLDER, MetricDiff
from flowdeck.core.text_format import format_time
from flowdeck.ui.labels import plain_label
from flowdeck.ui.registry.reads import PromoteState

BETTER = " ★"
LOWER_COLUMN = 4


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"


def _difference(value: float | None) -> str:
    return "—" if value is None else f"{value:+.6g}"


def version_text(version: ModelVersion | None) -> str:
    if version is None:
        return "none"
    parts = [f"v{version.version}", f"stage {version.current_stage}"]
    parts += [f"@{alias}" for alias in version.aliases]
    if version.creation_time:
        parts.append(format_time(version.creation_time))
    return " · ".join(parts)


def _item(text: str, tooltip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if tooltip:
        item.setToolTip(tooltip)
    return item


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return table


class ComparisonView(QWidget):
    """Shows one ``PromoteState``; toggling a metric's "lower is better" asks for a re-plan."""

    directions_changed = Signal(dict)  # metric key -> lower is better (the user's choices)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.directions: dict[str, bool] = {}
        self._filling = False
        self.sides_label = plain_label(wrap=True)
        self.metrics_table = _table(
            ["Metric", "Holder", "Candidate", "Difference", "Lower is better"]
        )
        self.metrics_table.itemChanged.connect(self._direction_toggled)
        self.params_table = _table(["Param that differs", "Holder", "Candidate"])
        self.signature_label = plain_label(wrap=True)
        self.notes_label = plain_label(wrap=True)
        self.effects_label = plain_label(wrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.sides_label)
        layout.addWidget(self.metrics_table, 3)
        layout.addWidget(self.params_table, 2)
        layout.addWidget(_heading("Signature"))
        layout.addWidget(self.signature_label)
        layout.addWidget(self.notes_label)
        layout.addWidget(_heading("What promoting does"))
        layout.addWidget(self.effects_label)

    def clear(self, text: str) -> None:
        self.sides_label.setText(text)
        self.metrics_table.setRowCount(0)
        self.params_table.setRowCount(0)
        for label in (self.signature_label, self.notes_label, self.effects_label):
            label.setText("")

    def show_state(self, state: PromoteState) -> None:
        plan, comparison = state.plan, state.comparison
        if plan is None or comparison is None:
            self.clear(state.problem or "Nothing to compare.")
            return
        holder_name = f"v{state.holder.version} · holder" if state.holder else "no holder"
        candidate_name = f"v{plan.candidate.version} · candidate"
        self.sides_label.setText(
            f"Current holder of {plan.target.label}: {version_text(state.holder)}\n"
            f"Candidate: {version_text(plan.candidate)}"
        )
        self._fill_metrics(comparison.metrics, holder_name, candidate_name)
        self.params_table.setHorizontalHeaderLabels(
            ["Param that differs", holder_name, candidate_name]
        )
        self.params_table.setRowCount(len(comparison.params))
        for row, param in enumerate(comparison.params):
            for column, text in enumerate((param.key, param.holder, param.candidate)):
                shown = "—" if text is None else text
                self.params_table.setItem(row, column, _item(shown, shown))
        signature = comparison.signature
        self.signature_label.setText(
            "\n".join([signature.summary, *(f"• {change}" for change in signature.changes)])
        )
        self.notes_label.setText("\n".join(comparison.notes))
        self.notes_label.setVisible(bool(comparison.notes))
        effects = [f"• {effect}" for effect in plan.effects]
        if plan.problem:
            effects.append(f"Problem: {plan.problem}")
        self.effects_label.setText("\n".join(effects))

    def _fill_metrics(self, metrics: tuple[MetricDiff, ...], holder: str, candidate: str) -> None:
        self._filling = True
        table = self.metrics_table
        table.setHorizontalHeaderLabels(
            ["Metric", holder, candidate, "Difference", "Lower is better"]
        )
        table.setRowCount(len(metrics))
        for row, metric in enumerate(metrics):
            table.setItem(row, 0, _item(metric.key, metric.key))
            holder_text = _number(metric.holder) + (BETTER if metric.better == HOLDER else "")
            candidate_text = _number(metric.candidate) + (
                BETTER if metric.better == CANDIDATE else ""
            )
            table.setItem(row, 1, _item(holder_text))
            table.setItem(row, 2, _item(candidate_text))
            table.setItem(row, 3, _item(_difference(metric.difference)))
            toggle = QTableWidgetItem()
            toggle.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            toggle.setData(Qt.ItemDataRole.UserRole, metric.key)
            checked = Qt.CheckState.Checked if metric.lower_is_better else Qt.CheckState.Unchecked
            toggle.setCheckState(checked)
            toggle.setToolTip("Tick when a lower value of this metric is better.")
            table.setItem(row, LOWER_COLUMN, toggle)
        self._filling = False

    def _direction_toggled(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != LOWER_COLUMN:
            return
        key = str(item.data(Qt.ItemDataRole.UserRole))
        self.directions[key] = item.checkState() == Qt.CheckState.Checked
        self.directions_changed.emit(dict(self.directions))

    def metric_cells(self, key: str) -> tuple[str, str, str, str] | None:
        """The holder, candidate, difference and direction texts shown for ``key``."""
        table = self.metrics_table
        for row in range(table.rowCount()):
            if table.item(row, 0).text() == key:
                lower = table.item(row, LOWER_COLUMN).checkState() == Qt.CheckState.Checked
                cells = [table.item(row, column).text() for column in (1, 2, 3)]
                return cells[0], cells[1], cells[2], "lower" if lower else "higher"
        return None


def _heading(text: str) -> QLabel:
    label = plain_label(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label
