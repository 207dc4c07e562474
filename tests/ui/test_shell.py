"""The shell on a real store: pages, tabs and history, addresses, palette, shortcuts, refresh."""

from __future__ import annotations

import shlex
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QAction, QGuiApplication, QMouseEvent, QShortcut
from PySide6.QtWidgets import QApplication
from tests.helpers.windows import close_window, open_store, shown_window

from flowdeck.core.addresses import Address, experiment_address, parse_address, run_address
from flowdeck.core.context import Item, Selection
from flowdeck.store.base import Store
from flowdeck.ui.edit.name_dialog import NameDialog
from flowdeck.ui.main_window import MainWindow
from flowdeck.ui.pages.experiment import ExperimentPage

TIMEOUT = 30_000
NEWER_REVISION = "f4a9b2c7d1e6"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], dict[str, str]]:
    """vision: three runs with a loss; text: one run. Returns (db, experiment ids, run ids)."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("shell-store")
    db = folder / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiments, runs = {}, {}
    for name, count in (("vision", 3), ("text", 1)):
        experiments[name] = client.create_experiment(name, artifact_location=str(folder / name))
        for number in range(count):
            run = client.create_run(experiments[name], run_name=f"{name}-{number}")
            client.log_metric(run.info.run_id, "loss", 1.0 / (number + 1))
            client.log_param(run.info.run_id, "lr", str(number))
            client.set_terminated(run.info.run_id)
            runs[f"{name}-{number}"] = run.info.run_id
    return db, experiments, runs


@pytest.fixture
def db(template, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "mlflow.db"
    shutil.copy2(template[0], target)
    return target


make_window = shown_window


@pytest.fixture
def window(qtbot, fail_on_qt_warnings):
    window = shown_window(qtbot)
    yield window
    close_window(window)


def open_page(qtbot, window: MainWindow, store: Store, address, new_tab: bool = False):
    with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT) as loaded:
        page = window.open_page(store, address, new_tab)
    assert loaded.args[0] is page
    return page


def shown_names(page: ExperimentPage) -> list[str]:
    table = page.runs.model.table()
    return sorted(table.column("name").display[row] for row in page.runs.model.visible_rows())


def test_selecting_experiments_in_the_sidebar_opens_their_page(qtbot, window, db, template):
    store = open_store(qtbot, window, db)
    with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT) as loaded:
        assert window.select_experiment_named(store, "vision")
    page = loaded.args[0]
    assert isinstance(page, ExperimentPage)
    assert page.address == experiment_address([template[1]["vision"]])
    assert window.host.tabs.tabText(0) == "vision"
    assert shown_names(page) == ["vision-0", "vision-1", "vision-2"]
    assert window.context.experiment_ids == (template[1]["vision"],)


def test_history_back_forward_with_keys_and_mouse_buttons(qtbot, window, db, template):
    store = open_store(qtbot, window, db)
    vision = open_page(qtbot, window, store, experiment_address([template[1]["vision"]]))
    run_id = template[2]["vision-1"]
    vision.runs.focus_run(run_id)
    vision.runs.view.setFocus()
    with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT) as loaded:
        qtbot.keyClick(vision.runs.view, Qt.Key.Key_Return)  # Enter opens the run's page
    assert loaded.args[0].address == run_address(run_id)
    assert window.host.count() == 1 and window.host.can_go_back()

    with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT) as loaded:
        qtbot.keyClick(window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert loaded.args[0].family == "experiment"
    assert window.host.can_go_forward()

    forward = QMouseEvent(
        QEvent.Type.MouseButtonPress,
        QPointF(5, 5),
        QPointF(5, 5),
        Qt.MouseButton.ForwardButton,
        Qt.MouseButton.ForwardButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT) as loaded:
        QApplication.sendEvent(window.host.current_page(), forward)
    assert loaded.args[0].address == run_address(run_id)


def test_new_tabs_middle_click_and_ctrl_w(qtbot, window, db, template):
    store = open_store(qtbot, window, db)
    vision = open_page(qtbot, window, store, experiment_address([template[1]["vision"]]))
    index = vision.runs.model.index_of_run(template[2]["vision-0"])
    rect = vision.runs.view.visualRect(index)
    with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT) as loaded:
        qtbot.mouseClick(vision.runs.view.viewport(), Qt.MouseButton.MiddleButton, pos=rect.center())
    assert loaded.args[0].address == run_address(template[2]["vision-0"])
    assert window.host.count() == 2
    assert window.host.current_page() is vision  # a middle-click opens in the background
    window.host.tabs.setCurrentIndex(1)
    qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert window.host.count() == 1
    assert window.host.current_page() is vision


def test_copy_address_round_trips_through_a_new_window(qtbot, window, db, template):
    store = open_store(qtbot, window, db)
    address = experiment_address([template[1]["vision"]], "metrics.loss < 0.6")
    page = open_page(qtbot, window, store, address)
    assert shown_names(page) == ["vision-1", "vision-2"]
    text = window.copy_address()
    assert QGuiApplication.clipboard().text() == text
    words = shlex.split(text)
    assert words[:2] == ["flowdeck", str(db)] and words[2] == "--page"
    assert parse_address(words[3]) == address

    other = make_window(qtbot)
    second = open_store(qtbot, other, db)
    again = open_page(qtbot, other, second, words[3])
    assert shown_names(again) == ["vision-1", "vision-2"]
    assert again.runs.filter_bar.applied_filter() == "metrics.loss < 0.6"
    other.close()


def test_applying_a_filter_changes_the_address(qtbot, window, db, template):
    store = open_store(qtbot, window, db)
    page = open_page(qtbot, window, store, experiment_address([template[1]["vision"]]))
    with qtbot.waitSignal(page.runs.loaded, timeout=TIMEOUT):
        page.runs.filter_bar.set_filter_text("params.lr = '2'", apply=True)
    assert window.host.current_tab().visit.address.filter == "params.lr = '2'"
    assert "filter=params.lr%20%3D%20%272%27" in window.copy_address()


def test_tabs_and_their_addresses_come_back_on_the_next_start(qtbot, db, template):
    window = make_window(qtbot)
    store = open_store(qtbot, window, db)
    open_page(qtbot, window, store, experiment_address([template[1]["vision"]]))
    open_page(qtbot, window, store, run_address(template[2]["text-0"]), new_tab=True)
    window.close()

    again = make_window(qtbot)
    with qtbot.waitSignal(again.page_loaded, timeout=TIMEOUT):
        open_store(qtbot, again, db)
    qtbot.waitUntil(lambda: again.host.count() == 2, timeout=TIMEOUT)
    addresses = [visit.address for visit in again.host.visits()]
    assert addresses == [
        experiment_address([template[1]["vision"]]),
        run_address(template[2]["text-0"]),
    ]
    again.close()


def test_an_address_that_names_nothing_fails_in_plain_words(qtbot, window, db):
    store = open_store(qtbot, window, db)
    for address in ("run/" + "0" * 32, "experiment/999"):
        with qtbot.waitSignal(window.host.current_page_changed, timeout=TIMEOUT):
            page = window.open_page(store, address)
        if page.error is None:
            with qtbot.waitSignal(page.failed, timeout=TIMEOUT) as failed:
                pass
            message, missing = failed.args
        else:
            message, missing = page.error, True
        assert missing and ("0" * 32 in message or "999" in message)


def test_no_two_commands_share_a_shortcut_and_f5_refreshes_once(qtbot, window, db, template):
    assert window.commands.conflicts() == []
    store = open_store(qtbot, window, db)
    page = open_page(qtbot, window, store, experiment_address([template[1]["vision"]]))
    registry_keys = {
        key for command in window.commands.commands() for key in command.portable_shortcuts()
    }
    stray = [  # a QShortcut or QAction with keys outside the registry would shadow a command
        obj.key().toString()
        for obj in window.findChildren(QShortcut)
        if obj.key().toString() in registry_keys
    ] + [
        action.text()
        for action in window.findChildren(QAction)
        if not action.shortcut().isEmpty()
        and action not in {window.commands.action(c.id) for c in window.commands.commands()}
        and action.shortcut().toString() in registry_keys
    ]
    assert stray == []
    page.runs.view.setFocus()
    qtbot.keyClick(page.runs.view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert page.runs.filter_bar.filter_edit.hasFocus()
    qtbot.keyClick(page.runs.filter_bar.filter_edit, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert page.runs.filter_bar.name_edit.hasFocus()
    page.runs.view.setFocus()
    loads: list[int] = []
    page.runs.loaded.connect(loads.append)
    with qtbot.waitSignal(page.runs.loaded, timeout=TIMEOUT):
        qtbot.keyClick(page.runs.view, Qt.Key.Key_F5)
    assert window.runner.wait_idle(TIMEOUT)
    assert len(loads) == 1
    window.sidebar.tree.setFocus()
    with qtbot.waitSignal(page.runs.loaded, timeout=TIMEOUT):
        qtbot.keyClick(window.sidebar.tree, Qt.Key.Key_F5)  # the same one command


def test_the_palette_finds_and_runs_commands(qtbot, window, db, template):
    from flowdeck.ui.shell.palette import CommandPalette

    store = open_store(qtbot, window, db)
    page = open_page(qtbot, window, store, experiment_address([template[1]["vision"]]))
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    palette = next(w for w in QApplication.topLevelWidgets() if isinstance(w, CommandPalette))
    qtbot.keyClicks(palette.search, "refresh")
    assert palette.visible_command_ids()[0] == "view.refresh"
    with qtbot.waitSignal(page.runs.loaded, timeout=TIMEOUT):
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)


def test_a_rename_in_one_page_refreshes_the_other_page(qtbot, window, db, template):
    store = open_store(qtbot, window, db)
    address = experiment_address([template[1]["vision"]])
    first = open_page(qtbot, window, store, address)
    second = open_page(qtbot, window, store, address, new_tab=True)
    window.host.tabs.setCurrentIndex(0)
    first.runs.focus_run(template[2]["vision-0"])
    assert window.context.focus.ids == [template[2]["vision-0"]]
    window.commands.trigger("item.rename")
    qtbot.waitUntil(lambda: isinstance(window.edits.active_dialog, NameDialog), timeout=TIMEOUT)
    dialog = window.edits.active_dialog
    dialog.name_edit.setText("renamed <b>run</b>")
    with qtbot.waitSignal(second.runs.loaded, timeout=TIMEOUT):
        dialog.accept()
    assert "renamed <b>run</b>" in shown_names(second)
    qtbot.waitUntil(lambda: "renamed <b>run</b>" in shown_names(first), timeout=TIMEOUT)


def test_two_pages_load_at_once_without_cancelling_each_other(qtbot, window, db, template):
    store = open_store(qtbot, window, db)
    pages = []
    with qtbot.waitSignals([window.page_loaded, window.page_loaded], timeout=TIMEOUT):
        for name in ("vision", "text"):
            pages.append(window.open_page(store, experiment_address([template[1][name]]), True))
    assert all(not page.loading and page.error is None for page in pages)
    assert shown_names(pages[1]) == ["text-0"]


def test_a_store_migrated_while_open_becomes_read_only_at_the_next_write(
    qtbot, window, db, template
):
    store = open_store(qtbot, window, db)
    qtbot.waitUntil(lambda: window.context.read_only_reason(store) is None, timeout=TIMEOUT)
    page = open_page(qtbot, window, store, experiment_address([template[1]["text"]]))
    page.runs.focus_run(template[2]["text-0"])
    assert window.commands.reason("item.rename") is None
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (NEWER_REVISION,))
    connection.close()
    window.commands.trigger("item.rename")
    qtbot.waitUntil(lambda: isinstance(window.edits.active_dialog, NameDialog), timeout=TIMEOUT)
    dialog = window.edits.active_dialog
    dialog.name_edit.setText("never written")
    with qtbot.waitSignal(window.writes.failed, timeout=TIMEOUT) as failed:
        dialog.accept()
    assert "newer" in failed.args[0].lower() or "version" in failed.args[0].lower()
    assert window.read_only_badge.isVisible()
    reason = window.commands.reason("item.rename")
    assert reason and reason.startswith("This store is read-only")
    window.last_message.close()


def test_the_jobs_button_lists_running_work(qtbot, window, db, template):
    store = open_store(qtbot, window, db)
    window.open_page(store, experiment_address([template[1]["vision"]]))
    window.open_page(store, Address("models"), new_tab=True)
    labels = [job.label for job in window.runner.jobs()]
    assert labels and window.jobs_button.isVisibleTo(window)
    window.jobs_button.open_popup()
    assert [row.label.text() for row in window.jobs_button.rows()] == labels
    window.jobs_button.popup.close()
    assert window.runner.wait_idle(TIMEOUT)


def test_edit_commands_act_on_what_has_focus(qtbot, window, db, template):
    store = open_store(qtbot, window, db)
    with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT) as loaded:
        window.select_experiment_named(store, "vision")
    page = loaded.args[0]
    window.sidebar.tree.setFocus()
    qtbot.waitUntil(lambda: window.context.focus.kind == "experiment", timeout=TIMEOUT)
    assert window.context.focus.ids == [template[1]["vision"]]
    page.runs.focus_run(template[2]["vision-2"])
    page.runs.view.setFocus()
    qtbot.waitUntil(lambda: window.context.focus.kind == "run", timeout=TIMEOUT)
    assert window.context.focus == Selection(
        "run", store, (Item(template[2]["vision-2"], "vision-2", False, page.runs.selected_refs()[0].artifact_uri or ""),)
    )


def test_the_sidebar_follows_the_current_page(qtbot, window, db, template):
    from flowdeck.ui.sidebar.model import Kind, Role

    store = open_store(qtbot, window, db)
    open_page(qtbot, window, store, experiment_address([template[1]["vision"]]))
    open_page(qtbot, window, store, Address("models"), new_tab=True)
    current = window.sidebar.tree.currentIndex()
    assert current.data(Role.KIND) == Kind.MODELS
    assert window.host.count() == 2  # selecting the row did not open another page
    window.host.tabs.setCurrentIndex(0)
    assert [e.name for e in window.sidebar.current_selection()[1]] == ["vision"]
    assert window.host.count() == 2


def test_a_page_reload_keeps_the_sidebar_focus(qtbot, window, db, template):
    store = open_store(qtbot, window, db)
    with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT) as loaded:
        window.select_experiment_named(store, "vision")
    page = loaded.args[0]
    assert window.context.focus.kind == "experiment"
    with qtbot.waitSignal(page.runs.loaded, timeout=TIMEOUT):
        window.refresh()  # the table reloads with nothing selected
    assert window.context.focus.kind == "experiment"
    assert window.commands.reason("item.tags") is None  # Edit Tags still acts on the experiment
