"""The scripted snapshot: open a store and a page, wait until it has loaded, save a PNG, time it."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from flowdeck.core.addresses import Address, BadAddress, experiment_address, parse_address
from flowdeck.core.process_clock import seconds_since_start
from flowdeck.store.base import Store
from flowdeck.ui.main_window import MainWindow
from flowdeck.ui.shell.page import Page
from flowdeck.ui.startup import as_experiment_page

TICK_MS = 5
SETTLE_MS = 150  # after loading: let the view lay out and paint the rows before the grab
SNAPSHOT_SIZE = (1440, 860)


@dataclass(frozen=True)
class PageRequest:
    """What the command line asked to see."""

    page: str | None = None
    experiment: str | None = None
    filter_string: str = ""
    select: int = 0
    view: str = "table"
    timeout: float = 300.0


class StallMeter(QObject):
    """Ticks every few ms on the GUI thread; the longest gap between ticks is the worst stall.

    ``longest_cpu_ms`` is the GUI thread's own CPU time during that gap: near ``longest_ms``
    when the GUI thread was busy, near 0 when it waited (for the GIL, or for a busy machine).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.longest_ms = 0.0
        self.longest_cpu_ms = 0.0
        self._last = self._last_cpu = 0.0
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.longest_ms = self.longest_cpu_ms = 0.0
        self._last, self._last_cpu = time.perf_counter(), time.thread_time()
        self._timer.start()

    def stop(self) -> None:
        self._tick()
        self._timer.stop()

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gap = (now - self._last) * 1000 - TICK_MS
        if gap > self.longest_ms:
            self.longest_ms, self.longest_cpu_ms = gap, (cpu - self._last_cpu) * 1000
        self._last, self._last_cpu = now, cpu


class Snapshot(QObject):
    """Drives a MainWindow to the page asked for on the command line, then saves it.

    Exit codes: 0 saved, 1 the page or store failed to load (or took too long), 2 the address,
    experiment or filter names nothing / is malformed."""

    finished = Signal(int)  # exit code

    def __init__(self, window: MainWindow, output: Path, request: PageRequest) -> None:
        super().__init__(window)
        self.window = window
        self.output = output
        self.request = request
        self.meter = StallMeter(self)
        self.store: Store | None = None
        self.page: Page | None = None
        self.started = 0.0
        self.load_seconds = 0.0
        self.charts_seconds = 0.0
        self._done = False
        self._deadline = QTimer(self, singleShot=True)
        self._deadline.timeout.connect(self._too_slow)

    def start(self, location: str) -> None:
        """Show the window, open ``location`` and carry on as signals arrive."""
        window = self.window
        window.persist_state = False
        window.sessions.restore_tabs = False
        window.resize(*SNAPSHOT_SIZE)
        window.show()
        self.started = time.perf_counter()
        self.meter.start()
        self._deadline.start(int(self.request.timeout * 1000))
        try:
            self.address = parse_address(self.request.page) if self.request.page else None
        except BadAddress as error:
            self._fail(2, error.message)
            return
        if not location and self.address is not None and self.address.kind == "welcome":
            address = self.address  # the first-run page needs no store, only the page types
            window.startup.warmup.when_ready(lambda: self._open(None, address))
            return
        window.store_opened.connect(self._store_opened)
        window.open_failed.connect(lambda message: self._fail(1, message))
        model = window.sidebar.model
        model.store_loaded.connect(self._store_listed)
        model.store_failed.connect(lambda _store, message: self._fail(1, message))
        window.open_location(location)

    def _filter_is_valid(self) -> bool:
        from flowdeck.core.filter_check import check_run_filter

        problem = check_run_filter(self.request.filter_string)
        if problem is not None:
            self._fail(2, f"invalid filter: {problem.message}")
            return False
        return True

    def _when_ready(self, then: Callable[[], None]) -> None:
        """``then`` once the page types (with a filter, MLflow's parser too) have loaded on the
        warm-up thread, and the filter asked for is valid."""
        address_filter = self.address is not None and bool(self.address.filter)

        def go() -> None:
            if self._done or (self.request.filter_string and not self._filter_is_valid()):
                return
            then()

        needs_parser = bool(self.request.filter_string) or address_filter
        self.window.startup.warmup.when_ready(go, parser=needs_parser)

    def _store_opened(self, store: Store) -> None:
        self.store = store
        if self.address is not None:
            address = self.address
            if address.kind == "experiment" and self.request.filter_string and not address.filter:
                address = experiment_address(address.ids, self.request.filter_string)
            self._when_ready(lambda: self._open(store, address))

    def _store_listed(self, store: Store) -> None:
        if store is not self.store or self._done or self.page is not None or self.address is not None:
            return  # an address asked for opens once the store has (_store_opened)
        experiments = self.window.sidebar.model.experiments_of(store)
        name = self.request.experiment
        if name is None:
            active = [e for e in experiments if not e.deleted]
            name = active[-1].name if active else None
        found = [e for e in experiments if e.name == name]
        if name is None or not found:
            self._fail(2, f"no experiment named {name!r} in {store.display_name}")
            return
        address = experiment_address([found[0].experiment_id], self.request.filter_string)

        def show() -> None:
            # The page first: selecting in the sidebar then finds it open (and no other one).
            self._open(store, address)
            self.window.select_experiment_named(store, found[0].name)

        self._when_ready(show)

    def _open(self, store: Store | None, address: Address) -> None:
        page = self.window.open_page(store, address)
        if page is self.page:
            return
        self.page = page
        page.loaded.connect(self._page_loaded)
        page.failed.connect(lambda text, missing: self._fail(2 if missing else 1, text))
        if page.error is not None:  # it failed while starting
            self._fail(2 if page.names_nothing else 1, page.error)
        elif not page.loading:
            QTimer.singleShot(0, self._page_loaded)

    def _page_loaded(self) -> None:
        page = self.page
        if self._done or page is None:
            return
        page.loaded.disconnect(self._page_loaded)
        self.load_seconds = time.perf_counter() - self.started
        page = as_experiment_page(page)
        if page is None:
            QTimer.singleShot(SETTLE_MS, self._save)
            return
        if self.request.view == "charts":
            self.window.show_charts()
        page.runs.select_first(self.request.select)
        if self.request.view == "charts" and page.runs.selected_run_ids():
            page.charts.drawn.connect(self._charts_drawn)
        else:
            QTimer.singleShot(SETTLE_MS, self._save)

    def _charts_drawn(self) -> None:
        page = as_experiment_page(self.page)
        if self._done or page is None or page.charts.loading:
            return
        self.charts_seconds = time.perf_counter() - self.started
        page.charts.drawn.disconnect(self._charts_drawn)
        QTimer.singleShot(SETTLE_MS, self._save)

    def _too_slow(self) -> None:
        self._fail(1, f"the page did not finish loading within {self.request.timeout:g} s")

    def _save(self) -> None:
        if self._done:
            return
        warmup = self.window.startup.warmup
        if not warmup.parser_done:  # the stall meter covers the warm-up after start-up too
            warmup.when_ready(self._save, parser=True)
            return
        self.meter.stop()
        exit_code = 0
        if not self.window.grab().save(str(self.output)):
            print(f"flowdeck: could not write {self.output}", file=sys.stderr)
            exit_code = 1
        startup = self.window.startup  # usable: the sidebar painted the store's experiments
        started = startup.usable_s or startup.first_paint_s or seconds_since_start()
        print(f"load {self.load_seconds:.2f} s", file=sys.stderr)
        if self.request.view == "charts" and self.charts_seconds:
            print(f"charts drawn {self.charts_seconds:.2f} s", file=sys.stderr)
        print(f"longest stall {self.meter.longest_ms:.0f} ms", file=sys.stderr)
        print(f"stall cpu {self.meter.longest_cpu_ms:.0f} ms", file=sys.stderr)
        if startup.first_paint_s is not None:  # menus, Open Store and drag and drop work
            print(f"window shown {startup.first_paint_s:.2f} s", file=sys.stderr)
        if startup.usable_cpu_s is not None:
            print(f"started cpu {startup.usable_cpu_s:.2f} s", file=sys.stderr)
        print(f"started {started:.2f} s", file=sys.stderr, flush=True)
        self._finish(exit_code)

    def _fail(self, exit_code: int, message: str) -> None:
        if self._done:
            return
        print(f"flowdeck: {message}", file=sys.stderr, flush=True)
        self._finish(exit_code)

    def _finish(self, exit_code: int) -> None:
        self._done = True
        self._deadline.stop()
        self.meter.stop()
        QTimer.singleShot(0, lambda: self.finished.emit(exit_code))
