"""The main window on real stores written by MLflow: loading, filters, edits, refresh, state."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from tests.helpers.realworld import HOUSING_DB, needs_housing

from flowdeck.store.base import Store
from flowdeck.ui.main_window import MainWindow

HTML_RUN_NAME = "<b>bold</b> & <script>x</script>"
MANY_RUNS = 60
TIMEOUT = 30_000


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """vision: two parents, a nested child and an HTML-named run; many: 60 plain runs."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("main-window-store")
    db_path = folder / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{db_path}")
    vision = client.create_experiment("vision", artifact_location=str(folder / "a" / "vision"))
    parent_id = ""
    for name, lr, loss in (("resnet-a", "0.1", 0.3), ("resnet-b", "0.01", 0.6)):
        run = client.create_run(vision, run_name=name)
        client.log_param(run.info.run_id, "lr", lr)
        client.log_metric(run.info.run_id, "loss", loss)
        client.set_terminated(run.info.run_id)
        parent_id = parent_id or run.info.run_id
    client.create_run(vision, run_name="resnet-a-child", tags={"mlflow.parentRunId": parent_id})
    client.create_run(vision, run_name=HTML_RUN_NAME)
    many = client.create_experiment("many", artifact_location=str(folder / "a" / "many"))
    for number in range(MANY_RUNS):
        client.create_run(many, run_name=f"run-{number:02d}", start_time=1_700_000_000_000 + number)
    return db_path


@pytest.fixture
def window(qtbot) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1000, 600)
    window.show()
    yield window
    window.runner.cancel_all()
    window.runner.wait_idle(5000)


def open_store(qtbot, window: MainWindow, location: str | Path) -> Store:
    with qtbot.waitSignal(window.sidebar.model.store_loaded, timeout=TIMEOUT) as listed:
        window.open_location(str(location))
    return listed.args[0]


def select(qtbot, window: MainWindow, store: Store, experiment: str) -> None:
    with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT):
        assert window.select_experiment_named(store, experiment)


def shown_names(window: MainWindow) -> list[str]:
    table = window.runs.model.table()
    names = table.column("name").display
    return [names[row] for row in window.runs.model.visible_rows()]


def run_id_of(window: MainWindow, name: str) -> str:
    table = window.runs.model.table()
    return table.run_ids[list(table.column("name").display).index(name)]


def test_selecting_an_experiment_loads_its_runs(qtbot, qtmodeltester, window, store_path):
    store = open_store(qtbot, window, store_path)
    assert window.windowTitle() == "Flowdeck — mlflow.db"
    select(qtbot, window, store, "vision")
    assert sorted(shown_names(window)) == sorted(
        ["resnet-a", "resnet-b", "resnet-a-child", HTML_RUN_NAME]
    )
    model = window.runs.model
    child = model.index_of_run(run_id_of(window, "resnet-a-child"))
    assert model.data(child.parent().siblingAtColumn(1)) == "resnet-a"  # nested under its parent
    html_index = model.index_of_run(run_id_of(window, HTML_RUN_NAME), 1)
    assert model.data(html_index) == HTML_RUN_NAME  # plain text, as typed
    assert window.runs.pages.currentWidget() is window.runs.view
    assert window.statusBar().currentMessage().startswith("Loaded 4 runs")
    assert window.runs.count_label.text() == "4 runs"
    assert not window.progress.isVisible() and not window.cancel_button.isVisible()
    qtmodeltester.check(model)


def test_filter_applies_and_a_bad_filter_shows_its_error(qtbot, window, store_path):
    store = open_store(qtbot, window, store_path)
    select(qtbot, window, store, "vision")
    bar = window.runs.filter_bar
    with qtbot.waitSignal(window.runs.loaded, timeout=TIMEOUT):
        bar.set_filter_text("metrics.loss < 0.5", apply=True)
    assert shown_names(window) == ["resnet-a"]

    bar.set_filter_text("metrics.loss <<< 1", apply=True)
    assert bar.error_label.isVisible()
    assert bar.error_label.text()
    assert not window.runs.loading  # nothing was sent to the store
    assert shown_names(window) == ["resnet-a"]  # the last good filter still applies


def test_f5_keeps_the_selection_and_scroll_position(qtbot, window, store_path):
    store = open_store(qtbot, window, store_path)
    select(qtbot, window, store, "many")
    view = window.runs.view
    model = window.runs.model
    picked = [model.run_id(model.index(row, 0)) for row in (40, 41)]
    for run_id in picked:
        view.selectionModel().select(
            model.index_of_run(run_id),
            view.selectionModel().SelectionFlag.Select | view.selectionModel().SelectionFlag.Rows,
        )
    view.scrollTo(model.index_of_run(picked[0]), view.ScrollHint.PositionAtTop)
    scroll = view.verticalScrollBar().value()
    assert scroll > 0
    with qtbot.waitSignal(window.runs.loaded, timeout=TIMEOUT):
        qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.runs.selected_run_ids() == picked
    assert view.verticalScrollBar().value() == scroll
    assert set(window.context.focus.ids) == set(picked)


def test_a_writable_store_enables_edits(qtbot, window, store_path):
    store = open_store(qtbot, window, store_path)
    select(qtbot, window, store, "vision")
    window.runs.select_first(1)
    qtbot.waitUntil(lambda: id(store) in window.context.state.read_only, timeout=TIMEOUT)
    assert window.context.read_only_reason(store) is None
    assert window.commands.action("item.rename").isEnabled()
    assert not window.read_only_badge.isVisible()


@needs_housing
def test_read_only_store_disables_edits_with_its_reason(qtbot, window, tmp_path):
    copy = tmp_path / "mlflow.db"
    shutil.copy2(HOUSING_DB, copy)
    store = open_store(qtbot, window, copy)
    select(qtbot, window, store, "xgboost_optuna_housing")
    window.runs.select_first(2)
    qtbot.waitUntil(lambda: id(store) in window.context.state.read_only, timeout=TIMEOUT)
    reason = window.context.read_only_reason(store)
    assert reason
    for command_id in ("item.tags", "item.delete"):
        action = window.commands.action(command_id)
        assert not action.isEnabled()
        assert action.statusTip() == f"This store is read-only: {reason}"
    assert window.commands.action("run.copy_id").isEnabled()
    assert window.read_only_badge.isVisible()


def test_several_stores_side_by_side_and_close(qtbot, window, store_path, tmp_path):
    second = tmp_path / "second.db"
    shutil.copy2(store_path, second)
    first_store = open_store(qtbot, window, store_path)
    second_store = open_store(qtbot, window, second)
    assert window.stores() == [first_store, second_store]
    with qtbot.waitSignal(window.store_opened, timeout=TIMEOUT):
        window.open_location(str(store_path))  # already open: selected, not added twice
    assert len(window.stores()) == 2
    select(qtbot, window, second_store, "vision")
    window.close_current_store()
    assert window.stores() == [first_store]
    assert window.runs is None or window.runs.store is not second_store
    assert all(page.store is not second_store for page in window.host.pages())


def test_an_unopenable_location_is_a_plain_message(qtbot, window, tmp_path):
    with qtbot.waitSignal(window.open_failed, timeout=TIMEOUT) as failed:
        window.open_location(str(tmp_path / "nowhere.db"))
    assert "There is no database file" in failed.args[0]
    assert window.last_message is not None
    assert window.last_message.textFormat() == Qt.TextFormat.PlainText
    assert window.last_message.text() == failed.args[0]
    window.last_message.close()


def test_a_broken_database_fails_in_plain_words(qtbot, window, tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not an SQLite database at all" * 100)
    with qtbot.waitSignal(window.sidebar.model.store_failed, timeout=TIMEOUT) as failed:
        window.open_location(str(broken))
    assert failed.args[1] and "Traceback" not in failed.args[1]
    assert failed.args[1] in window.statusBar().currentMessage()


def test_dropping_a_database_file_opens_it(qtbot, window, store_path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(store_path))])
    event = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.store_opened, timeout=TIMEOUT) as opened:
        window.dropEvent(event)
    assert opened.args[0].display_name == "mlflow.db"


def test_export_writes_the_shown_runs_as_csv(qtbot, window, store_path, tmp_path):
    store = open_store(qtbot, window, store_path)
    select(qtbot, window, store, "vision")
    target = tmp_path / "runs.csv"
    window.runs.export_csv(str(target))
    assert window.runner.wait_idle(TIMEOUT)
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert sorted(row["name"] for row in rows) == sorted(
        ["resnet-a", "resnet-b", "resnet-a-child", HTML_RUN_NAME]
    )


def test_geometry_recent_stores_and_theme_persist(qtbot, isolated_settings, store_path):
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(700, 500)
    window.show()
    open_store(qtbot, window, store_path)
    window.set_theme("light")
    window.close()
    assert isolated_settings.recent_stores[0] == str(store_path)
    assert isolated_settings.theme == "light"
    again = MainWindow()
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (700, 500)
    assert again.commands.action("view.theme.light").isChecked()


def test_cancel_stops_the_load_and_auto_refresh_reloads_running_runs(qtbot, window, store_path):
    store = open_store(qtbot, window, store_path)
    select(qtbot, window, store, "many")  # MLflow leaves created runs RUNNING
    window.refresh()
    assert window.cancel_button.isVisible() and window.progress.isVisible()
    window.cancel_button.click()
    assert not window.runs.loading and not window.cancel_button.isVisible()
    assert window.statusBar().currentMessage() == "Loading cancelled"
    assert window.runner.wait_idle(TIMEOUT)
    assert len(shown_names(window)) == MANY_RUNS  # the table kept its rows

    assert window.runs.has_running()
    window.auto_timer.setInterval(20)
    window.commands.action("view.auto_refresh").trigger()
    with qtbot.waitSignal(window.runs.loaded, timeout=TIMEOUT):
        pass
    window.commands.action("view.auto_refresh").trigger()


def test_hidden_columns_are_remembered_per_experiment(qtbot, window, store_path):
    store = open_store(qtbot, window, store_path)
    select(qtbot, window, store, "vision")
    chooser = window.runs.choose_columns()
    chooser.set_visible("user", False)
    assert "user" not in window.runs.model.visible_column_ids()
    chooser.close()
    select(qtbot, window, store, "many")
    assert "user" in window.runs.model.visible_column_ids()
    select(qtbot, window, store, "vision")
    assert "user" not in window.runs.model.visible_column_ids()
    assert "params.lr" in window.runs.model.visible_column_ids()


def test_group_by_combo_groups_runs_with_counts_and_a_metric_mean(qtbot, window, store_path):
    store = open_store(qtbot, window, store_path)
    select(qtbot, window, store, "vision")
    pane = window.runs
    pane.group_combo.setCurrentIndex(pane.group_combo.findText("Group by param lr"))
    pane.group_combo.activated.emit(pane.group_combo.currentIndex())
    assert pane.metric_combo.isVisible()
    pane.metric_combo.setCurrentIndex(pane.metric_combo.findData("loss"))
    pane.metric_combo.activated.emit(pane.metric_combo.currentIndex())
    model = pane.model
    name_column = model.visible_column_ids().index("name")
    loss_column = model.visible_column_ids().index("metrics.loss")
    rows = {
        model.data(model.index(row, name_column)): model.data(model.index(row, loss_column))
        for row in range(model.rowCount())
    }
    assert rows["0.1 (1)"] == "0.3" and rows["0.01 (1)"] == "0.6"
    assert sum(int(label.rsplit("(", 1)[1].rstrip(")")) for label in rows) == 4
    group = model.index(0, 0)
    assert model.rowCount(group) >= 1 and pane.view.isExpanded(group)

    pane.group_combo.setCurrentIndex(pane.group_combo.findText("Flat list"))
    pane.group_combo.activated.emit(pane.group_combo.currentIndex())
    assert not pane.metric_combo.isVisible()
    assert model.rowCount() == 4  # the nested child is a row of its own


def test_theme_menu_switches_the_palette_and_is_remembered(qtbot, window, isolated_settings):
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    window.commands.action("view.theme.dark").trigger()
    dark = QApplication.palette().color(QPalette.ColorRole.Window).lightness()
    window.commands.action("view.theme.light").trigger()
    light = QApplication.palette().color(QPalette.ColorRole.Window).lightness()
    assert dark < 100 < light
    assert isolated_settings.theme == "light"
    assert window.commands.action("view.theme.light").isChecked()
    assert not window.commands.action("view.theme.dark").isChecked()


def test_an_experiment_asked_for_with_a_filter_opens_one_page(qtbot, window, store_path):
    """``flowdeck DB --experiment vision --filter …``: the filtered page, not also the plain one
    the sidebar would open (two pages built in one event-loop turn stall the window)."""
    from flowdeck.ui.app import open_when_ready

    opened = []
    window.host.page_opened.connect(opened.append)
    open_when_ready(window, None, "vision", "params.lr = '0.1'", "table")
    with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT):
        window.open_location(str(store_path))
    assert [page.address.filter for page in opened] == ["params.lr = '0.1'"]
    assert sorted(shown_names(window)) == ["resnet-a"]
    assert window.sidebar.tree.selectionModel().selectedRows()  # the sidebar shows vision
