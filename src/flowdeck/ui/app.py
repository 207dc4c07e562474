"""The QApplication: theme, crash hooks, the main window, and the scripted snapshot."""

from __future__ import annotations

import gc
import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from flowdeck import __version__
from flowdeck.desktop_entry import APP_ID, icon_file
from flowdeck.ui.crash import install_exception_hooks
from flowdeck.ui.heap import settle_heap
from flowdeck.ui.settings import Settings
from flowdeck.ui.theme import apply_theme

if TYPE_CHECKING:  # both import pandas: run_app imports them with the collector paused
    from flowdeck.store.base import Store
    from flowdeck.ui.main_window import MainWindow


def app_icon() -> QIcon:
    """The application icon from the package's ``resources/`` (empty when it is not shipped)."""
    icon = icon_file()
    return QIcon(str(icon)) if icon is not None else QIcon()


def application() -> QApplication:
    """The QApplication with Flowdeck's names and icon (created once)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Flowdeck")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("Flowdeck")
    app.setDesktopFileName(APP_ID)  # the .desktop file's name: Wayland matches windows by it
    app.setWindowIcon(app_icon())
    return app


BACKEND_MODULES = {"sql": "flowdeck.store.sql", "files": "flowdeck.store.files"}


def preload_backend(location: str) -> None:
    """Import the backend of ``location`` before the window shows: its imports (SQLAlchemy...)
    take about a second and, on a worker thread, hold the GIL long enough to stall the GUI."""
    from flowdeck.store.locations import resolve_location

    try:
        kind = resolve_location(location).kind
    except Exception:  # opening will explain the problem in the window
        return
    importlib.import_module(BACKEND_MODULES.get(kind, "flowdeck.store.rest"))


def create_window(location: str | None = None, settings: Settings | None = None) -> MainWindow:
    """The main window, opening ``location`` in its sidebar (errors become messages)."""
    from flowdeck.ui.main_window import MainWindow

    window = MainWindow(settings)
    if location:
        window.open_location(location)
    return window


def run_app(
    location: str,
    screenshot: Path | None = None,
    experiment: str | None = None,
    filter_string: str = "",
    select: int = 0,
    view: str = "table",
    page: str | None = None,
    timeout: float = 300.0,
) -> int:
    """Run the GUI on ``location`` until the window closes; returns the exit code."""
    # Start-up allocates a million long-lived objects: the collector would walk them again and
    # again (~10% of the imports' time). It resumes, those objects frozen, after the warm-up.
    gc.disable()
    app = application()
    settings = Settings()
    apply_theme(app, settings.theme)
    install_exception_hooks(app)
    if location:
        preload_backend(location)
    # The page types (pandas, pyqtgraph) and MLflow's filter parser load on a thread once the
    # window is usable (flowdeck.ui.startup); what needs them waits for them there.
    from flowdeck.ui.main_window import MainWindow

    window = MainWindow(settings)
    window.startup.warmup.resume_gc = True
    settle_heap(collect=False)
    if screenshot is not None:
        from flowdeck.ui.snapshot import PageRequest, Snapshot

        exit_code = 0

        def finished(code: int) -> None:
            nonlocal exit_code
            exit_code = code
            app.quit()

        request = PageRequest(page, experiment, filter_string, select, view, timeout)
        snapshot = Snapshot(window, screenshot, request)
        snapshot.finished.connect(finished)
        QTimer.singleShot(0, lambda: snapshot.start(location))
        app.exec()
        window.close()
        window.startup.warmup.stop()
        return exit_code
    window.show()
    if page or experiment or filter_string or view == "charts":
        window.sessions.restore_tabs = False
        open_when_ready(window, page, experiment, filter_string, view)
    if location:
        window.open_location(location)
    exit_code = app.exec()
    window.startup.warmup.stop()
    return exit_code


def open_when_ready(
    window: MainWindow, page: str | None, experiment: str | None, filter_string: str, view: str
) -> None:
    """Open the page (or experiment) asked for on the command line once the store is listed."""
    from flowdeck.core.addresses import BadAddress, experiment_address, parse_address

    if page and page.strip().strip("/") == "welcome":  # needs no store: shown once pages load
        window.startup.warmup.when_ready(lambda: window.open_page(None, page))
        return

    def listed(store: Store) -> None:
        window.sidebar.model.store_loaded.disconnect(listed)
        try:
            if page:
                address = parse_address(page)
            else:
                entries = window.sidebar.model.experiments_of(store)
                found = [e for e in entries if e.name == experiment] if experiment else entries[-1:]
                if not found:
                    window.show_message(
                        f"There is no experiment named {experiment!r} in this store."
                    )
                    return
                address = experiment_address([found[0].experiment_id], filter_string)
        except BadAddress as error:
            window.show_message(error.message)
            return

        def show() -> None:
            window.open_page(store, address)  # first: the sidebar then finds it open
            if not page:
                window.select_experiment_named(store, found[0].name)
            if view == "charts":
                window.show_charts()

        # the page types load after the window is usable; a filter needs MLflow's parser too
        window.startup.warmup.when_ready(show, parser=bool(address.filter))

    window.sidebar.model.store_loaded.connect(listed)
