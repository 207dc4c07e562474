"""The scripted snapshot: open, select an experiment, wait for the runs, save a PNG, time it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from flowdeck.store.base import Store
from flowdeck.ui.main_window import MainWindow

TICK_MS = 5
SETTLE_MS = 150  # after loading: let the view lay out and paint the rows before the grab
SNAPSHOT_SIZE = (1440, 860)


class StallMeter(QObject):
    """Ticks every few ms on the GUI thread; the longest gap between ticks is the worst stall."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.longest_ms = 0.0
        self._last = 0.0
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.longest_ms = 0.0
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._tick()
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest_ms = max(self.longest_ms, (now - self._last) * 1000 - TICK_MS)
        self._last = now


class Snapshot(QObject):
    """Drives a MainWindow to the state asked for on the command line, then saves it."""

    finished = Signal(int)  # exit code

    def __init__(
        self,
        window: MainWindow,
        output: Path,
        experiment: str | None,
        filter_string: str = "",
        select: int = 0,
        view: str = "table",
    ) -> None:
        super().__init__(window)
        self.window = window
        self.output = output
        self.experiment = experiment
        self.filter_string = filter_string
        self.select = select
        self.view = view
        self.meter = StallMeter(self)
        self.store: Store | None = None
        self.started = 0.0
        self.load_seconds = 0.0
        self.charts_seconds = 0.0
        self._done = False

    def start(self, location: str) -> None:
        """Show the window, open ``location`` and carry on as signals arrive."""
        self.window.persist_state = False
        self.window.resize(*SNAPSHOT_SIZE)
        self.window.show()
        self.started = time.perf_counter()
        self.meter.start()
        bar = self.window.runs.filter_bar
        if self.filter_string:
            bar.set_filter_text(self.filter_string)
        if self.filter_string and not bar.apply_filter():
            problem = bar.problem()
            self._fail(2, f"invalid filter: {problem.message if problem else self.filter_string}")
            return
        self.window.store_opened.connect(self._store_opened)
        self.window.open_failed.connect(lambda message: self._fail(1, message))
        model = self.window.sidebar.model
        model.store_loaded.connect(self._store_listed)
        model.store_failed.connect(lambda _store, message: self._fail(1, message))
        self.window.runs.loaded.connect(self._runs_loaded)
        self.window.runs.load_failed.connect(lambda message: self._fail(1, message))
        self.window.open_location(location)

    def _store_opened(self, store: Store) -> None:
        self.store = store

    def _store_listed(self, store: Store) -> None:
        if store is not self.store or self._done:
            return
        experiments = self.window.sidebar.model.experiments_of(store)
        name = self.experiment
        if name is None:
            active = [e for e in experiments if not e.deleted]
            name = active[-1].name if active else None
        if name is None or not self.window.select_experiment_named(store, name):
            self._fail(2, f"no experiment named {name!r} in {store.display_name}")

    def _runs_loaded(self, _count: int) -> None:
        if self._done:
            return
        self.load_seconds = time.perf_counter() - self.started
        if self.view == "charts":
            self.window.show_charts()
            self.window.charts.drawn.connect(self._charts_drawn)
        self.window.runs.select_first(self.select)
        if self.view != "charts":
            QTimer.singleShot(SETTLE_MS, self._save)

    def _charts_drawn(self) -> None:
        if self._done or self.window.charts.loading:
            return
        self.charts_seconds = time.perf_counter() - self.started
        self.window.charts.drawn.disconnect(self._charts_drawn)
        QTimer.singleShot(SETTLE_MS, self._save)

    def _save(self) -> None:
        self.meter.stop()
        exit_code = 0
        if not self.window.grab().save(str(self.output)):
            print(f"flowdeck: could not write {self.output}", file=sys.stderr)
            exit_code = 1
        print(f"load {self.load_seconds:.2f} s", file=sys.stderr)
        if self.view == "charts":
            print(f"charts drawn {self.charts_seconds:.2f} s", file=sys.stderr)
        print(f"longest stall {self.meter.longest_ms:.0f} ms", file=sys.stderr, flush=True)
        self._finish(exit_code)

    def _fail(self, exit_code: int, message: str) -> None:
        if self._done:
            return
        print(f"flowdeck: {message}", file=sys.stderr, flush=True)
        self._finish(exit_code)

    def _finish(self, exit_code: int) -> None:
        self._done = True
        self.meter.stop()
        QTimer.singleShot(0, lambda: self.finished.emit(exit_code))
