"""The QApplication: opens the store, shows the window, and the hidden screenshot helper."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from flowdeck import __version__
from flowdeck.core.errors import FlowdeckError
from flowdeck.store import open_store
from flowdeck.store.base import Store
from flowdeck.ui.minimal_window import MinimalWindow

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


def create_window(location: str) -> MinimalWindow:
    """Open ``location`` and build the window; an unopenable location becomes a message."""
    store: Store | None = None
    error: str | None = None
    try:
        store = open_store(location)
    except FlowdeckError as exc:
        error = exc.message
    except Exception as exc:  # a backend bug must not stop the window from explaining it
        error = f"Flowdeck could not open {location}: {exc}"
    title = store.display_name if store is not None else location
    return MinimalWindow(store, title, open_error=error)


def run_app(location: str, screenshot: Path | None = None) -> int:
    """Run the GUI on ``location`` until the window closes; returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Flowdeck")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("Flowdeck")
    app.setDesktopFileName("flowdeck")
    app.setWindowIcon(app_icon())
    window = create_window(location)
    exit_code = 0
    if screenshot is not None:

        def save_and_quit(failed: bool) -> None:
            nonlocal exit_code
            exit_code = 1 if failed else 0
            if not window.grab().save(str(screenshot)):
                print(f"flowdeck: could not write {screenshot}", file=sys.stderr)
                exit_code = 1
            app.quit()

        # Wait one event-loop turn after loading so the view has laid out its rows.
        window.loaded.connect(lambda: QTimer.singleShot(50, lambda: save_and_quit(False)))
        window.failed.connect(lambda _msg: QTimer.singleShot(50, lambda: save_and_quit(True)))
        if window.store is None:
            QTimer.singleShot(50, lambda: save_and_quit(True))
    window.show()
    window.start_loading()
    result = app.exec()
    window.close()
    return exit_code if screenshot is not None else result
