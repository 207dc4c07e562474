"""File → Make Store Writable…: explain, confirm, upgrade an older SQLite store on a worker, reopen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.errors import FlowdeckError
from flowdeck.core.task_state import TaskState
from flowdeck.store import upgrade
from flowdeck.store.base import Store
from flowdeck.ui.shell.commands import Command, CommandRegistry

if TYPE_CHECKING:
    from flowdeck.ui.main_window import MainWindow

COMMAND_ID = "store.make_writable"
CHECKING = "Flowdeck is still checking whether this store can be edited."


class UpgradeDialog(QDialog):
    """The plan in plain words, then the progress, then the outcome, in one dialog.

    Cancel is the default button, so a stray Enter changes nothing."""

    def __init__(self, plan: upgrade.UpgradePlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plan = plan
        self.setWindowTitle("Make Store Writable")
        self.text_label = QLabel(plan.explanation())
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.progress = QProgressBar()
        self.progress.setRange(0, upgrade.STEPS)
        self.progress.hide()
        self.step_label = QLabel()
        self.step_label.setTextFormat(Qt.TextFormat.PlainText)
        self.step_label.hide()
        self.buttons = QDialogButtonBox()
        self.upgrade_button: QPushButton = self.buttons.addButton(
            "Back Up and Upgrade", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.cancel_button: QPushButton = self.buttons.addButton(
            QDialogButtonBox.StandardButton.Cancel
        )
        self.upgrade_button.setAutoDefault(False)
        self.cancel_button.setDefault(True)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.text_label, self.progress, self.step_label, self.buttons):
            layout.addWidget(widget)
        self.cancel_button.setFocus()
        self.resize(560, 320)

    def show_running(self) -> None:
        self.upgrade_button.setEnabled(False)
        self.cancel_button.setEnabled(False)  # MLflow's migrations cannot be stopped half-way
        self.progress.show()
        self.step_label.show()

    def show_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.step_label.setText(text)

    def show_outcome(self, text: str, succeeded: bool) -> None:
        """Replace the plan by what happened; only a Close button is left."""
        self.text_label.setText(text)
        self.progress.setVisible(succeeded)
        self.step_label.hide()
        self.upgrade_button.hide()
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Close")


class StoreUpgrader(QObject):
    """Runs the command: plan on a worker, confirm, upgrade on the store's lane, reopen writable."""

    finished = Signal(object)  # UpgradeResult, or the plain message of a refusal or failure

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: UpgradeDialog | None = None

    def why_not(self) -> str | None:
        """Enabled for an older local SQLite store only; else the reason, from known state."""
        store = self.window.current_store()
        if store is None:
            return "No store is selected."
        if id(store) not in self.window.context.state.read_only:  # not checked yet
            refusal = upgrade.why_not_upgrade(store, None)
            return CHECKING if refusal == upgrade.ALREADY_WRITABLE else refusal
        return upgrade.why_not_upgrade(store, self.window.context.read_only_reason(store))

    def start(self) -> None:
        """Read the store's revision off the GUI thread, then explain and ask."""
        store = self.window.current_store()
        if store is None:
            return
        self.window.runner.submit(
            lambda _state: upgrade.plan_upgrade(store),
            key="upgrade-plan",
            owner=store,
            store=store,
            label=f"Checking the schema of {store.display_name}",
            on_result=lambda plan: self._confirm(store, plan),
            on_error=lambda error, _tb: self._failed(store, error),
        )

    def _confirm(self, store: Store, plan: upgrade.UpgradePlan) -> None:
        if not plan.allowed:
            self.window.show_message(plan.explanation())
            self.finished.emit(plan.explanation())
            return
        dialog = UpgradeDialog(plan, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.upgrade_button.clicked.connect(lambda: self._run(store, dialog))
        dialog.finished.connect(lambda _result: self._closed(dialog))
        self.dialog = dialog
        dialog.open()

    def _closed(self, dialog: UpgradeDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _run(self, store: Store, dialog: UpgradeDialog) -> None:
        dialog.show_running()
        plan = dialog.plan

        def work(state: TaskState) -> tuple[upgrade.UpgradeResult, str | None]:
            result = upgrade.upgrade_store(plan, state)
            return result, upgrade.reopen(store)

        self.window.runner.submit(
            work,
            store=store,
            label=f"Upgrading {store.display_name}",
            on_result=lambda outcome: self._done(store, dialog, *outcome),
            on_error=lambda error, _tb: self._failed(store, error, dialog),
            on_progress=dialog.show_progress,
        )

    def _done(
        self,
        store: Store,
        dialog: UpgradeDialog,
        result: upgrade.UpgradeResult,
        reason: str | None,
    ) -> None:
        window = self.window
        window.writes.forget(store)  # a writer made before knew the old schema
        window.context.set_read_only(store, reason)
        window.sidebar.model.refresh(store)
        window.refresh()
        text = (
            f"{result.database.name} now has the installed MLflow's schema (revision "
            f"{result.to_revision}); every table kept its rows. The old database is kept as "
            f"{result.backup}."
        )
        if reason:
            text += f"\n\nIt is still read-only: {reason}"
        dialog.show_outcome(text, succeeded=True)
        window.statusBar().showMessage(f"Upgraded {result.database.name}; backup kept.", 8000)
        self.finished.emit(result)

    def _failed(self, store: Store, error: BaseException, dialog: Any = None) -> None:
        self.window.writes.check(store)  # whatever happened, show the store's real state
        if not isinstance(error, FlowdeckError):
            self.finished.emit(str(error))
            self.window.writes.report(error)  # a bug: the crash dialog
            return
        if dialog is not None:
            dialog.show_outcome(error.message, succeeded=False)
        else:
            self.window.show_message(error.message)
        self.finished.emit(error.message)


def add_upgrade_command(registry: CommandRegistry, window: MainWindow) -> StoreUpgrader:
    """Declare File → Make Store Writable…; returns its runner (tests drive its dialog)."""
    upgrader = StoreUpgrader(window)
    registry.add(
        Command(
            COMMAND_ID,
            "Make Store &Writable…",
            "File",
            tip="Upgrade a database written by an older MLflow so it can be edited (a backup is kept)",
        ),
        upgrader.start,
        upgrader.why_not,
    )
    return upgrader
