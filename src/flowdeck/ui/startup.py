"""Start-up: when the window became usable, and the heavy modules warmed on a thread after it."""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from flowdeck.core.process_clock import seconds_since_start
from flowdeck.ui.heap import settle_heap

if TYPE_CHECKING:
    from flowdeck.store.base import Store
    from flowdeck.ui.pages.experiment import ExperimentPage

log = logging.getLogger(__name__)

PAGES_MODULE = "flowdeck.ui.pages"
EXPERIMENT_PAGE_MODULE = "flowdeck.ui.pages.experiment"
# What the first paint does without: the page types (the runs table with pandas, the charts
# with pyqtgraph...), then MLflow's filter parser (a second or more on its own).
PAGE_MODULES = (PAGES_MODULE,)
PARSER_MODULES = ("flowdeck.core.filter_check", "flowdeck.core.run_filter")
# PySide6 creates its Python types on first use, and doing so on two threads at once can crash
# the process (seen: pyqtgraph copying every Qt name on the warm-up thread while the GUI thread
# painted). So every Qt module the page types use has all its types created on the GUI thread,
# one module per turn of the event loop (the largest takes ~25 ms), before the thread starts.
QT_MODULES = (
    "PySide6.QtCore",
    "PySide6.QtGui",
    "PySide6.QtWidgets",
    "PySide6.QtSvg",
    "PySide6.QtOpenGL",
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtTest",
)
FILTER_PARSER_WARM_UP = "params.warm_up = '1'"
PAINT_GRACE_MS = 250  # a listed store whose sidebar does not repaint (hidden dock) is usable then
WARM_UP_FALLBACK_MS = 1_500  # no store listed by then (none given, a slow server): warm anyway
EXIT_WAIT_S = 30.0  # at exit, for the import under way (Python may crash, exiting amid one)


def process_cpu_seconds() -> float:
    """CPU time this process has used so far, every thread (steadier than wall time on a
    busy machine)."""
    times = os.times()
    return times.user + times.system


def as_experiment_page(page: object) -> ExperimentPage | None:
    """``page`` if it is an experiment page (a module that loads after the window shows)."""
    module = sys.modules.get(EXPERIMENT_PAGE_MODULE)
    if module is None or not imported(EXPERIMENT_PAGE_MODULE):  # still loading on the warm-up
        return None
    return page if isinstance(page, module.ExperimentPage) else None


def imported(name: str) -> bool:
    """Whether module ``name`` is in ``sys.modules`` and done initialising (in any thread)."""
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    return module is not None and not getattr(spec, "_initializing", False)


def import_modules(modules: Sequence[str]) -> None:
    """Import ``modules`` (any thread; errors are logged, the page needing one reports them)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:
            log.exception("warming up %s failed", name)


def create_qt_types(module_name: str) -> None:
    """Import a PySide6 module and create every type it holds (on the GUI thread)."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        log.warning("%s is not available", module_name)
        return
    for name in dir(module):
        getattr(module, name)


def warm_filter_parser() -> None:
    """Parse one filter, so that the user's first one finds MLflow's parser imported."""
    try:
        from flowdeck.core.filter_check import check_run_filter

        check_run_filter(FILTER_PARSER_WARM_UP)
    except Exception:
        log.exception("warming up the filter parser failed")


class Warmup(QObject):
    """Imports the page types, then MLflow's filter parser, on a daemon thread (once).

    What opens pages at start-up (the command line, saved tabs, the sidebar) waits in
    ``when_ready`` rather than import them on the GUI thread, or block there on a module lock
    the warm-up thread holds."""

    _pages_loaded = Signal()
    _parser_loaded = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.started = False
        self.held = False  # a first store is being listed: start only once it is (Startup)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.resume_gc = False  # run_app pauses the collector for the start-up: resume it after
        self._pages_done = self._parser_done = False
        self._waiting: list[tuple[bool, Callable[[], None]]] = []
        self._pages_loaded.connect(self._on_pages)
        self._parser_loaded.connect(self._on_parser)

    @property
    def pages_done(self) -> bool:
        return self._pages_done or all(imported(name) for name in PAGE_MODULES)

    @property
    def parser_done(self) -> bool:
        return self._parser_done

    def start(self) -> None:
        """Begin the background imports; later calls do nothing."""
        if not self.started:
            self.started = True
            self._create_qt_types(list(QT_MODULES))

    def _create_qt_types(self, remaining: list[str]) -> None:
        """One Qt module's types now, the rest on later turns; then start the thread."""
        if self._stopping.is_set():
            return
        if remaining:
            create_qt_types(remaining.pop(0))
            QTimer.singleShot(0, self, lambda: self._create_qt_types(remaining))
            return
        self._thread = threading.Thread(target=self._run, name="flowdeck-warm-up", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = EXIT_WAIT_S) -> None:
        """Before the process exits: skip what is not imported yet, wait for the import under
        way (an interpreter that shuts down amid a C extension's import can crash)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def when_ready(self, callback: Callable[[], None], parser: bool = False) -> None:
        """Call ``callback`` on the GUI thread once the page types (and with ``parser``,
        MLflow's filter parser) are imported: now if they are, else after the warm-up. That
        starts now, or if a first store is being listed once the window is usable (before,
        it would only slow the listing down)."""
        if self.pages_done and (self.parser_done or not parser):
            callback()
            return
        self._waiting.append((parser, callback))
        if not self.held:
            self.start()

    def _run(self) -> None:
        import_modules(PAGE_MODULES)
        self._emit(self._pages_loaded)
        for name in PARSER_MODULES:
            if self._stopping.is_set():
                return
            import_modules([name])
        if self._stopping.is_set():
            return
        warm_filter_parser()
        self._emit(self._parser_loaded)

    @staticmethod
    def _emit(signal: Signal) -> None:  # type: ignore[type-arg]
        with contextlib.suppress(RuntimeError):  # the window (and this object) closed meanwhile
            signal.emit()

    def _on_pages(self) -> None:
        self._pages_done = True
        self._call_waiting()

    def _on_parser(self) -> None:
        self._parser_done = True
        if self.resume_gc:
            self.resume_gc = False
            settle_heap(collect=False)  # what start-up made is never scanned again
            gc.enable()
        self._call_waiting()

    def _call_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        for parser, callback in waiting:
            if parser and not self.parser_done:
                self._waiting.append((parser, callback))
            else:
                callback()


class Startup(QObject):
    """Marks the moment the window became usable, then starts the warm-up.

    Usable: the window painted with the first store's experiments in the sidebar (its menus
    work from the first paint). ``first_paint_s`` and ``usable_s`` count from process start;
    ``usable_cpu_s`` is the CPU time the process had used by then."""

    usable = Signal()

    def __init__(self, window: QWidget, sidebar_view: QWidget, parent: QObject | None = None):
        super().__init__(parent or window)
        self.window = window
        self.sidebar_view = sidebar_view
        self.warmup = Warmup(self)
        self.first_paint_s: float | None = None
        self.usable_s: float | None = None
        self.usable_cpu_s: float | None = None
        self._watching_sidebar = False
        window.installEventFilter(self)

    def store_requested(self) -> None:
        """A store is opening: before the window is usable, the warm-up waits for it."""
        if self.usable_s is None:
            self.warmup.held = True

    def store_listed(self, _store: Store | None = None) -> None:
        """The first store's experiments arrived: usable once the sidebar has painted them."""
        if self.usable_s is not None or self._watching_sidebar:
            return
        self._watching_sidebar = True
        self.sidebar_view.installEventFilter(self)
        QTimer.singleShot(PAINT_GRACE_MS, self, self.mark_usable)  # (not once self is gone)

    def mark_usable(self) -> None:
        if self.usable_s is not None:
            return
        self.usable_s = seconds_since_start()
        self.usable_cpu_s = process_cpu_seconds()
        self.sidebar_view.removeEventFilter(self)
        self.usable.emit()
        self.warmup.held = False
        self.warmup.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Paint:
            if watched is self.window and self.first_paint_s is None:
                self.first_paint_s = seconds_since_start()
                self.window.removeEventFilter(self)
                QTimer.singleShot(WARM_UP_FALLBACK_MS, self, self.warmup.start)
            elif watched is self.sidebar_view and self._watching_sidebar:
                QTimer.singleShot(0, self, self.mark_usable)  # after this paint has finished
        return False
