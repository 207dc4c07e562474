"""A trace's assessments (feedback, expectations) with add, override and delete, as a tab."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.entities import Assessment, Trace
from flowdeck.core.text_format import format_time
from flowdeck.store.base import Store
from flowdeck.ui.edit.confirm import ConfirmChangesDialog
from flowdeck.ui.labels import plain_label
from flowdeck.ui.shell.page import Shell
from flowdeck.ui.traces.assessment_dialog import (
    EXPECTATION,
    FEEDBACK,
    OVERRIDE,
    AssessmentDialog,
)

HEADERS = ("Name", "Kind", "Value", "Source", "Span", "Rationale", "Error", "Created", "State")
JUDGES = ("LLM_JUDGE", "CODE")


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def state_text(assessment: Assessment, overridden: set[str]) -> str:
    if assessment.assessment_id in overridden or not assessment.valid:
        return "overridden"
    return f"overrides {assessment.overrides}" if assessment.overrides else ""


class AssessmentsPanel(QWidget):
    """The table of assessments and the buttons that write new ones through the write path."""

    def __init__(self, shell: Shell, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shell, self.store = shell, store
        self.trace: Trace | None = None
        self.span_names: dict[str, str] = {}
        self.selected_span: tuple[str, str] | None = None  # (span id, name) in the tree
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self.update_buttons)
        self.note = plain_label(wrap=True)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, text in (
            ("feedback", "Add Feedback…"),
            ("expectation", "Add Expectation…"),
            ("override", "Override…"),
            ("delete", "Delete…"),
        ):
            button = QPushButton(text)
            button.clicked.connect(lambda _c=False, k=key: self.act(k))
            row.addWidget(button)
            self.buttons[key] = button
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        self.dialog: QDialog | None = None
        shell.context.read_only_changed.connect(lambda *_: self.update_buttons())

    def show_trace(self, trace: Trace, span_names: dict[str, str] | None = None) -> None:
        """Show the trace's assessments; ``span_names`` (span id → name) must cover the spans
        they refer to (computed here, over every span, when not given)."""
        self.trace = trace
        if span_names is None:
            wanted = {a.span_id for a in trace.assessments if a.span_id}
            span_names = {s.span_id: s.name for s in trace.spans if s.span_id in wanted}
        self.span_names = span_names
        assessments = trace.assessments
        overridden = {a.overrides for a in assessments if a.overrides}
        self.table.setRowCount(len(assessments))
        for row, assessment in enumerate(assessments):
            source = ": ".join(filter(None, [assessment.source_type, assessment.source_id]))
            span = self.span_names.get(assessment.span_id or "", "") or (
                "" if not assessment.span_id else assessment.span_id
            )
            error = ""
            if assessment.error:
                error = str(assessment.error.get("error_message") or assessment.error)
            cells = (
                assessment.name,
                assessment.kind,
                value_text(assessment.value),
                source,
                span or "the trace",
                assessment.rationale or "",
                error,
                format_time(assessment.created_time),
                state_text(assessment, overridden),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)  # plain text: items never interpret markup
                item.setData(256, assessment.assessment_id)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.note.setText(
            "" if assessments else "No assessments yet: add feedback or an expectation."
        )
        self.note.setVisible(not assessments)
        self.update_buttons()

    def selected(self) -> Assessment | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or self.trace is None:
            return None
        return self.trace.assessments[rows[0].row()]

    def why_not(self, key: str) -> str | None:
        reason = self.shell.context.read_only_reason(self.store)
        if reason:
            return reason
        if self.trace is None:
            return "Reading the trace…"
        chosen = self.selected()
        if key == "override":
            if chosen is None or chosen.kind != "feedback":
                return "Select a feedback (an LLM judge's verdict, say) to override it."
            return None
        if key == "delete" and chosen is None:
            return "Select an assessment to delete it."
        return None

    def update_buttons(self) -> None:
        for key, button in self.buttons.items():
            reason = self.why_not(key)
            button.setEnabled(reason is None)
            button.setToolTip(reason or "")

    def act(self, key: str) -> None:
        if self.why_not(key) is not None or self.trace is None:
            return
        trace_id = self.trace.info.trace_id
        if key == "delete":
            self._delete(trace_id, self.selected())
            return
        span_id, span_name = self.selected_span or (None, "")
        if key == OVERRIDE:
            chosen = self.selected()
            target = (
                f"Override {chosen.name} = {value_text(chosen.value)} from {chosen.source_type}"
            )
            dialog = AssessmentDialog(OVERRIDE, target, chosen.name, self)
        else:
            where = f"span {span_name}" if span_id else "the whole trace"
            dialog = AssessmentDialog(key, f"On {where}", "", self)
        self.dialog = dialog

        def finished(result: int) -> None:
            self.dialog = None
            dialog.deleteLater()
            if result != QDialog.DialogCode.Accepted:
                return
            name, value, why = dialog.name(), dialog.value(), dialog.rationale_text()
            if key == FEEDBACK:
                work = lambda w: w.log_feedback(trace_id, name, value, why, span_id=span_id)  # noqa: E731
            elif key == EXPECTATION:
                work = lambda w: w.log_expectation(trace_id, name, value, span_id=span_id)  # noqa: E731
            else:
                old = self.selected().assessment_id
                work = lambda w: w.override_feedback(trace_id, old, value, why)  # noqa: E731
            self.shell.writes.write(self.store, work, f"Recorded {name} on trace {trace_id}")

        dialog.finished.connect(finished)
        dialog.open()

    def _delete(self, trace_id: str, assessment: Assessment | None) -> None:
        if assessment is None:
            return
        dialog = ConfirmChangesDialog(
            "Delete",
            "assessment",
            [f"{assessment.name} = {value_text(assessment.value)}"],
            "It is removed from the trace for every MLflow client.",
            self,
        )
        self.dialog = dialog
        assessment_id = assessment.assessment_id

        def finished(result: int) -> None:
            self.dialog = None
            dialog.deleteLater()
            if result == QDialog.DialogCode.Accepted:
                self.shell.writes.write(
                    self.store,
                    lambda w: w.delete_assessment(trace_id, assessment_id),
                    f"Deleted an assessment of trace {trace_id}",
                )

        dialog.finished.connect(finished)
        dialog.open()
