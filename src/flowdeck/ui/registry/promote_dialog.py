"""The Promote dialog: choose a version and a target, compare with the holder, promote with a note."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.errors import FlowdeckError, PromotionConflict
from flowdeck.core.promotion import ARCHIVING_STAGES, STAGES, PromotionTarget
from flowdeck.store.base import Store
from flowdeck.store.writer import Change, StoreWriter
from flowdeck.ui.crash import failure_text
from flowdeck.ui.labels import plain_label
from flowdeck.ui.registry.comparison_view import ComparisonView, version_text
from flowdeck.ui.registry.reads import PromoteState, read_promotion
from flowdeck.ui.shell.page import Shell

DEFAULT_ALIAS = "champion"


@dataclass
class _Outcome:
    """What one promote write ended with, set on the worker, read after ``writes.finished``."""

    done: bool = False
    error: BaseException | None = None


class PromoteDialog(QDialog):
    """Promote one version of ``name`` to an alias or a stage, after comparing it to the holder."""

    def __init__(
        self, shell: Shell, store: Store, name: str, version: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.shell = shell
        self.store = store
        self.name = name
        self.state: PromoteState | None = None
        self.writing = False
        self._outcome: _Outcome | None = None
        self._request = 0
        self._candidate = int(version)
        self.setWindowTitle(f"Promote {name}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        self.version_combo = QComboBox()
        self.version_combo.addItem(f"v{version}", int(version))
        self.alias_radio = QRadioButton("Alias")
        self.stage_radio = QRadioButton("Stage")
        self.alias_radio.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.alias_radio)
        group.addButton(self.stage_radio)
        self.alias_combo = QComboBox()
        self.alias_combo.setEditable(True)
        self.alias_combo.setEditText(DEFAULT_ALIAS)
        self.stage_combo = QComboBox()
        self.stage_combo.addItems(list(STAGES))
        self.stage_combo.setCurrentText("Production")
        self.archive_check = QCheckBox("Archive the versions now in it")
        self.status_label = plain_label(wrap=True)
        self.comparison = ComparisonView()
        self.note_edit = QPlainTextEdit()
        self.note_edit.setPlaceholderText("Why this version? A note is required.")
        self.note_edit.setFixedHeight(64)
        self.reason_label = plain_label(wrap=True)
        buttons = QDialogButtonBox()
        self.promote_button: QPushButton = buttons.addButton(
            "Promote", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.promote_button.setAutoDefault(False)
        self.promote_button.setDefault(False)
        buttons.rejected.connect(self.reject)
        self.promote_button.clicked.connect(self.promote)

        choices = QGridLayout()
        choices.addWidget(plain_label("Version"), 0, 0)
        choices.addWidget(self.version_combo, 0, 1, 1, 2)
        choices.addWidget(self.alias_radio, 1, 0)
        choices.addWidget(self.alias_combo, 1, 1, 1, 2)
        choices.addWidget(self.stage_radio, 2, 0)
        choices.addWidget(self.stage_combo, 2, 1)
        choices.addWidget(self.archive_check, 2, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(choices)
        layout.addWidget(self.status_label)
        layout.addWidget(self.comparison, 1)
        layout.addWidget(plain_label("Note"))
        layout.addWidget(self.note_edit)
        layout.addWidget(self.reason_label)
        layout.addWidget(buttons)
        self.resize(760, 720)

        self.version_combo.currentIndexChanged.connect(self._candidate_chosen)
        for radio in (self.alias_radio, self.stage_radio):
            radio.toggled.connect(self._target_edited)
        self.alias_combo.currentTextChanged.connect(self._target_edited)
        self.stage_combo.currentTextChanged.connect(self._target_edited)
        self.archive_check.toggled.connect(self._target_edited)
        self.comparison.directions_changed.connect(lambda _directions: self.reload())
        self.note_edit.textChanged.connect(self._update_button)
        shell.context.read_only_changed.connect(self._read_only_changed)
        shell.writes.finished.connect(self._write_finished)
        self.finished.connect(self._closing)
        if id(store) not in shell.context.state.read_only:
            shell.writes.check(store)
        self._sync_target_widgets()
        self.reload()

    # --- choices ----------------------------------------------------------------------------

    def candidate(self) -> int:
        data = self.version_combo.currentData()
        return int(data) if data is not None else self._candidate

    def target(self) -> PromotionTarget | None:
        """The chosen target, or None while the alias field is empty."""
        if self.alias_radio.isChecked():
            alias = self.alias_combo.currentText().strip().lstrip("@")
            return PromotionTarget.to_alias(alias) if alias else None
        return PromotionTarget.to_stage(
            self.stage_combo.currentText(),
            self.archive_check.isChecked() and self.archive_check.isEnabled(),
        )

    def note(self) -> str:
        return self.note_edit.toPlainText().strip()

    def _candidate_chosen(self) -> None:
        if self.version_combo.currentData() is not None:
            self._candidate = int(self.version_combo.currentData())
            self.reload()

    def _target_edited(self) -> None:
        self._sync_target_widgets()
        self.reload()

    def _sync_target_widgets(self) -> None:
        alias = self.alias_radio.isChecked()
        self.alias_combo.setEnabled(alias)
        self.stage_combo.setEnabled(not alias)
        self.archive_check.setEnabled(
            not alias and self.stage_combo.currentText() in ARCHIVING_STAGES
        )

    # --- reading ----------------------------------------------------------------------------

    def reload(self, message: str | None = None) -> None:
        """Plan and compare again on the worker; the newest request wins."""
        target = self.target()
        self._request += 1
        self.state = None
        self._update_button()
        if target is None:
            self.comparison.clear("Type the alias to promote to.")
            self.status_label.setText(message or "")
            return
        request = self._request
        self.status_label.setText(message or "Reading the versions and comparing them…")
        self.shell.runner.submit(
            read_promotion,
            self.store,
            self.name,
            self.candidate(),
            target,
            dict(self.comparison.directions),
            key="promote-plan",
            owner=self,
            store=self.store,
            label=f"Comparing versions of {self.name}",
            on_result=lambda state: self._loaded(request, state, message),
            on_error=lambda error, _tb: self._load_failed(request, error),
        )

    def _loaded(self, request: int, state: PromoteState, message: str | None) -> None:
        if request != self._request:
            return
        self.state = state
        self._fill_choices(state)
        self.comparison.show_state(state)
        self.status_label.setText(message or "")
        if state.read_only:
            self.shell.context.set_read_only(self.store, state.read_only)
        self._update_button()

    def _load_failed(self, request: int, error: BaseException) -> None:
        if request != self._request:
            return
        if isinstance(error, FlowdeckError):
            text = error.message
        else:
            text = failure_text(error, f"Comparing versions of {self.name}")
        self.comparison.clear("")
        self.status_label.setText(text)
        self._update_button()

    def _fill_choices(self, state: PromoteState) -> None:
        """Refill the version and alias combos without re-planning."""
        widgets = (self.version_combo, self.alias_combo)
        for widget in widgets:
            widget.blockSignals(True)
        self.version_combo.clear()
        for version in reversed(state.versions):
            self.version_combo.addItem(version_text(version), version.version)
        index = self.version_combo.findData(state.candidate)
        if index >= 0:
            self.version_combo.setCurrentIndex(index)
        typed = self.alias_combo.currentText()
        self.alias_combo.clear()
        self.alias_combo.addItems(list(state.aliases))
        self.alias_combo.setEditText(typed)
        for widget in widgets:
            widget.blockSignals(False)

    # --- the Promote button -------------------------------------------------------------------

    def why_not(self) -> str | None:
        """Why Promote is disabled now, in plain words; None when it may be pressed."""
        if id(self.store) not in self.shell.context.state.read_only:
            return "Checking whether this store can be edited…"
        reason = self.shell.context.read_only_reason(self.store)
        if reason:
            return f"This store is read-only: {reason}"
        if self.writing:
            return "Promoting…"
        state = self.state
        if state is None:
            return "Waiting for the comparison…"
        if state.plan is None or state.plan.problem:
            return state.problem or "This promotion cannot be planned."
        if state.plan.no_op:
            return state.plan.effects[0]
        if not self.note():
            return "Type a note saying why this version is promoted."
        return None

    def _update_button(self) -> None:
        reason = self.why_not()
        self.promote_button.setEnabled(reason is None)
        self.promote_button.setToolTip(reason or "")
        self.reason_label.setText(reason or "")

    def _read_only_changed(self, store: object, reason: object) -> None:
        if store is not self.store:
            return
        if self.writing and reason:
            self.writing = False  # the write path refused before our write started
            self._outcome = None
        self._update_button()

    def promote(self) -> None:
        if self.why_not() is not None or self.state is None or self.state.plan is None:
            return
        plan, note = self.state.plan, self.note()
        outcome = _Outcome()
        self._outcome = outcome
        self.writing = True
        self._update_button()
        self.status_label.setText(f"Promoting v{plan.candidate.version} to {plan.target.label}…")

        def work(writer: StoreWriter) -> Change:
            try:
                change = writer.promote(
                    plan.name, plan.candidate.version, plan.target, note, plan.holders
                )
            except BaseException as error:
                outcome.error = error
                raise
            outcome.done = True
            return change

        self.shell.writes.write(
            self.store,
            work,
            f"Promoted {plan.name} v{plan.candidate.version} to {plan.target.label}.",
            handled=(PromotionConflict,),  # the dialog explains it and shows the new plan
        )

    def _write_finished(self) -> None:
        outcome = self._outcome
        if outcome is None or not (outcome.done or outcome.error is not None):
            return  # another write finished
        self._outcome = None
        self.writing = False
        if outcome.done:
            self.accept()
            return
        error = outcome.error
        text = error.message if isinstance(error, FlowdeckError) else str(error)
        if isinstance(error, PromotionConflict):
            self.reload(text)
        else:
            self.status_label.setText(text)
            self._update_button()

    def _closing(self) -> None:
        self.shell.runner.cancel_owner(self)
        self.shell.context.read_only_changed.disconnect(self._read_only_changed)
        self.shell.writes.finished.disconnect(self._write_finished)


def open_promote(
    shell: Shell, store: Store, name: str, version: int, parent: QWidget | None = None
) -> PromoteDialog:
    """Show the non-modal Promote dialog for ``name`` v``version``; it deletes itself on close."""
    dialog = PromoteDialog(shell, store, name, version, parent)
    dialog.setModal(False)
    dialog.show()
    return dialog
