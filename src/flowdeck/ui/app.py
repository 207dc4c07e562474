"""The QApplication: theme, crash hooks, the main window, and the scripted snapshot."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from flowdeck import __version__
from flowdeck.core.filter_check import check_run_filter
from flowdeck.store.base import Store
from flowdeck.store.locations import resolve_location
from flowdeck.ui.crash import install_exception_hooks
from flowdeck.ui.heap import settle_heap
from flowdeck.ui.main_window import MainWindow
from flowdeck.ui.settings import Settings
from flowdeck.ui.theme import apply_theme

ICON_NAME = "flowdeck.svg"


def app_icon() -> QIcon:
    """The application icon from ``resources/`` (an empty icon when it is not shipped)."""
    for folder in (
        Path(__file__).resolve().parents[3] / "resources",
        Path(sys.prefix) / "resources",
    ):
        candidate = folder / ICON_NAME
        if candidate.is_file():
            return QIcon(str(candidate))
    return QIcon()


def application() -> QApplication:
    """The QApplication with Flowdeck's names and icon (created once)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Flowdeck")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("Flowdeck")
    app.setDesktopFileName("flowdeck")
    app.setWindowIcon(app_icon())
    return app


BACKEND_MODULES = {"sql": "flowdeck.store.sql", "files": "flowdeck.store.files"}


def preload_backend(location: str) -> None:
    """Import the backend of ``location`` before the window shows: its imports (SQLAlchemy...)
    take about a second and, on a worker thread, hold the GIL long enough to stall the GUI."""
    try:
        kind = resolve_location(location).kind
    except Exception:  # opening will explain the problem in the window
        return
    importlib.import_module(BACKEND_MODULES.get(kind, "flowdeck.store.rest"))


def create_window(location: str | None = None, settings: Settings | None = None) -> MainWindow:
    """The main window, opening ``location`` in its sidebar (errors become messages)."""
    window = MainWindow(settings)
    if location:
        window.open_location(location)
    return window


def select_when_listed(window: MainWindow, name: str) -> None:
    """Select the experiment ``name`` once the first store opened has listed its experiments."""
    opened: list[Store] = []

    def listed(store: Store) -> None:
        if opened and store is opened[0]:
            window.sidebar.model.store_loaded.disconnect(listed)
            if not window.select_experiment_named(store, name):
                window.show_message(f"There is no experiment named {name!r} in this store.")

    window.store_opened.connect(lambda store: opened.append(store))
    window.sidebar.model.store_loaded.connect(listed)


def run_app(
    location: str,
    screenshot: Path | None = None,
    experiment: str | None = None,
    filter_string: str = "",
    select: int = 0,
    view: str = "table",
) -> int:
    """Run the GUI on ``location`` until the window closes; returns the exit code."""
    app = application()
    settings = Settings()
    apply_theme(app, settings.theme)
    install_exception_hooks(app)
    if location:
        preload_backend(location)
    if filter_string:
        check_run_filter(filter_string)  # its first use imports MLflow's parser: before show()
    window = MainWindow(settings)
    settle_heap()
    if screenshot is not None:
        from flowdeck.ui.snapshot import Snapshot

        exit_code = 0

        def finished(code: int) -> None:
            nonlocal exit_code
            exit_code = code
            app.quit()

        snapshot = Snapshot(window, screenshot, experiment, filter_string, select, view)
        snapshot.finished.connect(finished)
        QTimer.singleShot(0, lambda: snapshot.start(location))
        app.exec()
        window.close()
        return exit_code
    window.show()
    if view == "charts":
        window.show_charts()
    if experiment:
        select_when_listed(window, experiment)
    if filter_string:
        window.runs.filter_bar.set_filter_text(filter_string, apply=True)
    if location:
        window.open_location(location)
    return app.exec()
