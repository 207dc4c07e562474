"""The version page's Workflow tab: evaluate, approve or reject, deploy, and the activity log."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.deploy_steps import APPROVE, DEPLOY, EVALUATE, ActivityEntry
from flowdeck.core.deploy_workflow import Workflow
from flowdeck.core.text_format import format_time
from flowdeck.store.base import Store
from flowdeck.store.writer import StoreWriter
from flowdeck.store.writer_core import Change
from flowdeck.ui.edit.confirm import ConfirmChangesDialog
from flowdeck.ui.labels import plain_label
from flowdeck.ui.pages.registry.tables import LinkView, Row
from flowdeck.ui.registry.workflow_reads import (
    WorkflowState,
    read_workflow_state,
    record_evaluation,
    record_review,
)
from flowdeck.ui.shell.page import Shell

ACTIVITY_HEADERS = ("Time", "What", "Result", "Who", "Note", "Details")
ACTIVITY_WIDTHS = (150, 300, 70, 90, 180)
NO_WORKFLOW = (
    "This model has no deployment workflow. Set one with Workflow… on the model's page: "
    "the rules an evaluation checks, whether an approval is needed, and the alias or stage "
    "a deploy moves."
)
NEEDS_NOTE = "Write a note first: it is recorded with the step."


def activity_row(entry: ActivityEntry) -> Row:
    result = "" if entry.passed is None else ("passed" if entry.passed else "failed")
    if entry.kind == APPROVE and entry.passed is not None:
        result = "approved" if entry.passed else "rejected"
    what = entry.text + (" (inferred)" if entry.inferred else "")
    details = "; ".join(entry.details)
    cells = (format_time(entry.time_ms), what, result, entry.who or "", entry.note or "", details)
    return Row(cells, (entry.time_ms or 0, *cells[1:]))


class WorkflowPanel(QWidget):
    """One version under its model's workflow: what is next, the buttons, and what happened."""

    def __init__(self, shell: Shell, store: Store, name: str, number: int) -> None:
        super().__init__()
        self.shell, self.store, self.name, self.number = shell, store, name, number
        self.workflow: Workflow | None = None
        self.summary = plain_label(wrap=True)
        self.status = plain_label(wrap=True)
        self.note = QLineEdit()
        self.note.setPlaceholderText("Note for the step (who asked, why, the ticket…)")
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for key, text in (
            (EVALUATE, "Evaluate"),
            (APPROVE, "Approve"),
            ("reject", "Reject"),
            (DEPLOY, "Deploy…"),
        ):
            button = QPushButton(text)
            button.clicked.connect(lambda _checked=False, k=key: self.act(k))
            row.addWidget(button)
            self.buttons[key] = button
        row.addWidget(self.note, 1)
        self.activity = LinkView(ACTIVITY_HEADERS, sortable=True)
        self.activity_note = plain_label(wrap=True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.status)
        layout.addLayout(row)
        layout.addWidget(plain_label("Activity of this version:"))
        layout.addWidget(self.activity_note)
        layout.addWidget(self.activity, 1)
        self.confirm: ConfirmChangesDialog | None = None
        self.state: WorkflowState | None = None
        shell.context.read_only_changed.connect(
            lambda changed, _reason: self._update_buttons() if changed is store else None
        )
        self._update_buttons()

    def reload(self) -> None:
        """Read the workflow, the version's next step and its activity again."""
        self.shell.runner.submit(
            read_workflow_state,
            self.store,
            self.name,
            self.number,
            key="workflow",
            owner=self,
            store=self.store,
            label="Reading the deployment workflow",
            on_result=self._show,
            on_error=lambda error, _details: self.status.setText(
                getattr(error, "message", str(error))
            ),
        )

    def _show(self, state: WorkflowState) -> None:
        self.state = state
        self.workflow = state.stored.workflow
        workflow = self.workflow
        if workflow is None:
            self.summary.setText(state.stored.problem or NO_WORKFLOW)
        else:
            rules = [f"• {rule.text(workflow.label)}" for rule in workflow.rules] or [
                "• no rules: every evaluation passes"
            ]
            approval = "an approval" if workflow.require_approval else "no approval"
            self.summary.setText(
                f"Deploys to {workflow.label} after an evaluation and {approval}. Rules:\n"
                + "\n".join(rules)
            )
        self.status.setText(self._status_text(state))
        rows = [activity_row(entry) for entry in state.activity]
        self.activity.set_rows(rows, ACTIVITY_WIDTHS)
        self.activity_note.setText("" if rows else "Nothing has happened to this version yet.")
        self.activity_note.setVisible(not rows)
        self.activity.setVisible(bool(rows))
        self._update_buttons()

    def _status_text(self, state: WorkflowState) -> str:
        gate = state.next
        if self.workflow is None or gate is None:
            return ""
        if gate.step is None:
            return f"v{self.number} holds {self.workflow.label}."
        why = gate.why_not(gate.step)
        text = f"Next step: {gate.step}."
        blocked = gate.why_not(DEPLOY)
        if blocked and gate.step != DEPLOY:
            text += f" Deploying is blocked: {blocked}"
        return text + (f" {why}" if why else "")

    def why_not(self, key: str) -> str | None:
        """Why a button is disabled now (None: it is enabled)."""
        reason = self.shell.context.read_only_reason(self.store)
        if reason:
            return reason
        if self.state is None:
            return "Reading the workflow…"
        if self.workflow is None or self.state.next is None:
            return self.state.stored.problem or "This model has no deployment workflow."
        if key == EVALUATE:
            return None
        return self.state.next.why_not(APPROVE if key == "reject" else key)

    def _update_buttons(self) -> None:
        for key, button in self.buttons.items():
            reason = self.why_not(key)
            button.setEnabled(reason is None)
            button.setToolTip(reason or "")

    def act(self, key: str) -> None:
        """Run one step of the workflow for this version (Evaluate, Approve, Reject, Deploy…)."""
        workflow, note = self.workflow, self.note.text().strip()
        if workflow is None or self.why_not(key):
            return
        name, number = self.name, self.number
        if key == EVALUATE:
            self._write(
                lambda w: record_evaluation(w, name, number, workflow, note),
                f"Evaluated {name} v{number} for {workflow.label}",
            )
            return
        if not note:
            self.status.setText(NEEDS_NOTE)
            self.note.setFocus()
            return
        if key in (APPROVE, "reject"):
            approved = key == APPROVE
            verb = "Approved" if approved else "Rejected"
            self._write(
                lambda w: record_review(w, name, number, workflow, approved, note),
                f"{verb} {name} v{number} for {workflow.label}",
            )
            return
        self._confirm_deploy(workflow, note)

    def _confirm_deploy(self, workflow: Workflow, note: str) -> None:
        name, number = self.name, self.number
        dialog = ConfirmChangesDialog(
            "Deploy",
            "model version",
            [f"{name} v{number}"],
            f"Moves {workflow.label} to v{number}, recorded with your note: “{note}”.",
            self,
        )
        self.confirm = dialog

        def finished(result: int) -> None:
            self.confirm = None
            dialog.deleteLater()
            if result == QDialog.DialogCode.Accepted:
                self._write(
                    lambda w: w.deploy(name, number, workflow, note),
                    f"Deployed {name} v{number} to {workflow.label}",
                )

        dialog.finished.connect(finished)
        dialog.open()

    def _write(self, work: Callable[[StoreWriter], Change], done_text: str) -> None:
        done: list[bool] = []

        def recorded(writer: StoreWriter) -> Change:
            change = work(writer)
            done.append(True)
            return change

        def finished() -> None:
            self.shell.writes.finished.disconnect(finished)
            if done:  # a refused step keeps the note for another try
                self.note.clear()
            self.reload()

        self.shell.writes.finished.connect(finished)
        self.shell.writes.write(self.store, recorded, done_text)
