"""The dialog that sets a model's deployment workflow: its target, its rules, approval."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.deploy_workflow import OPERATORS, Rule, Workflow
from flowdeck.core.errors import InvalidWorkflow
from flowdeck.ui.labels import plain_label

ALIAS, STAGE = "alias", "stage"
DEPLOY_STAGES = ("Production", "Staging")
RULE_KINDS = (
    ("A metric passes a threshold", "metric_threshold"),
    ("Beats the current holder on a metric", "beats_holder"),
    ("The signature is unchanged from the holder", "signature_unchanged"),
)
DIRECTIONS = (
    ("guess from the name", None),
    ("lower is better", "lower"),
    ("higher is better", "higher"),
)
REMOVE = 2  # the dialog's result when the user removes the workflow


class WorkflowEditor(QDialog):
    """Edit (or create) the evaluate → approve → deploy workflow of one registered model."""

    def __init__(
        self,
        name: str,
        current: Workflow | None,
        problem: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Deployment Workflow of {name}")
        self.rules: list[Rule] = list(current.rules) if current else []
        self.kind_box = QComboBox()
        self.kind_box.addItem("An alias", ALIAS)
        self.kind_box.addItem("A stage", STAGE)
        self.alias_edit = QLineEdit("champion")
        self.stage_box = QComboBox()
        self.stage_box.addItems(list(DEPLOY_STAGES))
        self.archive_box = QCheckBox("Archive the versions now in the stage")
        self.target_stack = QStackedWidget()
        self.target_stack.addWidget(self.alias_edit)
        stage_row = QWidget()
        stage_layout = QHBoxLayout(stage_row)
        stage_layout.setContentsMargins(0, 0, 0, 0)
        stage_layout.addWidget(self.stage_box)
        stage_layout.addWidget(self.archive_box, 1)
        self.target_stack.addWidget(stage_row)
        self.approval_box = QCheckBox("Require an approval before deploying")
        self.approval_box.setChecked(current.require_approval if current else True)
        self.rule_list = QListWidget()
        self.remove_rule = QPushButton("Remove Rule")
        self.remove_rule.clicked.connect(self._remove_rule)
        self.message = plain_label(wrap=True)
        self.message.setVisible(bool(problem))
        self.message.setText(problem or "")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.remove_button = self.buttons.addButton(
            "Remove Workflow", QDialogButtonBox.ButtonRole.DestructiveRole
        )
        self.remove_button.setVisible(current is not None or bool(problem))
        self.remove_button.clicked.connect(lambda: self.done(REMOVE))
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Deploys to", self.kind_box)
        form.addRow("", self.target_stack)
        form.addRow("", self.approval_box)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(plain_label("Rules an evaluation checks:"))
        layout.addWidget(self.rule_list, 1)
        layout.addWidget(self._rule_builder())
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.kind_box.currentIndexChanged.connect(self._kind_changed)
        if current is not None:
            self._show_target(current)
        self._kind_changed()
        self._fill_rules()
        self.resize(620, 440)

    def _rule_builder(self) -> QWidget:
        self.rule_kind = QComboBox()
        for text, kind in RULE_KINDS:
            self.rule_kind.addItem(text, kind)
        self.metric_edit = QLineEdit()
        self.metric_edit.setPlaceholderText("metric, e.g. val_loss")
        self.op_box = QComboBox()
        self.op_box.addItems(list(OPERATORS))
        self.value_edit = QLineEdit()
        self.value_edit.setPlaceholderText("value")
        self.direction_box = QComboBox()
        for text, direction in DIRECTIONS:
            self.direction_box.addItem(text, direction)
        self.add_rule = QPushButton("Add Rule")
        self.add_rule.clicked.connect(self._add_rule)
        self.rule_kind.currentIndexChanged.connect(self._rule_kind_changed)
        row = QWidget()
        column = QVBoxLayout(row)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.rule_kind)
        layout = QHBoxLayout()
        layout.addWidget(self.metric_edit, 2)
        for widget in (self.op_box, self.value_edit, self.direction_box):
            layout.addWidget(widget, 1)
        layout.addWidget(self.add_rule)
        layout.addWidget(self.remove_rule)
        column.addLayout(layout)
        self._rule_kind_changed()
        return row

    def _show_target(self, workflow: Workflow) -> None:
        if workflow.target_kind == ALIAS:
            self.kind_box.setCurrentIndex(0)
            self.alias_edit.setText(workflow.target)
        else:
            self.kind_box.setCurrentIndex(1)
            self.stage_box.setCurrentText(workflow.target)
            self.archive_box.setChecked(workflow.archive_existing)

    def _kind_changed(self) -> None:
        self.target_stack.setCurrentIndex(self.kind_box.currentIndex())

    def _rule_kind_changed(self) -> None:
        kind = self.rule_kind.currentData()
        self.metric_edit.setVisible(kind != "signature_unchanged")
        self.op_box.setVisible(kind == "metric_threshold")
        self.value_edit.setVisible(kind == "metric_threshold")
        self.direction_box.setVisible(kind == "beats_holder")

    def _fill_rules(self) -> None:
        self.rule_list.clear()
        label = self._label()
        for rule in self.rules:
            QListWidgetItem(rule.text(label), self.rule_list)
        if not self.rules:
            item = QListWidgetItem("No rules: every evaluation passes.", self.rule_list)
            item.setFlags(item.flags() & ~item.flags().ItemIsSelectable)
        self.remove_rule.setEnabled(bool(self.rules))

    def _label(self) -> str:
        try:
            return self.workflow().label
        except InvalidWorkflow:
            return "the current holder"

    def _add_rule(self) -> None:
        kind = self.rule_kind.currentData()
        metric = self.metric_edit.text().strip()
        try:
            if kind == "metric_threshold":
                try:
                    value = float(self.value_edit.text().strip())
                except ValueError:
                    raise InvalidWorkflow(
                        f"The threshold '{self.value_edit.text().strip()}' is not a number."
                    ) from None
                rule = Rule.threshold(metric, self.op_box.currentText(), value)
            elif kind == "beats_holder":
                rule = Rule.beats(metric, self.direction_box.currentData())
            else:
                rule = Rule.same_signature()
        except InvalidWorkflow as error:
            self._say(error.message)
            return
        self._say("")
        self.rules.append(rule)
        self.metric_edit.clear()
        self.value_edit.clear()
        self._fill_rules()

    def _remove_rule(self) -> None:
        row = self.rule_list.currentRow()
        if 0 <= row < len(self.rules):
            del self.rules[row]
            self._fill_rules()

    def workflow(self) -> Workflow:
        """The workflow as the dialog shows it; ``InvalidWorkflow`` says what is wrong."""
        kind = self.kind_box.currentData()
        target = self.alias_edit.text() if kind == ALIAS else self.stage_box.currentText()
        return Workflow(
            kind,
            target,
            tuple(self.rules),
            self.approval_box.isChecked(),
            kind == STAGE and self.archive_box.isChecked(),
        )

    def _save(self) -> None:
        try:
            self.workflow()
        except InvalidWorkflow as error:
            self._say(error.message)
            return
        self.accept()

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
