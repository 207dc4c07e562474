"""Ask for a feedback or an expectation: its name, a yes/no, number or text value, a rationale."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from flowdeck.ui.labels import plain_label

YES_NO, NUMBER, TEXT = "Yes / no", "A number", "Text"
FEEDBACK, EXPECTATION, OVERRIDE = "feedback", "expectation", "override"


def parse_value(kind: str, text: str) -> Any:
    """The value as MLflow stores it; ``ValueError`` with a plain message when it is not one."""
    text = text.strip()
    if kind == YES_NO:
        lowered = text.lower()
        if lowered in ("yes", "y", "true", "pass", "1"):
            return True
        if lowered in ("no", "n", "false", "fail", "0"):
            return False
        raise ValueError("Type yes or no.")
    if kind == NUMBER:
        try:
            return float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a number.") from None
    if not text:
        raise ValueError("Type the value.")
    return text


class AssessmentDialog(QDialog):
    """Feedback (with a rationale), an expectation, or an override of a feedback's value."""

    def __init__(
        self,
        mode: str,
        target: str,
        name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        titles = {FEEDBACK: "Add Feedback", EXPECTATION: "Add Expectation", OVERRIDE: "Override"}
        self.setWindowTitle(titles[mode])
        self.mode = mode
        self.name_edit = QLineEdit(name, placeholderText="e.g. correctness")
        self.name_edit.setReadOnly(mode == OVERRIDE)
        self.kind_box = QComboBox()
        self.kind_box.addItems([YES_NO, NUMBER, TEXT])
        self.value_edit = QLineEdit(placeholderText="yes")
        self.rationale = QPlainTextEdit()
        self.rationale.setPlaceholderText("Why (optional)")
        self.rationale.setMaximumHeight(80)
        self.message = plain_label(wrap=True)
        self.message.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(
            "Override" if mode == OVERRIDE else "Add"
        )
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(plain_label(target, wrap=True))
        form.addRow("Name", self.name_edit)
        form.addRow("Value is", self.kind_box)
        form.addRow("Value", self.value_edit)
        if mode != EXPECTATION:
            form.addRow("Rationale", self.rationale)
        form.addRow(self.message)
        form.addRow(self.buttons)
        self.kind_box.currentTextChanged.connect(self._kind_changed)
        if mode == EXPECTATION:
            self.kind_box.setCurrentText(TEXT)

    def _kind_changed(self, kind: str) -> None:
        hints = {YES_NO: "yes", NUMBER: "0.8", TEXT: "the expected answer"}
        self.value_edit.setPlaceholderText(hints[kind])

    def name(self) -> str:
        return self.name_edit.text().strip()

    def value(self) -> Any:
        return parse_value(self.kind_box.currentText(), self.value_edit.text())

    def rationale_text(self) -> str | None:
        return self.rationale.toPlainText().strip() or None

    def _accept(self) -> None:
        try:
            if not self.name():
                raise ValueError("Give the assessment a name.")
            self.value()
        except ValueError as error:
            self.message.setText(str(error))
            self.message.show()
            return
        self.accept()
