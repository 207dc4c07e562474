"""File → Make Available Offline…, Sync Mirror and Open Mirror's Source, run on a worker."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from flowdeck.core.errors import Cancelled, FlowdeckError
from flowdeck.core.task_state import TaskState
from flowdeck.ui.shell.commands import Command, CommandRegistry

if TYPE_CHECKING:  # the mirror's modules load when a command runs, not with the window
    from flowdeck.store.base import Store
    from flowdeck.store.mirror import MirrorReport
    from flowdeck.store.mirror.sync import MirrorOptions
    from flowdeck.ui.main_window import MainWindow
    from flowdeck.ui.mirror.dialog import MirrorDialog

MESSAGE_MS = 10_000  # how long a sync's outcome stays in the status bar
RELOAD_WAIT_MS = 5_000  # a page reloaded after a sync within this says its outcome again
STOPPED = (
    "Stopped. What was copied so far is kept and consistent; syncing again carries on where "
    "this stopped."
)


class StoppableState(TaskState):
    """The sync's token: stopped by its own Stop (the worker then raises ``Cancelled`` and the
    window hears it as an error) or by the runner cancelling the whole task."""

    def __init__(self, task: TaskState, stop: threading.Event) -> None:
        super().__init__(task.progress)
        self.task = task
        self._cancel_event = stop  # set by Stop, also before the worker started

    @property
    def cancelled(self) -> bool:
        return self._cancel_event.is_set() or self.task.cancelled

    def check(self) -> None:
        if self.cancelled:
            raise Cancelled("The sync was stopped.")


def mirror_of(store: Store | None) -> Any:
    """The ``MirrorInfo`` of a store that is a Flowdeck mirror, else None."""
    return getattr(store, "mirror", None) if store is not None else None


class MirrorCommands(QObject):
    """Makes mirrors and syncs them; ``finished`` carries the report or a plain message."""

    finished = Signal(object)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: MirrorDialog | None = None
        self.handle: Any = None
        self.stop: threading.Event | None = None

    # --- Make Available Offline… ---------------------------------------------------------------

    def why_not_make(self) -> str | None:
        if self.window.current_store() is None:
            return "Open a store first."
        if self.handle is not None:
            return "A mirror is being made or synced."
        return None

    def make(self) -> None:
        store = self.window.current_store()
        if store is None:
            return
        from flowdeck.ui.mirror.dialog import MirrorDialog

        listed = self.window.sidebar.model.experiments_of(store)
        selected_store, entries = self.window.sidebar.current_selection()
        chosen = [
            entry.experiment_id
            for entry in (entries or [])
            if selected_store is store and hasattr(entry, "experiment_id")
        ]
        dialog = MirrorDialog(
            store.display_name,
            [(entry.experiment_id, entry.name) for entry in listed],
            chosen,
            parent=self.window,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.start_button.clicked.connect(lambda: self._start(store, dialog))
        dialog.open_button.clicked.connect(lambda: self._open_mirror(dialog))
        dialog.close_requested.connect(lambda: self._cancel_or_close(dialog))
        dialog.estimate_wanted.connect(lambda: self._estimate(store, dialog))
        self.dialog = dialog
        dialog.open()

    def _start(self, source: Store, dialog: MirrorDialog) -> None:
        problem = dialog.problem()
        if problem:
            dialog.status.setText(problem)
            return
        dialog.show_running()
        self._run(source, Path(dialog.destination.text()).expanduser(), dialog.options(), dialog)

    def _estimate(self, source: Store, dialog: MirrorDialog) -> None:
        """Size the artifacts the dialog would copy, on a worker; the label tells."""
        from flowdeck.store.mirror.artifacts_copy import estimate
        from flowdeck.store.mirror.source import read_experiments
        from flowdeck.store.mirror.sync import chosen_experiments

        options = dialog.options()
        dialog.artifact_estimate.setText("Estimating the size of the artifacts…")

        def work(state: TaskState) -> str:
            experiments = chosen_experiments(read_experiments(source), options.experiments)
            ids = list(experiments["experiment_id"])
            run_ids = list(source.runs(ids, view="all", state=state)["run_id"]) if ids else []
            return estimate(source, run_ids, options.artifact_pattern, state).text()

        def failed(error: BaseException, _details: str) -> None:
            message = error.message if isinstance(error, FlowdeckError) else str(error)
            dialog.artifact_estimate.setText(f"The size could not be estimated: {message}")

        self.window.runner.submit(
            work,
            key="mirror-estimate",
            owner=dialog,
            label="Estimating the artifacts' size",
            on_result=lambda text: dialog.artifact_estimate.setText(f"About {text}."),
            on_error=failed,
        )

    def _cancel_or_close(self, dialog: MirrorDialog) -> None:
        if self.handle is not None and self.dialog is dialog:
            if self.stop is not None:
                self.stop.set()
            dialog.status.setText("Stopping after the current batch…")
            dialog.cancel_button.setEnabled(False)
            return
        if self.dialog is dialog:
            self.dialog = None
        dialog.close_now()

    def _open_mirror(self, dialog: MirrorDialog) -> None:
        location = dialog.destination.text()
        dialog.close_now()
        if self.dialog is dialog:
            self.dialog = None
        self.window.open_location(str(Path(location).expanduser()))

    # --- Sync Mirror, Open Mirror's Source -----------------------------------------------------

    def why_not_sync(self) -> str | None:
        store = self.window.current_store()
        if mirror_of(store) is None:
            return "The current store is not an offline mirror."
        if self.handle is not None:
            return "A mirror is being made or synced."
        return None

    def sync_fully(self) -> None:
        """Sync the current mirror comparing every run (finds edits to old finished runs)."""
        self.sync(full=True)

    def sync(self, full: bool = False) -> None:
        """Sync the current mirror from its origin, as it was made (same experiments, options)."""
        store = self.window.current_store()
        mirror = mirror_of(store)
        if store is None or mirror is None:
            return
        from flowdeck.store.mirror import read_state
        from flowdeck.store.mirror.sync import recorded_options

        source = self._source_for(mirror.origin)
        options = replace(recorded_options(read_state(mirror.path)), full=full)
        self.window.statusBar().showMessage(f"Syncing {store.display_name} from {mirror.origin}…")
        self._run(source, mirror.path, options, None, mirror_store=store)

    def why_not_open_source(self) -> str | None:
        return (
            None
            if mirror_of(self.window.current_store())
            else ("The current store is not an offline mirror.")
        )

    def open_source(self) -> None:
        """Open the mirror's origin at the page shown (a run, a model…), where its edits go
        through the same dialogs; the origin's store is reused when it is open already."""
        from flowdeck.core.redact import redact_location

        store = self.window.current_store()
        mirror = mirror_of(store)
        if mirror is None:
            return
        page = self.window.host.current_page()
        address = page.address if page is not None and page.store is store else None

        def is_origin(candidate: Store) -> bool:
            return candidate is not store and redact_location(candidate.location) == mirror.origin

        def show(origin: Store) -> None:
            if address is not None:
                self.window.open_page(origin, address, new_tab=True)

        for candidate in self.window.stores():
            if is_origin(candidate):
                show(candidate)
                return

        def opened(candidate: Store) -> None:
            if is_origin(candidate):
                self.window.store_opened.disconnect(opened)
                show(candidate)

        self.window.store_opened.connect(opened)
        self.window.open_location(mirror.origin)

    def _source_for(self, origin: str) -> Store:
        """The origin's store if it is open in the window (with its credentials), else a new one."""
        from flowdeck.core.redact import redact_location
        from flowdeck.store import open_store

        for store in self.window.stores():
            if redact_location(store.location) == origin:
                return store
        return open_store(origin)

    # --- the work ------------------------------------------------------------------------------

    def _run(
        self,
        source: Store,
        destination: Path,
        options: MirrorOptions,
        dialog: MirrorDialog | None,
        mirror_store: Store | None = None,
    ) -> None:
        stop = self.stop = threading.Event()

        from flowdeck.store.mirror import sync_mirror

        def work(state: TaskState) -> MirrorReport:
            return sync_mirror(source, destination, options, StoppableState(state, stop))

        def progress(done: int, total: int, text: str) -> None:
            if dialog is not None:
                dialog.show_progress(done, total, text)
            else:
                self.window.statusBar().showMessage(text)

        self.handle = self.window.runner.submit(
            work,
            key=f"mirror:{destination}",
            label=f"Mirroring {source.display_name}",
            on_result=lambda report: self._done(report, dialog, destination, mirror_store),
            on_error=lambda error, _tb: self._failed(error, dialog),
            on_progress=progress,
        )

    def _done(
        self,
        report: MirrorReport,
        dialog: MirrorDialog | None,
        destination: Path,
        mirror_store: Store | None,
    ) -> None:
        self.handle = self.stop = None
        text = f"The mirror {destination.name} is up to date: {report.summary()}."
        for store in self.window.stores():
            mirror = mirror_of(store)
            if mirror is not None and Path(mirror.path).resolve() == destination.resolve():
                store.refresh_mirror()
                store.close()  # reconnect: the file changed under the read connections
                self.window.context.set_read_only(store, store.read_only_reason)
                self.window.sidebar.model.refresh(store)
        self.window.refresh()
        if dialog is not None:
            dialog.show_outcome(text, succeeded=True)
        self._say_after_reload(text)
        self.window.commands.update_state()
        self.finished.emit(report)

    def _say_after_reload(self, text: str) -> None:
        """Show ``text`` in the status bar, and again once the reloaded page has said what it
        loaded (if that happens within ``RELOAD_WAIT_MS``)."""
        bar = self.window.statusBar()
        bar.showMessage(text, MESSAGE_MS)
        page = self.window.host.current_page()
        signal = getattr(page, "status", None)
        if signal is None:
            return
        connected = [True]

        def forget() -> None:
            if connected[0]:
                connected[0] = False
                signal.disconnect(again)

        def again(*_: object) -> None:
            forget()
            QTimer.singleShot(0, self, lambda: bar.showMessage(text, MESSAGE_MS))

        signal.connect(again)
        QTimer.singleShot(RELOAD_WAIT_MS, self, forget)

    def _failed(self, error: BaseException, dialog: MirrorDialog | None) -> None:
        self.handle = self.stop = None
        self.window.commands.update_state()
        if isinstance(error, Cancelled):
            message = STOPPED
        elif isinstance(error, FlowdeckError):
            message = error.message
        else:
            self.finished.emit(str(error))
            self.window.writes.report(error)  # a bug: the crash dialog
            return
        if dialog is not None:
            dialog.show_outcome(message, succeeded=False)
        else:
            self.window.show_message(message)
        self.finished.emit(message)


def add_mirror_commands(registry: CommandRegistry, window: MainWindow) -> MirrorCommands:
    """Declare the File menu's mirror commands; returns their runner (tests drive it)."""
    commands = MirrorCommands(window)
    registry.add(
        Command(
            "store.mirror",
            "Make Available &Offline…",
            "File",
            tip="Copy the store, or some experiments, into a local store that opens offline",
        ),
        commands.make,
        commands.why_not_make,
    )
    registry.add(
        Command(
            "store.mirror_sync",
            "S&ync Mirror",
            "File",
            tip="Copy what changed at the mirror's source since the last sync",
        ),
        commands.sync,
        commands.why_not_sync,
    )
    registry.add(
        Command(
            "store.mirror_sync_full",
            "Sync Mirror, Checking &Every Run",
            "File",
            tip="Compare every run with the source, which also finds edits to old finished "
            "runs (a sync does this once a day)",
        ),
        commands.sync_fully,
        commands.why_not_sync,
    )
    registry.add(
        Command(
            "store.mirror_source",
            "Open Mirror's &Source",
            "File",
            tip="Open the store this mirror was copied from at the same page (edits belong there)",
        ),
        commands.open_source,
        commands.why_not_open_source,
    )
    return commands
