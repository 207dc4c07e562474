"""File → Make Store Writable… on a copy of an MLflow 2.22 store, and its disabled reasons."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.helpers.old_sqlite import REVISION_222, write_mlflow_222_store
from tests.helpers.windows import TIMEOUT, close_window, open_store, shown_window

from flowdeck.store import schema_guard
from flowdeck.store.upgrade import ALREADY_WRITABLE, UpgradeResult
from flowdeck.ui.shell.upgrade_command import COMMAND_ID, StoreUpgrader


@pytest.fixture
def window(qtbot, qt_warnings):  # noqa: ANN001, ANN201
    main_window = shown_window(qtbot)
    yield main_window
    close_window(main_window)


def _revision(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    connection.close()
    return revision


def test_make_writable_upgrades_an_older_store(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    path = write_mlflow_222_store(tmp_path / "mlflow.db")
    store = open_store(qtbot, window, path)
    assert "older MLflow (2.22)" in (window.context.read_only_reason(store) or "")
    assert window.read_only_badge.isVisible()
    commands = window.commands
    assert commands.reason(COMMAND_ID) is None
    assert not commands.action("experiment.create").isEnabled()

    upgrader = window.findChild(StoreUpgrader)
    assert commands.trigger(COMMAND_ID)
    qtbot.waitUntil(
        lambda: upgrader.dialog is not None and upgrader.dialog.isVisible(), timeout=TIMEOUT
    )
    dialog = upgrader.dialog
    text = dialog.text_label.text()
    head = schema_guard.installed_head()
    assert f"{REVISION_222} → {head}" in text and str(dialog.plan.backup) in text
    assert dialog.cancel_button.isDefault()  # a stray Enter changes nothing
    assert dialog.grab().save(str(tmp_path / "make-writable-dialog.png"))

    with qtbot.waitSignal(upgrader.finished, timeout=60_000) as finished:
        qtbot.mouseClick(dialog.upgrade_button, qtbot_left())
    result = finished.args[0]
    assert isinstance(result, UpgradeResult)
    assert _revision(path) == head and _revision(result.backup) == REVISION_222
    assert "every table kept its rows" in dialog.text_label.text()
    assert dialog.cancel_button.text() == "Close" and not dialog.upgrade_button.isVisible()
    assert dialog.grab().save(str(tmp_path / "make-writable-done.png"))

    qtbot.waitUntil(lambda: window.context.read_only_reason(store) is None, timeout=TIMEOUT)
    assert not window.read_only_badge.isVisible()
    assert commands.reason(COMMAND_ID) == ALREADY_WRITABLE
    assert commands.action("experiment.create").isEnabled()
    qtbot.mouseClick(dialog.cancel_button, qtbot_left())
    qtbot.waitUntil(lambda: upgrader.dialog is None, timeout=TIMEOUT)

    # The store is writable now: an edit through the window's write path lands.
    with qtbot.waitSignal(window.writes.finished, timeout=TIMEOUT):
        window.writes.write(store, lambda w: w.create_experiment("after-upgrade"), "Created.")
    assert "after-upgrade" in set(store.experiments()["name"])


def test_make_writable_is_disabled_for_a_newer_schema(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    path = write_mlflow_222_store(tmp_path / "mlflow.db")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f4a9b2c7d1e6'")
    connection.close()
    open_store(qtbot, window, path)
    reason = window.commands.reason(COMMAND_ID)
    assert reason is not None
    assert "newer MLflow (3.18" in reason and "needs a newer Flowdeck" in reason
    assert not window.commands.action(COMMAND_ID).isEnabled()


def qtbot_left():  # noqa: ANN201
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_a_failed_upgrade_says_so_and_leaves_the_store_read_only(
    qtbot, window, tmp_path: Path
) -> None:  # noqa: ANN001
    path = write_mlflow_222_store(tmp_path / "mlflow.db")
    with sqlite3.connect(path) as connection:  # MLflow 3.6's migration creates "jobs": it fails
        connection.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY)")
    connection.close()
    store = open_store(qtbot, window, path)
    upgrader = window.findChild(StoreUpgrader)
    assert window.commands.trigger(COMMAND_ID)
    qtbot.waitUntil(
        lambda: upgrader.dialog is not None and upgrader.dialog.isVisible(), timeout=TIMEOUT
    )
    dialog = upgrader.dialog
    with qtbot.waitSignal(upgrader.finished, timeout=60_000) as finished:
        qtbot.mouseClick(dialog.upgrade_button, qtbot_left())
    assert "table jobs already exists" in finished.args[0] and "put back" in finished.args[0]
    assert dialog.text_label.text() == finished.args[0]
    assert _revision(path) == REVISION_222
    assert not list(tmp_path.glob("mlflow.backup-*"))
    assert window.runner.wait_idle(TIMEOUT)  # the re-check after the failure
    assert "older MLflow (2.22)" in (window.context.read_only_reason(store) or "")
    assert window.commands.reason(COMMAND_ID) is None  # the user may try again
    qtbot.mouseClick(dialog.cancel_button, qtbot_left())
