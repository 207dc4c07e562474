"""Experiment edits from the sidebar through the window's commands, read back with MLflow."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from tests.helpers.windows import close_window, open_store, shown_window

from flowdeck.store.base import Store
from flowdeck.ui.edit import ConfirmChangesDialog, DescriptionEditor, NameDialog, TagsEditor
from flowdeck.ui.main_window import MainWindow

TIMEOUT = 30_000
NEWER_REVISION = "f4a9b2c7d1e6"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """A SQLite store (alpha: 2 runs, beta: 1) and an mlruns folder (files-exp: 1 run)."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("experiment-edits")
    cwd = os.getcwd()
    os.chdir(folder)
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
        ids = {}
        for name, runs in (("alpha", 2), ("beta", 1)):
            ids[name] = client.create_experiment(name, artifact_location=str(folder / name))
            for _ in range(runs):
                client.create_run(ids[name])
        files = MlflowClient(tracking_uri=(folder / "mlruns").as_uri())
        files.create_run(files.create_experiment("files-exp"))
    finally:
        os.chdir(cwd)
        os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
    return folder / "mlflow.db", folder / "mlruns", ids


@pytest.fixture
def window(qtbot, fail_on_qt_warnings):
    window = shown_window(qtbot, (1000, 650))
    yield window
    close_window(window)


def focus_experiment(
    qtbot, window: MainWindow, store: Store, experiment_id: str, keys: bool = True
) -> None:
    """Select the experiment in the sidebar; with ``keys`` also give the tree keyboard focus."""
    window.sidebar.select_experiments(store, [experiment_id])
    if keys:
        window.activateWindow()  # a closed dialog leaves no active window offscreen
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=TIMEOUT)
        window.sidebar.tree.setFocus()
    qtbot.waitUntil(
        lambda: window.context.focus.kind == "experiment"
        and window.context.focus.ids == [experiment_id],
        timeout=TIMEOUT,
    )


def dialog_of(qtbot, window: MainWindow, kind: type):
    qtbot.waitUntil(lambda: isinstance(window.edits.active_dialog, kind), timeout=TIMEOUT)
    return window.edits.active_dialog


def names_in_sidebar(window: MainWindow, store: Store) -> list[str]:
    return [e.name for e in window.sidebar.model.experiments_of(store) if not e.deleted]


def test_create_rename_delete_restore_read_back_with_mlflow(qtbot, window, template, tmp_path):
    from mlflow import MlflowClient

    db = tmp_path / "mlflow.db"
    shutil.copy2(template[0], db)
    store = open_store(qtbot, window, db)
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    alpha = template[2]["alpha"]

    focus_experiment(qtbot, window, store, alpha)
    qtbot.keyClick(window.sidebar.tree, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = dialog_of(qtbot, window, NameDialog)
    dialog.name_edit.setText("created here")
    with qtbot.waitSignal(window.sidebar.model.store_loaded, timeout=TIMEOUT):
        dialog.accept()
    assert client.get_experiment_by_name("created here") is not None
    assert "created here" in names_in_sidebar(window, store)

    focus_experiment(qtbot, window, store, alpha)
    qtbot.keyClick(window.sidebar.tree, Qt.Key.Key_F2)
    dialog = dialog_of(qtbot, window, NameDialog)
    assert dialog.name() == "alpha"
    dialog.name_edit.setText("alpha renamed")
    with qtbot.waitSignal(window.sidebar.model.store_loaded, timeout=TIMEOUT):
        dialog.accept()
    assert client.get_experiment(alpha).name == "alpha renamed"
    qtbot.waitUntil(lambda: window.host.tabs.tabText(0) == "alpha renamed", timeout=TIMEOUT)

    focus_experiment(qtbot, window, store, alpha)
    qtbot.keyClick(window.sidebar.tree, Qt.Key.Key_Delete)
    dialog = dialog_of(qtbot, window, ConfirmChangesDialog)
    assert dialog.summary_label.text() == "Delete 1 experiment: alpha renamed"
    assert "2 runs" in dialog.note_label.text()
    with qtbot.waitSignal(window.sidebar.model.store_loaded, timeout=TIMEOUT):
        dialog.accept()
    assert client.get_experiment(alpha).lifecycle_stage == "deleted"
    assert "alpha renamed" not in names_in_sidebar(window, store)

    window.sidebar.show_deleted.setChecked(True)
    focus_experiment(qtbot, window, store, alpha, keys=False)
    assert window.commands.reason("item.delete")
    assert window.commands.reason("item.restore") is None
    window.commands.trigger("item.restore")
    dialog = dialog_of(qtbot, window, ConfirmChangesDialog)
    assert dialog.summary_label.text() == "Restore 1 experiment: alpha renamed"
    with qtbot.waitSignal(window.sidebar.model.store_loaded, timeout=TIMEOUT):
        dialog.accept()
    assert client.get_experiment(alpha).lifecycle_stage == "active"


def test_description_and_tags_of_a_file_store_experiment(qtbot, window, template, tmp_path):
    from mlflow import MlflowClient

    folder = tmp_path / "mlruns"
    shutil.copytree(template[1], folder)
    store = open_store(qtbot, window, folder)
    assert window.context.read_only_reason(store) is None
    experiment_id = next(
        e.experiment_id for e in store.experiments().itertuples() if e.name == "files-exp"
    )
    focus_experiment(qtbot, window, store, experiment_id, keys=False)

    window.commands.trigger("item.description")
    editor = dialog_of(qtbot, window, DescriptionEditor)
    editor.editor.setPlainText("# Notes\nplain *markdown*")
    with qtbot.waitSignal(window.sidebar.model.store_loaded, timeout=TIMEOUT):
        editor.accept()
    focus_experiment(qtbot, window, store, experiment_id, keys=False)
    assert window.context.focus.items[0].description == "# Notes\nplain *markdown*"

    window.commands.trigger("item.tags")
    tags = dialog_of(qtbot, window, TagsEditor)
    keys = [tags.table.item(r, 0).text() for r in range(tags.table.rowCount())]
    assert "mlflow.note.content" not in keys  # the description editor owns it
    tags.add_row()
    row = tags.table.rowCount() - 1
    tags.table.item(row, 0).setText("team")
    tags.table.item(row, 1).setText("vision")
    with qtbot.waitSignal(window.writes.finished, timeout=TIMEOUT):
        tags.buttons.button(QDialogButtonBox.StandardButton.Save).click()

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        got = MlflowClient(tracking_uri=folder.as_uri()).get_experiment(experiment_id).tags
    finally:
        os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
    assert got["mlflow.note.content"] == "# Notes\nplain *markdown*"
    assert got["team"] == "vision"


def test_a_read_only_store_disables_experiment_edits_with_the_reason(
    qtbot, window, template, tmp_path
):
    db = tmp_path / "mlflow.db"
    shutil.copy2(template[0], db)
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (NEWER_REVISION,))
    connection.close()
    store = open_store(qtbot, window, db)
    reason = window.context.read_only_reason(store)
    assert reason
    focus_experiment(qtbot, window, store, template[2]["beta"])
    for command_id in ("experiment.create", "item.rename", "item.delete", "item.tags"):
        action = window.commands.action(command_id)
        assert not action.isEnabled()
        assert reason in action.statusTip()
    qtbot.keyClick(window.sidebar.tree, Qt.Key.Key_F2)
    assert window.edits.active_dialog is None
    assert window.read_only_badge.isVisible()
