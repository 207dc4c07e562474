"""The column chooser: search, show/hide (one, per group, all), reorder, and layout round trip."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from flowdeck.ui.runs.column_chooser import ColumnChooser, ColumnSpec
from flowdeck.ui.settings import Settings

SPECS = [
    ColumnSpec("attributes.run_name", "Name", "Run"),
    ColumnSpec("attributes.status", "Status", "Run"),
    ColumnSpec("attributes.start_time", "Start time", "Run"),
    ColumnSpec("params.lr", "lr", "Params"),
    ColumnSpec("params.<b>bold</b>", "<b>bold</b>", "Params"),
    ColumnSpec("metrics.loss", "loss", "Metrics"),
    ColumnSpec("metrics.val loss", "val loss", "Metrics"),
    ColumnSpec("min.loss", "loss (min)", "Metric min"),
    ColumnSpec("max.loss", "loss (max)", "Metric max"),
    ColumnSpec("step.loss", "loss (best step)", "Best step"),
]
ALL_IDS = [spec.id for spec in SPECS]


@pytest.fixture(autouse=True)
def no_qt_warnings(fail_on_qt_warnings):
    return fail_on_qt_warnings


def make(qtbot, layout=None) -> ColumnChooser:
    chooser = ColumnChooser(SPECS, layout)
    qtbot.addWidget(chooser)
    return chooser


def select(chooser: ColumnChooser, column_id: str) -> None:
    for row in range(chooser.tree.topLevelItemCount()):
        item = chooser.tree.topLevelItem(row)
        if item.data(0, Qt.ItemDataRole.UserRole) == column_id:
            chooser.tree.setCurrentItem(item)
            return
    raise AssertionError(column_id)


def test_without_a_layout_every_column_is_shown_in_spec_order(qtbot) -> None:
    chooser = make(qtbot)
    assert chooser.visible_ids() == ALL_IDS
    assert chooser.count_label.text() == "10 of 10 columns shown"


def test_saved_layout_orders_visible_first_then_the_rest_unchecked(qtbot) -> None:
    chooser = make(qtbot, {"visible": ["metrics.loss", "attributes.run_name", "gone.column"]})
    assert chooser.visible_ids() == ["metrics.loss", "attributes.run_name"]
    assert chooser.ordered_ids()[:3] == ["metrics.loss", "attributes.run_name", "attributes.status"]
    assert sorted(chooser.ordered_ids()) == sorted(ALL_IDS)


def test_search_filters_the_list_by_title_id_or_group(qtbot) -> None:
    chooser = make(qtbot)
    qtbot.keyClicks(chooser.search_edit, "LOSS")
    assert chooser.shown_in_list() == [
        "metrics.loss",
        "metrics.val loss",
        "min.loss",
        "max.loss",
        "step.loss",
    ]
    chooser.set_search("params")
    assert chooser.shown_in_list() == ["params.lr", "params.<b>bold</b>"]
    chooser.set_search("")
    assert chooser.shown_in_list() == ALL_IDS


def test_unchecking_hides_and_emits_the_visible_ids(qtbot) -> None:
    chooser = make(qtbot)
    item = chooser.tree.topLevelItem(1)
    with qtbot.waitSignal(chooser.layout_changed) as blocker:
        item.setCheckState(0, Qt.CheckState.Unchecked)
    assert blocker.args == [[i for i in ALL_IDS if i != "attributes.status"]]
    with qtbot.waitSignal(chooser.layout_changed) as blocker:
        chooser.set_visible("attributes.status", True)
    assert blocker.args == [ALL_IDS]


def test_show_and_hide_all_per_group_and_for_the_search(qtbot) -> None:
    chooser = make(qtbot)
    with qtbot.waitSignal(chooser.layout_changed) as blocker:
        chooser.set_group_visible("Metrics", False)
    assert "metrics.loss" not in blocker.args[0] and "min.loss" in blocker.args[0]
    chooser.set_search("loss")
    with qtbot.waitSignal(chooser.layout_changed) as blocker:
        chooser.hide_button.click()  # hides only what the search shows
    assert blocker.args == [
        [
            "attributes.run_name",
            "attributes.status",
            "attributes.start_time",
            "params.lr",
            "params.<b>bold</b>",
        ]
    ]
    with qtbot.waitSignal(chooser.layout_changed) as blocker:
        chooser.set_group_visible("Best step", True)
    assert blocker.args[0][-1] == "step.loss"
    group_menu = [a.text() for a in chooser.show_button.menu().actions()]
    assert group_menu == ["Run", "Params", "Metrics", "Metric min", "Metric max", "Best step"]


def test_move_up_and_down_reorders(qtbot) -> None:
    chooser = make(qtbot)
    select(chooser, "metrics.loss")
    with qtbot.waitSignal(chooser.layout_changed) as blocker:
        chooser.up_button.click()
    assert blocker.args[0][3:6] == ["params.lr", "metrics.loss", "params.<b>bold</b>"]
    chooser.move_current(-1)
    chooser.move_current(-1)
    assert chooser.visible_ids()[2] == "metrics.loss"
    assert chooser.tree.currentItem().data(0, Qt.ItemDataRole.UserRole) == "metrics.loss"
    chooser.move_current(1)
    assert chooser.visible_ids()[3] == "metrics.loss"
    select(chooser, "step.loss")
    chooser.move_current(1)  # already last: nothing moves
    assert chooser.visible_ids()[-1] == "step.loss"


def test_move_skips_rows_the_search_hides(qtbot) -> None:
    chooser = make(qtbot)
    chooser.set_search("loss")
    select(chooser, "min.loss")
    chooser.move_current(-1)
    chooser.move_current(-1)
    assert chooser.visible_ids()[5:8] == ["min.loss", "metrics.loss", "metrics.val loss"]


def test_alt_arrow_shortcuts_move(qtbot) -> None:
    chooser = make(qtbot)
    chooser.show()
    qtbot.waitExposed(chooser)
    chooser.activateWindow()
    qtbot.waitUntil(chooser.isActiveWindow, timeout=2000)
    select(chooser, "attributes.status")
    chooser.tree.setFocus()
    qtbot.keyClick(chooser.tree, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert chooser.visible_ids()[0] == "attributes.status"


def test_layout_round_trips_through_settings(qtbot, isolated_settings: Settings) -> None:
    chooser = make(qtbot)
    chooser.set_visible("params.lr", False)
    select(chooser, "metrics.val loss")
    chooser.move_current(-1)
    saved = chooser.layout()
    assert saved == chooser.column_layout() == {"visible": chooser.visible_ids()}
    isolated_settings.set_column_layout("sqlite:///x.db", "1", saved)
    again = make(qtbot, isolated_settings.column_layout("sqlite:///x.db", "1"))
    assert again.visible_ids() == chooser.visible_ids()
    assert "params.lr" not in again.visible_ids()
    assert again.ordered_ids()[: len(saved["visible"])] == saved["visible"]


def test_column_names_are_plain_text(qtbot) -> None:
    chooser = make(qtbot)
    chooser.set_search("<b>")
    item = next(
        chooser.tree.topLevelItem(r)
        for r in range(chooser.tree.topLevelItemCount())
        if not chooser.tree.topLevelItem(r).isHidden()
    )
    assert item.text(0) == "<b>bold</b>"
    assert "&lt;b&gt;" in item.toolTip(0) and "<b>" not in item.toolTip(0).replace("<p>", "")
