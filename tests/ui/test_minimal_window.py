"""The minimal window on real stores written by MLflow: listing, errors, plain text, read-only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtGui import Qt
from tests.helpers.realworld import HOUSING_DB as REALWORLD_DB

from flowdeck.ui.app import create_window
from flowdeck.ui.minimal_window import MinimalWindow

HTML_RUN_NAME = "<b>bold</b> & <i>run</i>"


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two experiments and three runs (one with an HTML-looking name) in a SQLite file."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("window-store")
    db_path = folder / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{db_path}")
    vision = client.create_experiment("vision", artifact_location=str(folder / "a" / "vision"))
    nlp = client.create_experiment("nlp", artifact_location=str(folder / "a" / "nlp"))
    parent_id = ""
    for name in ("resnet-a", "resnet-b"):
        run = client.create_run(vision, run_name=name)
        client.set_terminated(run.info.run_id)
        parent_id = parent_id or run.info.run_id
    client.create_run(vision, run_name="resnet-a-child", tags={"mlflow.parentRunId": parent_id})
    client.create_run(nlp, run_name=HTML_RUN_NAME)
    return db_path


def _open(qtbot, location: str) -> MinimalWindow:
    window = create_window(location)
    qtbot.addWidget(window)
    window.show()
    return window


def _rows(window: MinimalWindow) -> dict[str, tuple[str, list[str]]]:
    model = window.model
    rows = {}
    for row in range(model.rowCount()):
        item = model.item(row, 0)
        children = [item.child(child, 0).text() for child in range(item.rowCount())]
        rows[item.text()] = (model.item(row, 2).text(), children)
    return rows


def test_window_lists_the_experiments_and_runs(qtbot, qtmodeltester, small_store):
    window = _open(qtbot, str(small_store))
    assert window.windowTitle() == "Flowdeck — mlflow.db"
    with qtbot.waitSignal(window.loaded, timeout=30_000):
        window.start_loading()
    rows = _rows(window)
    assert set(rows) == {"Default", "vision", "nlp"}
    assert rows["vision"][0] == "3"
    assert sorted(rows["vision"][1]) == ["resnet-a", "resnet-b"]
    assert rows["Default"] == ("0", [])
    vision = window.model.findItems("vision")[0]
    parent = next(
        vision.child(r) for r in range(vision.rowCount()) if vision.child(r).text() == "resnet-a"
    )
    assert [parent.child(r).text() for r in range(parent.rowCount())] == ["resnet-a-child"]
    assert window.statusBar().currentMessage() == "3 experiments, 4 runs"
    qtmodeltester.check(window.model)
    assert window.pages.currentWidget() is window.tree
    assert not window.read_only_badge.isVisible()


def test_run_name_with_html_is_plain_text(qtbot, small_store):
    window = _open(qtbot, str(small_store))
    with qtbot.waitSignal(window.loaded, timeout=30_000):
        window.start_loading()
    assert _rows(window)["nlp"][1] == [HTML_RUN_NAME]
    nlp_row = next(
        r for r in range(window.model.rowCount()) if window.model.item(r).text() == "nlp"
    )
    child = window.model.item(nlp_row).child(0, 0)
    assert child.data(Qt.ItemDataRole.DisplayRole) == HTML_RUN_NAME
    window.show_error(HTML_RUN_NAME)
    assert window.message.textFormat() == Qt.TextFormat.PlainText
    assert window.message.text() == HTML_RUN_NAME


def test_missing_location_shows_a_message_instead_of_crashing(qtbot, tmp_path):
    window = _open(qtbot, str(tmp_path / "nowhere.db"))
    window.start_loading()  # nothing to load: must be harmless
    assert window.store is None
    assert window.pages.currentWidget() is window.message
    assert "There is no database file" in window.message.text()
    assert window.statusBar().currentMessage() == "Could not open the store"


def test_file_that_is_not_a_database_fails_in_plain_words(qtbot, tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not an SQLite database at all" * 100)
    window = _open(qtbot, str(broken))
    with qtbot.waitSignal(window.failed, timeout=30_000) as blocker:
        window.start_loading()
    assert blocker.args[0]
    assert "Traceback" not in blocker.args[0]
    assert window.pages.currentWidget() is window.message
    assert window.message.text() == blocker.args[0]


@pytest.mark.skipif(not REALWORLD_DB.is_file(), reason="real-world stores not available")
def test_older_store_shows_the_read_only_badge_with_its_reason(qtbot, tmp_path):
    copy = tmp_path / "mlflow.db"
    shutil.copy2(REALWORLD_DB, copy)
    window = _open(qtbot, str(copy))
    with qtbot.waitSignal(window.loaded, timeout=30_000):
        window.start_loading()
    assert window.read_only_badge.isVisible()
    assert window.read_only_badge.text() == "Read-only"
    reason = window.store.read_only_reason
    assert reason
    assert window.read_only_badge.toolTip() == Qt.convertFromPlainText(reason)
    assert "xgboost_optuna_housing" in _rows(window)
