"""The one write path: confirm, write on the task runner, report, and broadcast the Change."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog

from flowdeck.core.errors import FlowdeckError, ReadOnlyStore
from flowdeck.core.task_state import TaskState
from flowdeck.store.base import Store
from flowdeck.store.writer_core import Change  # the writer itself loads on first use
from flowdeck.ui.shell.context import Context
from flowdeck.ui.tasks import TaskHandle, TaskRunner

if TYPE_CHECKING:
    from flowdeck.store.writer import StoreWriter

Work = Callable[["StoreWriter"], Change | Sequence[Change] | None]


def _recheck(_state: TaskState, store: Store) -> str | None:
    from flowdeck.store import schema_guard

    return schema_guard.recheck(store)


class WritePath(QObject):
    """Every edit goes through ``write``: it runs on the task runner with progress, asks for
    confirmation first when given a dialog, re-checks that the store is still writable,
    turns user-fixable errors into plain messages (``failed``) and bugs into the crash dialog,
    and broadcasts each ``Change`` through the context so every page refreshes what changed."""

    failed = Signal(str)  # plain message
    status = Signal(str)  # short outcome for the status bar
    finished = Signal()  # a write finished, whatever its outcome (for tests)

    def __init__(self, runner: TaskRunner, context: Context, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.context = context
        self._writers: dict[int, StoreWriter] = {}
        self.active_dialog: QDialog | None = None

    def check(self, store: Store) -> TaskHandle:
        """Find out (again) whether ``store`` can be edited; the context hears the answer."""
        return self.runner.submit(
            _recheck,
            store,
            key="read-only-check",
            owner=store,
            store=store,
            label=f"Checking whether {store.display_name} can be edited",
            on_result=lambda reason: self.context.set_read_only(store, reason),
            on_error=lambda error, _tb: self.context.set_read_only(store, str(error)),
        )

    def write(
        self,
        store: Store,
        work: Work,
        done_text: str,
        *,
        confirm: QDialog | None = None,
        on_failure_refresh: Change | None = None,
        handled: tuple[type[BaseException], ...] = (),
    ) -> None:
        """Run ``work(writer)`` for ``store`` (after ``confirm`` is accepted, when given).

        ``on_failure_refresh`` is broadcast when the write fails part-way, so views re-read
        what a multi-step edit may already have changed. Errors of a ``handled`` type are the
        caller's to show (a dialog that explains a conflict itself): no second message."""
        if confirm is None:
            self._submit(store, work, done_text, on_failure_refresh, handled)
            return

        def finished(result: int) -> None:
            if self.active_dialog is confirm:
                self.active_dialog = None
            confirm.deleteLater()
            if result == QDialog.DialogCode.Accepted:
                self._submit(store, work, done_text, on_failure_refresh, handled)

        confirm.finished.connect(finished)
        self.active_dialog = confirm
        confirm.open()

    def _submit(
        self,
        store: Store,
        work: Work,
        done_text: str,
        on_failure_refresh: Change | None,
        handled: tuple[type[BaseException], ...] = (),
    ) -> None:
        def run(state: TaskState) -> list[Change]:
            state.progress(0, 1, done_text)
            reason = _recheck(state, store)
            if reason:
                raise ReadOnlyStore(reason)
            writer = self._writer(store)
            result = work(writer)
            if result is None:
                return []
            return [result] if isinstance(result, Change) else list(result)

        def delivered(changes: list[Change]) -> None:
            self.context.set_read_only(store, None)
            self.status.emit(done_text)
            for change in changes:
                self.context.broadcast_change(store, change)
            self.finished.emit()

        def failed(error: BaseException, _details: str) -> None:
            if isinstance(error, ReadOnlyStore):
                self.context.set_read_only(store, error.message)
            if on_failure_refresh is not None:
                self.context.broadcast_change(store, on_failure_refresh)
            if not isinstance(error, handled):
                self.report(error)
            self.finished.emit()

        self.runner.submit(
            run, store=store, label=done_text.rstrip("."), on_result=delivered, on_error=failed
        )

    def report(self, error: BaseException) -> None:
        """A failed read made for an edit: plain message, or the crash dialog for a bug."""
        if isinstance(error, FlowdeckError):
            self.failed.emit(error.message)
        else:
            sys.excepthook(type(error), error, error.__traceback__)

    def _writer(self, store: Store) -> StoreWriter:
        """One writer (one MLflow client) per store, made on a worker on first use."""
        writer = self._writers.get(id(store))
        if writer is None or writer.store is not store:
            writer = store.writer()
            self._writers[id(store)] = writer
        return writer

    def forget(self, store: Store) -> None:
        self._writers.pop(id(store), None)
