"""The runs filter bar: inline errors, apply on Enter, key completion, debounced search, statuses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from flowdeck.store import open_store
from flowdeck.ui.runs.filter_bar import FilterBar, error_colour
from flowdeck.ui.settings import Settings


@pytest.fixture(scope="module")
def store_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list, list, list]]:
    """Metric/param/tag keys of a small store written by MLflow, read back through Flowdeck."""
    from mlflow import MlflowClient

    folder: Path = tmp_path_factory.mktemp("filter-bar-store")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("filters")
    run = client.create_run(experiment_id, run_name="<b>bold</b> & <script>x</script>")
    client.log_metric(run.info.run_id, "loss", 0.4)
    client.log_metric(run.info.run_id, "val loss", 0.5)
    client.log_metric(run.info.run_id, "accuracy", 0.9)
    client.log_param(run.info.run_id, "lr", "0.01")
    client.log_param(run.info.run_id, "batch/size", "32")
    client.set_tag(run.info.run_id, "team", "vision")
    client.set_terminated(run.info.run_id)
    store = open_store(uri)
    frame = store.runs([experiment_id])

    def keys(prefix: str) -> list[str]:
        return [c.removeprefix(prefix) for c in frame.columns if c.startswith(prefix)]

    yield keys("metrics."), keys("params."), keys("tags.")
    close = getattr(store, "close", None)
    if close is not None:
        close()


@pytest.fixture
def bar(qtbot, store_keys, qt_warnings) -> FilterBar:
    widget = FilterBar()
    qtbot.addWidget(widget)
    widget.set_keys(*store_keys)
    widget.resize(900, 80)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def type_filter(qtbot, bar: FilterBar, text: str) -> None:
    bar.filter_edit.setFocus()
    bar.filter_edit.clear()
    qtbot.keyClicks(bar.filter_edit, text)


def test_bad_filter_shows_error_and_enter_does_not_apply(qtbot, bar: FilterBar) -> None:
    with qtbot.assertNotEmitted(bar.filter_changed):
        type_filter(qtbot, bar, "metrics.loss < 0.5 or params.lr = '0.01'")
        qtbot.waitUntil(bar.error_label.isVisible, timeout=2000)
        qtbot.keyClick(bar.filter_edit, Qt.Key.Key_Return)
    assert "OR is not supported" in bar.error_label.text()
    assert bar.error_label.text().startswith("At character 20: ")
    assert bar.error_label.textFormat() == Qt.TextFormat.PlainText
    assert "border" in bar.filter_edit.styleSheet()
    assert bar.applied_filter() == ""


def test_error_text_is_red_for_the_palette(bar: FilterBar) -> None:
    assert error_colour(bar.palette()).red() > 150
    bar.set_filter_text("params.lr = 0.01")
    bar.validate()
    assert QColor(error_colour(bar.palette())).name() in bar.error_label.styleSheet()


def test_good_filter_applies_on_enter_and_clears_the_error(qtbot, bar: FilterBar) -> None:
    type_filter(qtbot, bar, "params.lr = 0.01")
    qtbot.waitUntil(bar.error_label.isVisible, timeout=2000)
    bar.filter_edit.end(False)
    qtbot.keyClick(bar.filter_edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(bar.filter_edit, "1'")
    bar.filter_edit.home(False)
    bar.filter_edit.setCursorPosition(len("params.lr = "))
    qtbot.keyClicks(bar.filter_edit, "'")
    assert bar.filter_text() == "params.lr = '0.01'"
    with qtbot.waitSignal(bar.filter_changed, timeout=2000) as blocker:
        qtbot.keyClick(bar.filter_edit, Qt.Key.Key_Return)
    assert blocker.args == ["params.lr = '0.01'"]
    assert not bar.error_label.isVisible()
    assert bar.filter_edit.styleSheet() == ""


def test_typing_is_checked_only_after_a_pause(qtbot, bar: FilterBar) -> None:
    type_filter(qtbot, bar, "metrics.loss <")
    assert not bar.error_label.isVisible()  # no error flashing while the user types
    qtbot.waitUntil(bar.error_label.isVisible, timeout=2000)
    assert "Incomplete" in bar.error_label.text()


def test_escape_clears_and_applies_the_empty_filter(qtbot, bar: FilterBar) -> None:
    bar.set_filter_text("metrics.loss < 1", apply=True)
    bar.filter_edit.setFocus()
    with qtbot.waitSignal(bar.filter_changed, timeout=2000) as blocker:
        qtbot.keyClick(bar.filter_edit, Qt.Key.Key_Escape)
    assert blocker.args == [""]
    assert bar.filter_text() == ""


def test_completion_offers_metric_keys_after_metrics_dot(qtbot, bar: FilterBar) -> None:
    type_filter(qtbot, bar, "metrics.")
    completion = bar.filter_edit.completion
    qtbot.waitUntil(completion.popup_visible, timeout=2000)
    assert completion.candidates() == ["accuracy", "loss", "`val loss`"]
    assert "lr" not in completion.candidates()


def test_completion_backticks_a_key_with_a_space(qtbot, bar: FilterBar) -> None:
    type_filter(qtbot, bar, "metrics.loss < 1 and metrics.val")
    completion = bar.filter_edit.completion
    assert completion.candidates() == ["`val loss`"]
    completion.insert_completion("`val loss`")
    assert bar.filter_text() == "metrics.loss < 1 and metrics.`val loss`"
    qtbot.keyClicks(bar.filter_edit, " > 0.1")
    with qtbot.waitSignal(bar.filter_changed, timeout=2000) as blocker:
        qtbot.keyClick(bar.filter_edit, Qt.Key.Key_Return)
    assert blocker.args == ["metrics.loss < 1 and metrics.`val loss` > 0.1"]


def test_completion_of_params_tags_and_prefixes(qtbot, bar: FilterBar) -> None:
    completion = bar.filter_edit.completion
    type_filter(qtbot, bar, "params.")
    assert completion.candidates() == ["`batch/size`", "lr"]
    type_filter(qtbot, bar, "tags.te")
    assert completion.candidates() == ["team"]
    type_filter(qtbot, bar, "par")
    assert completion.candidates() == ["params."]
    completion.insert_completion("params.")
    assert bar.filter_text() == "params."
    type_filter(qtbot, bar, "metrics.loss < ")
    assert completion.candidates() == []
    assert not completion.popup_visible()


def test_popup_enter_picks_a_key_without_applying(qtbot, bar: FilterBar) -> None:
    type_filter(qtbot, bar, "metrics.acc")
    completion = bar.filter_edit.completion
    qtbot.waitUntil(completion.popup_visible, timeout=2000)
    popup = completion.completer.popup()
    popup.setCurrentIndex(completion.completer.completionModel().index(0, 0))
    with qtbot.assertNotEmitted(bar.filter_changed):
        qtbot.keyClick(popup, Qt.Key.Key_Return)
    assert bar.filter_text() == "metrics.accuracy"


def test_name_search_is_debounced_to_one_signal(qtbot, bar: FilterBar) -> None:
    received: list[str] = []
    bar.name_search_changed.connect(received.append)
    bar.name_edit.setFocus()
    with qtbot.waitSignal(bar.name_search_changed, timeout=2000):
        qtbot.keyClicks(bar.name_edit, "bold run")
    qtbot.wait(400)  # a second signal would arrive within one more debounce interval
    assert received == ["bold run"]


def test_status_menu_emits_the_checked_set(qtbot, bar: FilterBar) -> None:
    assert bar.status_button.text() == "Status: all ▾"
    with qtbot.waitSignal(bar.statuses_changed) as first:
        bar.status_actions["FAILED"].trigger()
    assert first.args == [{"FAILED"}]
    with qtbot.waitSignal(bar.statuses_changed) as second:
        bar.status_actions["RUNNING"].trigger()
    assert second.args == [{"FAILED", "RUNNING"}]
    assert bar.status_button.text() == "Status: Failed, Running ▾"
    with qtbot.waitSignal(bar.statuses_changed) as third:
        bar.status_actions["FAILED"].trigger()
    assert third.args == [{"RUNNING"}]


def test_deleted_runs_toggle(qtbot, bar: FilterBar) -> None:
    with qtbot.waitSignal(bar.view_changed) as blocker:
        bar.deleted_button.click()
    assert blocker.args == ["deleted"]
    with qtbot.waitSignal(bar.view_changed) as blocker:
        bar.deleted_button.click()
    assert blocker.args == ["active"]


def test_focus_commands_focus_the_boxes(qtbot, bar: FilterBar) -> None:
    """The window's Ctrl+L / Ctrl+F commands call these (see tests/ui/test_shell.py)."""
    bar.activateWindow()
    bar.name_edit.setFocus()
    bar.filter_edit.setText("metrics.loss < 1")
    bar.focus_filter()
    qtbot.waitUntil(bar.filter_edit.hasFocus, timeout=2000)
    assert bar.filter_edit.selectedText() == "metrics.loss < 1"
    bar.focus_name_search()
    qtbot.waitUntil(bar.name_edit.hasFocus, timeout=2000)


def test_history_up_down_per_experiment_and_kept_in_settings(
    qtbot, store_keys, isolated_settings: Settings
) -> None:
    bar = FilterBar(settings=isolated_settings)
    qtbot.addWidget(bar)
    bar.set_history_key("store|exp-1")
    for text in ("metrics.loss < 1", "params.lr = '0.01'", "tags.team = 'vision'"):
        bar.set_filter_text(text, apply=True)
    bar.set_filter_text("metrics.acc")  # a draft, not applied
    bar.filter_edit.setFocus()
    qtbot.keyClick(bar.filter_edit, Qt.Key.Key_Up)
    assert bar.filter_text() == "tags.team = 'vision'"
    qtbot.keyClick(bar.filter_edit, Qt.Key.Key_Up)
    qtbot.keyClick(bar.filter_edit, Qt.Key.Key_Up)
    qtbot.keyClick(bar.filter_edit, Qt.Key.Key_Up)  # stays at the oldest
    assert bar.filter_text() == "metrics.loss < 1"
    for _ in range(3):
        qtbot.keyClick(bar.filter_edit, Qt.Key.Key_Down)
    assert bar.filter_text() == "metrics.acc"

    bar.set_history_key("store|exp-2")
    assert bar.history() == []
    again = FilterBar(settings=isolated_settings)
    qtbot.addWidget(again)
    again.set_history_key("store|exp-1")
    assert again.history()[0] == "tags.team = 'vision'"
    assert len(again.history()) == 3


def test_history_keeps_the_last_twenty_without_duplicates(qtbot) -> None:
    bar = FilterBar()
    qtbot.addWidget(bar)
    for number in range(25):
        bar.set_filter_text(f"metrics.loss < {number}", apply=True)
    bar.set_filter_text("metrics.loss < 3", apply=True)
    history = bar.history()
    assert len(history) == 20
    assert history[0] == "metrics.loss < 3"
    assert history.count("metrics.loss < 3") == 1
