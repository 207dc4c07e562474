"""Main windows for GUI tests: a shown window, a store opened in it, a page loaded in it."""

from __future__ import annotations

from pathlib import Path

from flowdeck.store.base import Store
from flowdeck.ui.main_window import MainWindow

TIMEOUT = 30_000


def shown_window(qtbot, size: tuple[int, int] = (1100, 700)) -> MainWindow:  # noqa: ANN001
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    return window


def close_window(window: MainWindow) -> None:
    """Stop what the window still runs (pytest-qt closes it afterwards)."""
    window.runner.cancel_all()
    window.runner.wait_idle(5000)


def open_store(qtbot, window: MainWindow, location: str | Path) -> Store:  # noqa: ANN001
    """Open ``location`` and wait until its experiments are listed and its state is known."""
    with qtbot.waitSignal(window.sidebar.model.store_loaded, timeout=TIMEOUT) as listed:
        window.open_location(str(location))
    store = listed.args[0]
    qtbot.waitUntil(lambda: id(store) in window.context.state.read_only, timeout=TIMEOUT)
    return store
