"""The welcome page: shown on the first run, opens recent stores and the demo store."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from tests.helpers.windows import close_window, shown_window
from tests.scenario import Scenario

from flowdeck import paths
from flowdeck.cli import parse_args, plan_launch
from flowdeck.ui.app import open_when_ready
from flowdeck.ui.main_window import MainWindow
from flowdeck.ui.pages.experiment import ExperimentPage
from flowdeck.ui.pages.welcome import NO_RECENT, TITLE, WelcomePage
from flowdeck.ui.pages.welcome_model import MISSING_NOTE
from flowdeck.ui.settings import Settings

TIMEOUT = 30_000
DEMO_BUILD_TIMEOUT = 600_000  # the first build writes about 100 runs with MLflow's client


@pytest.fixture
def window(qtbot, fail_on_qt_warnings):  # noqa: ANN001, ANN201
    window = shown_window(qtbot)
    yield window
    close_window(window)


def launch(qtbot, window: MainWindow, tmp_path: Path) -> WelcomePage:  # noqa: ANN001
    """What ``flowdeck`` does with no LOCATION, in a folder without a store, on this window."""
    plan = plan_launch(
        parse_args([]), cwd=tmp_path, environ={}, recent_stores=lambda: window.settings.recent_stores
    )
    assert plan.location is None and not plan.use_demo
    with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT) as loaded:
        open_when_ready(window, plan.page, plan.experiment, plan.filter_string, plan.view)
    page = loaded.args[0]
    assert isinstance(page, WelcomePage) and window.host.current_page() is page
    return page


def test_first_run_shows_the_welcome_page(qtbot, window: MainWindow, tmp_path: Path) -> None:
    page = launch(qtbot, window, tmp_path)
    assert window.host.tabs.tabText(0) == "Welcome"
    assert page.isVisible()
    texts = [label.text() for label in page.findChildren(type(page.no_recent))]
    assert TITLE in texts
    assert page.no_recent.isVisible() and page.no_recent.text() == NO_RECENT
    assert page.open_button.text().startswith("Open Store…") and "Ctrl+O" in page.open_button.text()
    assert "F1" in page.guide_button.text()
    assert page.demo_button.isEnabled()
    assert not page.icon.pixmap().isNull()  # the app icon
    assert window.stores() == []
    page.grab().save(str(tmp_path / "welcome.png"))


def test_a_recent_store_opens_with_a_click(
    qtbot, window: MainWindow, tmp_path: Path, sqlite_scenario: Scenario
) -> None:
    gone = str(tmp_path / "moved-away" / "mlflow.db")
    Settings().recent_stores = [sqlite_scenario.location, gone]
    window.settings.sync()
    page = window.open_page(None, "welcome")
    qtbot.waitUntil(lambda: len(page.recent_buttons) == 2, timeout=TIMEOUT)
    assert page.notes() == {sqlite_scenario.location: "", gone: MISSING_NOTE}
    assert not page.no_recent.isVisible()
    notes = [label.text() for label in page.findChildren(type(page.no_recent), "recent_note")]
    assert notes == [MISSING_NOTE]

    with qtbot.waitSignal(window.sidebar.model.store_loaded, timeout=TIMEOUT):
        qtbot.mouseClick(page.recent_buttons[sqlite_scenario.location], Qt.MouseButton.LeftButton)
    assert [store.location for store in window.stores()] == [sqlite_scenario.location]
    # the store's first experiment replaces the welcome page in its tab; Back returns to it
    qtbot.waitUntil(lambda: isinstance(window.host.current_page(), ExperimentPage), timeout=TIMEOUT)
    assert window.host.count() == 1
    window.host.back()
    assert isinstance(window.host.current_page(), WelcomePage)


def test_forget_removes_a_store_that_is_gone(qtbot, window: MainWindow, tmp_path: Path) -> None:
    gone = str(tmp_path / "old" / "mlruns")
    Settings().recent_stores = [gone]
    page = window.open_page(None, "welcome")
    qtbot.waitUntil(lambda: gone in page.recent_buttons, timeout=TIMEOUT)
    forget = [b for b in page.findChildren(type(page.open_button)) if b.text() == "Forget"]
    qtbot.mouseClick(forget[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.no_recent.isVisible(), timeout=TIMEOUT)
    assert window.settings.recent_stores == []


def test_help_welcome_opens_the_page_later(qtbot, window: MainWindow) -> None:
    assert [c.id for c in window.commands.menu_commands("Help")][0] == "help.welcome"
    assert window.commands.trigger("help.welcome")
    assert isinstance(window.host.current_page(), WelcomePage)
    assert window.commands.conflicts() == []


@pytest.mark.slow
def test_the_demo_button_builds_and_opens_the_demo_store(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    """Builds the demo store in the session's data folder unless tests/test_demo.py did."""
    page = launch(qtbot, window, tmp_path)
    building = not paths.demo_store_path().is_file()
    assert page.demo_note.isVisible() == building
    with qtbot.waitSignal(window.sidebar.model.store_loaded, timeout=DEMO_BUILD_TIMEOUT):
        qtbot.mouseClick(page.demo_button, Qt.MouseButton.LeftButton)
        if building:
            assert page.progress.isVisible() and not page.demo_button.isEnabled()
    assert paths.demo_store_path().is_file()
    [store] = window.stores()
    assert store.location.endswith(str(paths.demo_store_path()))
    qtbot.waitUntil(lambda: isinstance(window.host.current_page(), ExperimentPage), timeout=TIMEOUT)
    qtbot.waitUntil(
        lambda: window.host.current_page().title() == "image-classifier", timeout=TIMEOUT
    )
