"""Runs across stores: a live store and its copy side by side in one table and one chart set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtWidgets import QApplication
from tests.helpers.two_stores import (
    LIVE_LATER_LOSS,
    MIRROR_LATER_LOSS,
    SHARED_LOSS,
    TwoStores,
    two_stores,
)
from tests.helpers.windows import TIMEOUT, close_window, open_store, shown_window

from flowdeck.ui.main_window import MainWindow
from flowdeck.ui.sidebar.model import Role

SHOTS = Path("/tmp/flowdeck-shots")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> TwoStores:
    return two_stores(tmp_path_factory)


@pytest.fixture
def window(qtbot, qt_warnings, data):  # noqa: ANN001, ANN201
    window = shown_window(qtbot, (1300, 860))
    window.persist_state = False
    live = open_store(qtbot, window, data.live)
    mirror = open_store(qtbot, window, data.mirror)
    window.live, window.mirror = live, mirror  # type: ignore[attr-defined]
    yield window
    close_window(window)


def experiment_row(window: MainWindow, store: object, experiment_id: str) -> QModelIndex:
    sidebar = window.sidebar
    return sidebar.proxy.mapFromSource(sidebar.model.experiment_index(store, experiment_id))


def click_row(qtbot, window: MainWindow, index: QModelIndex, ctrl: bool = False) -> None:  # noqa: ANN001
    tree = window.sidebar.tree
    tree.scrollTo(index)
    modifier = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    point = tree.visualRect(index).center()
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, modifier, point)


def open_across(qtbot, window: MainWindow, data: TwoStores):  # noqa: ANN001, ANN201
    """Click the live store's experiment, then ctrl-click the mirror's: the across page."""
    with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT):
        click_row(qtbot, window, experiment_row(window, window.live, data.experiment_id))
    with qtbot.waitSignal(
        window.page_loaded, timeout=TIMEOUT, check_params_cb=lambda p: p.family == "across"
    ) as loaded:
        click_row(
            qtbot, window, experiment_row(window, window.mirror, data.experiment_id), ctrl=True
        )
    page = loaded.args[0]
    assert window.host.current_page() is page
    return page


def column_texts(page, column_id: str) -> list[str]:  # noqa: ANN001
    model = page.runs.model
    column = model.visible_column_ids().index(column_id)
    return [model.index(row, column).data() for row in range(model.rowCount())]


def row_of(page, store_name: str, run_name: str) -> QModelIndex:  # noqa: ANN001
    model = page.runs.model
    stores, names = column_texts(page, "store"), column_texts(page, "name")
    rows = [r for r in range(model.rowCount()) if (stores[r], names[r]) == (store_name, run_name)]
    assert len(rows) == 1, (store_name, run_name, stores, names)
    return model.index(rows[0], 0)


def test_experiments_of_two_stores_show_in_one_table_with_a_store_column(
    qtbot, qtmodeltester, window, data
):
    page = open_across(qtbot, window, data)
    sidebar = window.sidebar

    # both experiments stay selected in the sidebar, one under each store
    selected = sidebar.tree.selectionModel().selectedRows()
    assert {index.data(Role.STORE) for index in selected} == {window.live, window.mirror}
    assert str(page.address) == f"across/1:{data.experiment_id},2:{data.experiment_id}"
    assert page.title() == "training — 2 stores"

    model = page.runs.model
    qtmodeltester.check(model)
    assert model.rowCount() == 4
    store_column = model.visible_column_ids().index("store")
    assert model.headerData(store_column, Qt.Orientation.Horizontal) == "Store"
    rows = sorted(zip(column_texts(page, "store"), column_texts(page, "name"), strict=True))
    assert rows == [
        ("live.db", "live-only"),
        ("live.db", "shared"),
        ("mirror.db", "mirror-only"),
        ("mirror.db", "shared"),
    ]
    # the run id both stores hold is there twice, each row its own store's run
    table = page.runs.table()
    own_ids = [table.column("run_id").display[r] for r in range(table.n_rows)]
    assert own_ids.count(data.shared_run_id) == 2
    assert "4 runs" in page.runs.count_label.text()

    # sorting by the Store column puts the mirror's runs first when descending
    page.runs.view.sortByColumn(store_column, Qt.SortOrder.DescendingOrder)
    assert column_texts(page, "store") == ["mirror.db", "mirror.db", "live.db", "live.db"]


def test_each_run_s_curve_comes_from_its_own_store(qtbot, window, data):
    page = open_across(qtbot, window, data)
    window.show_charts()
    view = page.runs.view
    live_shared, mirror_shared = (
        row_of(page, "live.db", "shared"),
        row_of(page, "mirror.db", "shared"),
    )
    with qtbot.waitSignal(page.charts.drawn, timeout=TIMEOUT):
        view.selectionModel().select(
            live_shared,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        view.selectionModel().select(
            mirror_shared,
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    qtbot.waitUntil(lambda: not page.charts._pending, timeout=TIMEOUT)

    chart = page.charts.charts["loss"]
    curves = {c.data.name: c for c in chart._curves.values()}
    assert sorted(curves) == ["shared · live.db", "shared · mirror.db"]
    live_y = curves["shared · live.db"].item.getData()[1]
    mirror_y = curves["shared · mirror.db"].item.getData()[1]
    np.testing.assert_array_equal(live_y, [*SHARED_LOSS, LIVE_LATER_LOSS])
    np.testing.assert_array_equal(mirror_y, [*SHARED_LOSS, MIRROR_LATER_LOSS])
    colours = {c.item.opts["pen"].color().name() for c in curves.values()}
    assert len(colours) == 2  # told apart by colour too

    # the selected runs come from two stores: edit commands have nothing to act on
    assert not page.selection()
    SHOTS.mkdir(exist_ok=True)
    window.grab().save(str(SHOTS / "across-stores.png"))


def test_a_filter_is_evaluated_by_each_store_and_a_row_opens_its_own_run_page(qtbot, window, data):
    page = open_across(qtbot, window, data)
    bar = page.runs.filter_bar
    with qtbot.waitSignal(page.runs.loaded, timeout=TIMEOUT):
        bar.set_filter_text("metrics.loss < 0.7")
        assert bar.apply_filter()
    # live: shared (latest 0.25); mirror: mirror-only (0.6), its shared run is at 0.75
    rows = sorted(zip(column_texts(page, "store"), column_texts(page, "name"), strict=True))
    assert rows == [("live.db", "shared"), ("mirror.db", "mirror-only")]
    assert page.address.filter == "metrics.loss < 0.7"
    assert str(page.address).startswith(f"across/1:{data.experiment_id},2:{data.experiment_id}?")
    assert not page.failures_label.isVisible()

    # one run selected: edit commands act on it in its own store
    index = row_of(page, "mirror.db", "mirror-only")
    page.runs.view.selectionModel().select(
        index,
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    selection = page.selection()
    assert selection.store is window.mirror and selection.ids == [data.mirror_only_run_id]

    with qtbot.waitSignal(
        window.page_loaded, timeout=TIMEOUT, check_params_cb=lambda p: p.family == "run"
    ) as loaded:
        page.runs.view.setCurrentIndex(index)
        qtbot.keyClick(page.runs.view, Qt.Key.Key_Return)
    run_page = loaded.args[0]
    assert run_page.store is window.mirror
    assert str(run_page.address) == f"run/{data.mirror_only_run_id}"
    assert window.host.count() == 1  # in the same tab: Back returns to the runs
    window.host.back()
    qtbot.waitUntil(lambda: window.host.current_page().family == "across", timeout=TIMEOUT)


def test_runs_across_stores_command_offers_the_namesakes(qtbot, window, data):
    with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT):
        click_row(qtbot, window, experiment_row(window, window.live, data.experiment_id))
    action = window.commands.action("page.across")
    window.commands.update_state()
    assert action.isEnabled()
    action.trigger()
    from flowdeck.ui.across.dialog import AcrossDialog

    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, AcrossDialog))
    qtbot.waitExposed(dialog)
    keys = [f"1:{data.experiment_id}", f"2:{data.experiment_id}"]
    assert dialog.keys() == keys  # the same experiment in the other store comes along
    dialog.set_checked(keys[1], False)
    assert not dialog.show_button.isEnabled() and not dialog.hint.isHidden()
    dialog.set_checked(keys[1], True)
    assert dialog.show_button.isEnabled()
    SHOTS.mkdir(exist_ok=True)
    dialog.grab().save(str(SHOTS / "across-dialog.png"))
    with qtbot.waitSignal(
        window.page_loaded, timeout=TIMEOUT, check_params_cb=lambda p: p.family == "across"
    ):
        qtbot.mouseClick(dialog.show_button, Qt.MouseButton.LeftButton)
    assert window.host.current_page().runs.model.rowCount() == 4


def test_closing_one_of_the_stores_ends_the_page(qtbot, window, data):
    page = open_across(qtbot, window, data)
    window.open_page(None, "servers", new_tab=True)  # the runs wait in a tab behind
    with qtbot.waitSignal(page.failed, timeout=TIMEOUT) as failed:
        window.sessions.close_store(window.mirror)
    assert failed.args[0] == "mirror.db was closed."
    assert len(window.stores()) == 1
    window.commands.update_state()
    assert not window.commands.action("page.across").isEnabled()


def test_an_address_naming_a_store_that_is_not_open_says_so(qtbot, window):
    page = window.open_page(None, "across/1:0,3:0")
    assert page.error is not None and "Store 3 is not open" in page.error
