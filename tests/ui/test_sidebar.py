"""The sidebar on real stores written by MLflow: listing, search, selection, edits, errors."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QDialogButtonBox

from flowdeck.store import open_store
from flowdeck.store.base import Store
from flowdeck.ui.sidebar import Sidebar
from flowdeck.ui.sidebar.dialogs import ConfirmDialog, DescriptionDialog, NameDialog, TagsDialog
from flowdeck.ui.sidebar.model import LOADING_TEXT, READ_ONLY_SUFFIX, Kind, Role
from flowdeck.ui.tasks import TaskRunner

HTML_NAME = "<b>bold</b> & <script>x</script>"
HOUSING_DB = Path("/work/shared/realworld/housing-2025-sqlite/mlflow.db")
NEWER_REVISION = "f4a9b2c7d1e6"


@dataclass(frozen=True)
class Templates:
    sqlite: Path  # mlflow.db
    files: Path  # mlruns folder
    ids: dict[str, str]  # experiment name -> id in the SQLite store


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    """A SQLite store (alpha: 2 runs, Beta-search: 1, an HTML name, 'gone' deleted) and a file store."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("sidebar-stores")
    cwd = os.getcwd()
    os.chdir(folder)
    previous = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
        ids = {}
        for name, runs in (("alpha", 2), ("Beta-search", 1), (HTML_NAME, 0), ("gone", 1)):
            ids[name] = client.create_experiment(
                name, artifact_location=str(folder / "art" / name[:3])
            )
            for _ in range(runs):
                client.create_run(ids[name])
        client.delete_experiment(ids["gone"])
        files = MlflowClient(tracking_uri=(folder / "mlruns").as_uri())
        files_id = files.create_experiment("files-exp")
        files.create_run(files_id)
    finally:
        os.chdir(cwd)
        if previous is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = previous
    return Templates(folder / "mlflow.db", folder / "mlruns", ids)


@pytest.fixture
def sqlite_path(templates: Templates, tmp_path: Path) -> Path:
    target = tmp_path / "mlflow.db"
    shutil.copy(templates.sqlite, target)
    return target


@pytest.fixture
def files_path(templates: Templates, tmp_path: Path) -> Path:
    target = tmp_path / "mlruns"
    shutil.copytree(templates.files, target)
    return target


@pytest.fixture
def runner(qtbot) -> Iterator[TaskRunner]:
    task_runner = TaskRunner()
    yield task_runner
    task_runner.cancel_all()
    task_runner.wait_idle(10_000)


@pytest.fixture
def sidebar(qtbot, runner: TaskRunner, fail_on_qt_warnings) -> Sidebar:
    widget = Sidebar(runner)
    qtbot.addWidget(widget)
    widget.resize(320, 480)
    widget.show()
    return widget


def wait_loaded(qtbot, sidebar: Sidebar, *stores: Store) -> None:
    qtbot.waitUntil(
        lambda: all(sidebar.model.is_loaded(s) or sidebar.model.load_error(s) for s in stores),
        timeout=20_000,
    )


def child_names(sidebar: Sidebar, store: Store, proxy: bool = True) -> list[str]:
    model = sidebar.proxy if proxy else sidebar.model
    parent = sidebar.model.store_index(store)
    if proxy:
        parent = sidebar.proxy.mapFromSource(parent)
    return [model.index(row, 0, parent).data() for row in range(model.rowCount(parent))]


def select(sidebar: Sidebar, store: Store, *experiment_ids: str) -> None:
    sidebar.select_experiments(store, list(experiment_ids))


def finish_dialog(qtbot, sidebar: Sidebar, kind: type) -> object:
    qtbot.waitUntil(lambda: isinstance(sidebar.actions_.current_dialog, kind), timeout=20_000)
    return sidebar.actions_.current_dialog


def focus_tree(qtbot, sidebar: Sidebar) -> None:
    sidebar.activateWindow()
    sidebar.tree.setFocus()
    qtbot.waitUntil(sidebar.tree.hasFocus)


def accept(dialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def test_two_stores_side_by_side(qtbot, qtmodeltester, sidebar, sqlite_path, files_path):
    sql_store, file_store = open_store(sqlite_path), open_store(files_path)
    sidebar.add_store(sql_store)
    sidebar.add_store(file_store)
    assert child_names(sidebar, sql_store, proxy=False) == [LOADING_TEXT]
    wait_loaded(qtbot, sidebar, sql_store, file_store)

    assert sidebar.model.rowCount() == 2
    assert sidebar.model.index(0, 0).data() == "mlflow.db"
    assert child_names(sidebar, sql_store) == [HTML_NAME, "alpha", "Beta-search", "Default"]
    assert child_names(sidebar, file_store) == ["Default", "files-exp"]
    qtmodeltester.check(sidebar.model)
    qtmodeltester.check(sidebar.proxy)


def test_search_filters_by_name_and_keeps_stores(qtbot, sidebar, sqlite_path, files_path):
    sql_store, file_store = open_store(sqlite_path), open_store(files_path)
    sidebar.add_store(sql_store)
    sidebar.add_store(file_store)
    wait_loaded(qtbot, sidebar, sql_store, file_store)

    qtbot.keyClicks(sidebar.search, "BETA")
    assert sidebar.proxy.rowCount() == 2  # both stores stay
    assert child_names(sidebar, sql_store) == ["Beta-search"]
    assert child_names(sidebar, file_store) == []
    sidebar.search.clear()
    assert len(child_names(sidebar, sql_store)) == 4


def test_show_deleted_lists_the_deleted_experiment_greyed(
    qtbot, qtmodeltester, sidebar, sqlite_path
):
    store = open_store(sqlite_path)
    sidebar.add_store(store)
    wait_loaded(qtbot, sidebar, store)
    assert "gone" not in child_names(sidebar, store)

    sidebar.show_deleted.setChecked(True)
    assert "gone" in child_names(sidebar, store)
    parent = sidebar.model.store_index(store)
    rows = [sidebar.model.index(r, 0, parent) for r in range(sidebar.model.rowCount(parent))]
    gone = next(index for index in rows if index.data() == "gone")
    alpha = next(index for index in rows if index.data() == "alpha")
    assert gone.data(Role.DELETED) is True
    assert gone.data(Qt.ItemDataRole.ForegroundRole) is not None
    assert alpha.data(Qt.ItemDataRole.ForegroundRole) is None
    qtmodeltester.check(sidebar.model)

    sidebar.show_deleted.setChecked(False)
    assert "gone" not in child_names(sidebar, store)


def test_selection_signal_carries_ids_of_one_store(
    qtbot, sidebar, templates, sqlite_path, files_path
):
    sql_store, file_store = open_store(sqlite_path), open_store(files_path)
    sidebar.add_store(sql_store)
    sidebar.add_store(file_store)
    wait_loaded(qtbot, sidebar, sql_store, file_store)
    alpha, beta = templates.ids["alpha"], templates.ids["Beta-search"]

    with qtbot.waitSignal(sidebar.experiments_selected) as signal:
        select(sidebar, sql_store, alpha, beta)
    assert signal.args[0] is sql_store
    assert sorted(signal.args[1]) == sorted([alpha, beta])

    # Ctrl-clicking an experiment of the other store moves the selection there alone.
    other = sidebar.proxy.mapFromSource(
        sidebar.model.index(1, 0, sidebar.model.store_index(file_store))
    )
    selection_model = sidebar.tree.selectionModel()
    with qtbot.waitSignal(sidebar.experiments_selected) as signal:
        selection_model.setCurrentIndex(
            other, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        )
    assert signal.args[0] is file_store
    assert len(signal.args[1]) == 1
    assert all(index.data(Role.STORE) is file_store for index in selection_model.selectedRows())


def test_create_rename_delete_restore_read_back_with_mlflow(qtbot, sidebar, templates, sqlite_path):
    from mlflow import MlflowClient

    store = open_store(sqlite_path)
    sidebar.add_store(store)
    wait_loaded(qtbot, sidebar, store)
    client = MlflowClient(tracking_uri=f"sqlite:///{sqlite_path}")
    alpha = templates.ids["alpha"]

    select(sidebar, store, alpha)
    sidebar.actions_.create_action.trigger()
    dialog = finish_dialog(qtbot, sidebar, NameDialog)
    dialog.name_edit.setText("created here")
    with qtbot.waitSignal(sidebar.model.store_loaded, timeout=20_000):
        accept(dialog)
    assert sidebar.message_label.text() == ""
    assert client.get_experiment_by_name("created here") is not None
    assert "created here" in child_names(sidebar, store)

    select(sidebar, store, alpha)
    focus_tree(qtbot, sidebar)
    qtbot.keyClick(sidebar.tree, Qt.Key.Key_F2)
    dialog = finish_dialog(qtbot, sidebar, NameDialog)
    assert dialog.name() == "alpha"
    dialog.name_edit.setText("alpha renamed")
    with qtbot.waitSignal(sidebar.model.store_loaded, timeout=20_000):
        accept(dialog)
    selected_store, entries = sidebar.current_selection()  # the renamed experiment stays selected
    assert selected_store is store and [e.name for e in entries] == ["alpha renamed"]
    assert client.get_experiment(alpha).name == "alpha renamed"
    focus_tree(qtbot, sidebar)

    qtbot.keyClick(sidebar.tree, Qt.Key.Key_Delete)
    dialog = finish_dialog(qtbot, sidebar, ConfirmDialog)
    assert dialog.message_label.text().startswith(
        "Delete experiment 'alpha renamed' and its 2 runs?"
    )
    with qtbot.waitSignal(sidebar.model.store_loaded, timeout=20_000):
        accept(dialog)
    assert client.get_experiment(alpha).lifecycle_stage == "deleted"
    assert "alpha renamed" not in child_names(sidebar, store)

    sidebar.show_deleted.setChecked(True)
    select(sidebar, store, alpha)
    assert not sidebar.actions_.delete_action.isEnabled()
    sidebar.actions_.restore_action.trigger()
    dialog = finish_dialog(qtbot, sidebar, ConfirmDialog)
    assert dialog.message_label.text() == "Restore experiment 'alpha renamed'?"
    with qtbot.waitSignal(sidebar.model.store_loaded, timeout=20_000):
        accept(dialog)
    assert client.get_experiment(alpha).lifecycle_stage == "active"


def test_description_and_tags_read_back_with_mlflow(qtbot, sidebar, templates, files_path):
    from mlflow import MlflowClient

    store = open_store(files_path)
    sidebar.add_store(store)
    wait_loaded(qtbot, sidebar, store)
    assert sidebar.model.read_only_reason(store) is None
    experiment_id = next(
        e.experiment_id for e in store.experiments().itertuples() if e.name == "files-exp"
    )
    select(sidebar, store, experiment_id)

    sidebar.actions_.describe_action.trigger()
    dialog = finish_dialog(qtbot, sidebar, DescriptionDialog)
    dialog.editor.setPlainText("# Notes\nplain *markdown*")
    with qtbot.waitSignal(sidebar.model.store_loaded, timeout=20_000):
        dialog.accept()

    sidebar.actions_.tags_action.trigger()
    dialog = finish_dialog(qtbot, sidebar, TagsDialog)
    row = dialog.add_row("team", "vision")
    assert row == 0  # the description tag is not listed among the tags
    with qtbot.waitSignal(sidebar.model.store_loaded, timeout=20_000):
        dialog.accept()

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        tags = MlflowClient(tracking_uri=files_path.as_uri()).get_experiment(experiment_id).tags
    finally:
        os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
    assert tags["mlflow.note.content"] == "# Notes\nplain *markdown*"
    assert tags["team"] == "vision"

    sidebar.actions_.tags_action.trigger()
    dialog = finish_dialog(qtbot, sidebar, TagsDialog)
    assert dialog.tags() == {"team": "vision"}
    dialog.table.selectRow(0)
    dialog.remove_selected()
    with qtbot.waitSignal(sidebar.model.store_loaded, timeout=20_000):
        dialog.accept()
    assert "team" not in sidebar.model.experiment(store, experiment_id).tags


@pytest.fixture
def read_only_db(tmp_path: Path, templates: Templates) -> Path:
    target = tmp_path / "read-only.db"
    if HOUSING_DB.is_file():
        shutil.copy(HOUSING_DB, target)
        target.chmod(0o644)
    else:
        shutil.copy(templates.sqlite, target)
        with sqlite3.connect(target) as connection:
            connection.execute("UPDATE alembic_version SET version_num = ?", (NEWER_REVISION,))
    return target


def test_read_only_store_disables_actions_with_reason(qtbot, sidebar, read_only_db):
    store = open_store(read_only_db)
    sidebar.add_store(store)
    wait_loaded(qtbot, sidebar, store)
    reason = sidebar.model.read_only_reason(store)
    assert reason

    top = sidebar.model.store_index(store)
    assert top.data().endswith(READ_ONLY_SUFFIX)
    assert "Read-only:" in top.data(Qt.ItemDataRole.ToolTipRole)
    first = sidebar.model.index(0, 0, top).data(Role.EXPERIMENT_ID)
    select(sidebar, store, first)
    focus_tree(qtbot, sidebar)
    actions = sidebar.actions_
    for action in (actions.create_action, actions.rename_action, actions.delete_action):
        assert not action.isEnabled()
        assert "read-only" in action.toolTip()
    qtbot.keyClick(sidebar.tree, Qt.Key.Key_F2)
    assert actions.current_dialog is None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_server_shows_an_error_row(qtbot, qtmodeltester, sidebar, sqlite_path):
    port = free_port()
    remote, local = open_store(f"http://127.0.0.1:{port}"), open_store(sqlite_path)
    sidebar.add_store(remote)
    sidebar.add_store(local)
    with qtbot.waitSignal(sidebar.model.store_failed, timeout=30_000) as signal:
        pass
    wait_loaded(qtbot, sidebar, local)
    assert signal.args[0] is remote
    rows = child_names(sidebar, remote)
    assert len(rows) == 1 and rows[0].startswith(
        f"Cannot reach the MLflow server at http://127.0.0.1:{port}"
    )
    error_index = sidebar.model.index(0, 0, sidebar.model.store_index(remote))
    assert error_index.data(Role.KIND) == Kind.ERROR
    assert not error_index.flags() & Qt.ItemFlag.ItemIsSelectable
    assert "alpha" in child_names(sidebar, local)
    sidebar.tree.setCurrentIndex(sidebar.proxy.mapFromSource(sidebar.model.store_index(remote)))
    assert not sidebar.actions_.create_action.isEnabled()
    qtmodeltester.check(sidebar.model)


def test_html_like_name_is_plain_text(qtbot, sidebar, templates, sqlite_path, tmp_path):
    store = open_store(sqlite_path)
    sidebar.add_store(store)
    wait_loaded(qtbot, sidebar, store)
    index = sidebar.model.experiment_index(store, templates.ids[HTML_NAME])
    assert index.data() == HTML_NAME
    tooltip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert "<script>" not in tooltip and "&lt;script&gt;" in tooltip
    select(sidebar, store, templates.ids[HTML_NAME])
    sidebar.actions_.rename_action.trigger()
    dialog = finish_dialog(qtbot, sidebar, NameDialog)
    assert dialog.name_edit.text() == HTML_NAME
    dialog.reject()
    picture = tmp_path / "sidebar.png"
    sidebar.grab().save(str(picture))
    assert picture.stat().st_size > 0
