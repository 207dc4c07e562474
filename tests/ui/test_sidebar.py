"""The sidebar on real stores written by MLflow: the navigation tree, selection, focus, errors."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QAction

from flowdeck.core.addresses import Address, across_address, experiment_address, model_address
from flowdeck.core.context import Selection
from flowdeck.store import open_store
from flowdeck.store.base import CAP_LOGGED_MODELS, CAP_REGISTRY, CAP_TRACES, Store
from flowdeck.ui.sidebar import Sidebar
from flowdeck.ui.sidebar.model import LOADING_TEXT, READ_ONLY_SUFFIX, Kind, Role
from flowdeck.ui.tasks import TaskRunner

HTML_NAME = "<b>bold</b> & <script>x</script>"
HTML_DESCRIPTION = "<i>first</i> model & more"
HOUSING_DB = Path("/work/shared/realworld/housing-2025-sqlite/mlflow.db")
NEWER_REVISION = "f4a9b2c7d1e6"
EXPERIMENTS = [HTML_NAME, "alpha", "Beta-search", "Default"]
@dataclass(frozen=True)
class Templates:
    sqlite: Path  # mlflow.db
    files: Path  # mlruns folder
    ids: dict[str, str]  # experiment name -> id in the SQLite store


def register_models(uri: str, run_id: str, artifact_uri: str) -> None:
    """Models "m" (2 versions) and "another" (none), and the prompt "p", in the store at ``uri``."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("m", description=HTML_DESCRIPTION)
    for _ in range(2):
        client.create_model_version("m", source=f"{artifact_uri}/model", run_id=run_id)
    client.create_registered_model("another")
    import mlflow
    import mlflow.tracking._model_registry.utils as registry_utils

    mlflow.set_tracking_uri(uri)  # the prompt registry follows MLflow's global URIs
    mlflow.set_registry_uri(uri)
    try:
        import mlflow.genai

        mlflow.genai.register_prompt(name="p", template="Hello {{x}}")
    except (ImportError, AttributeError):
        client.create_registered_model("p", tags={"mlflow.prompt.is_prompt": "true"})
    finally:
        mlflow.set_tracking_uri(None)
        registry_utils._registry_uri = None
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        os.environ.pop("MLFLOW_REGISTRY_URI", None)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    """SQLite: alpha (2 runs, tags), Beta-search, an HTML name, 'gone' deleted, models; mlruns."""
    from mlflow import MlflowClient

    folder = tmp_path_factory.mktemp("sidebar-stores")
    cwd = os.getcwd()
    os.chdir(folder)
    previous = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        client = MlflowClient(tracking_uri=uri)
        ids = {}
        for name, runs in (("alpha", 2), ("Beta-search", 1), (HTML_NAME, 0), ("gone", 1)):
            ids[name] = client.create_experiment(
                name, artifact_location=str(folder / "art" / name[:3])
            )
            for _ in range(runs):
                run = client.create_run(ids[name])
        client.set_experiment_tag(ids["alpha"], "team", "vision")
        client.set_experiment_tag(ids["alpha"], "mlflow.note.content", "alpha notes")
        client.delete_experiment(ids["gone"])
        register_models(uri, run.info.run_id, run.info.artifact_uri)
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
def sidebar(qtbot, runner: TaskRunner, fail_on_qt_warnings) -> Sidebar:
    widget = Sidebar(runner)
    qtbot.addWidget(widget)
    widget.resize(320, 480)
    widget.show()
    return widget


@pytest.fixture
def opened(sidebar: Sidebar) -> list[tuple[Store | None, Address, bool]]:
    """Every ``open_requested`` the sidebar emits."""
    found: list[tuple[Store | None, Address, bool]] = []
    sidebar.open_requested.connect(lambda store, address, tab: found.append((store, address, tab)))
    return found


def wait_loaded(qtbot, sidebar: Sidebar, *stores: Store) -> None:
    qtbot.waitUntil(
        lambda: all(sidebar.model.is_loaded(s) or sidebar.model.load_error(s) for s in stores),
        timeout=20_000,
    )


def wait_models(qtbot, sidebar: Sidebar, *stores: Store) -> None:
    model = sidebar.model
    qtbot.waitUntil(
        lambda: all(model.is_models_loaded(s) or model.models_error(s) for s in stores),
        timeout=20_000,
    )


def open_loaded(qtbot, sidebar: Sidebar, *locations: Path | str) -> list[Store]:
    stores = [open_store(location) for location in locations]
    for store in stores:
        sidebar.add_store(store)
    wait_loaded(qtbot, sidebar, *stores)
    wait_models(
        qtbot, sidebar, *[s for s in stores if CAP_REGISTRY in sidebar.model.capabilities(s)]
    )
    return stores


def names_under(sidebar: Sidebar, parent: QModelIndex, proxy: bool = True) -> list[str]:
    """The rows under a source-model index, as shown (``proxy``) or in the source model."""
    model = sidebar.proxy if proxy else sidebar.model
    if proxy:
        parent = sidebar.proxy.mapFromSource(parent)
    return [model.index(row, 0, parent).data() for row in range(model.rowCount(parent))]


def child_names(sidebar: Sidebar, store: Store, proxy: bool = True) -> list[str]:
    return names_under(sidebar, sidebar.model.store_index(store), proxy)


def experiment_names(sidebar: Sidebar, store: Store) -> list[str]:
    parent = sidebar.proxy.mapFromSource(sidebar.model.store_index(store))
    rows = [sidebar.proxy.index(row, 0, parent) for row in range(sidebar.proxy.rowCount(parent))]
    return [index.data() for index in rows if index.data(Role.KIND) == Kind.EXPERIMENT]


def select(sidebar: Sidebar, store: Store, *experiment_ids: str) -> None:
    sidebar.select_experiments(store, list(experiment_ids))


def click(qtbot, sidebar: Sidebar, source: QModelIndex, button=Qt.MouseButton.LeftButton,
          modifier=Qt.KeyboardModifier.NoModifier) -> None:  # fmt: skip
    """Click the row of a source-model index (its parents expanded, scrolled into view)."""
    index = sidebar.proxy.mapFromSource(source)
    assert index.isValid()
    parent = index.parent()
    while parent.isValid():
        sidebar.tree.expand(parent)
        parent = parent.parent()
    sidebar.tree.scrollTo(index)
    rect = sidebar.tree.visualRect(index)
    assert rect.isValid()
    qtbot.mouseClick(sidebar.tree.viewport(), button, modifier, rect.center())


def focus_tree(qtbot, sidebar: Sidebar) -> None:
    sidebar.activateWindow()
    sidebar.tree.setFocus()
    qtbot.waitUntil(sidebar.tree.hasFocus)


def test_two_stores_side_by_side(qtbot, qtmodeltester, sidebar, sqlite_path, files_path):
    sql_store, file_store = open_store(sqlite_path), open_store(files_path)
    sidebar.add_store(sql_store)
    sidebar.add_store(file_store)
    assert child_names(sidebar, sql_store, proxy=False) == [LOADING_TEXT]
    wait_loaded(qtbot, sidebar, sql_store, file_store)

    assert sidebar.model.rowCount() == 3  # two stores, then Servers
    assert sidebar.model.index(0, 0).data() == "mlflow.db"
    assert sidebar.model.index(2, 0).data(Role.KIND) == Kind.SERVERS
    assert experiment_names(sidebar, sql_store) == EXPERIMENTS
    assert experiment_names(sidebar, file_store) == ["Default", "files-exp"]
    qtmodeltester.check(sidebar.model)
    qtmodeltester.check(sidebar.proxy)


def test_search_filters_by_name_and_keeps_stores(qtbot, sidebar, sqlite_path, files_path):
    sql_store, file_store = open_loaded(qtbot, sidebar, sqlite_path, files_path)

    qtbot.keyClicks(sidebar.search, "BETA")
    assert sidebar.proxy.rowCount() == 3  # both stores and Servers stay
    assert experiment_names(sidebar, sql_store) == ["Beta-search"]
    assert experiment_names(sidebar, file_store) == []
    assert child_names(sidebar, sql_store)[-1] == "Models"  # other rows are not searched
    sidebar.search.clear()
    assert len(experiment_names(sidebar, sql_store)) == 4


def test_show_deleted_lists_the_deleted_experiment_greyed(
    qtbot, qtmodeltester, sidebar, sqlite_path
):
    (store,) = open_loaded(qtbot, sidebar, sqlite_path)
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
    qtbot, sidebar, opened, templates, sqlite_path, files_path
):
    sql_store, file_store = open_loaded(qtbot, sidebar, sqlite_path, files_path)
    alpha, beta = templates.ids["alpha"], templates.ids["Beta-search"]

    with qtbot.waitSignal(sidebar.experiments_selected) as signal:
        select(sidebar, sql_store, beta, alpha)
    assert signal.args[0] is sql_store
    assert signal.args[1] == [alpha, beta]  # in the order shown
    assert opened[-1] == (sql_store, experiment_address([alpha, beta]), False)
    count = len(opened)
    with qtbot.waitSignal(sidebar.experiments_selected) as signal:  # mirroring an open page
        sidebar.select_experiments(sql_store, [beta], navigate=False)
    assert signal.args == [sql_store, [beta]] and len(opened) == count

    # Ctrl-clicking an experiment of the other store keeps both stores' experiments: the
    # signal carries the current row's store, the page shows the runs across both stores.
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
    assert {index.data(Role.STORE) for index in selection_model.selectedRows()} == {
        sql_store,
        file_store,
    }
    keys = [f"1:{beta}", f"2:{signal.args[1][0]}"]
    assert sidebar.selected_keys() == keys
    assert opened[-1] == (None, across_address(keys), False)


def test_models_and_prompts_load_after_the_experiments(qtbot, qtmodeltester, sidebar, sqlite_path):
    (store,) = open_loaded(qtbot, sidebar, sqlite_path)
    model = sidebar.model
    assert child_names(sidebar, store) == [*EXPERIMENTS, "Models"]
    models = model.models_index(store)
    assert models.data(Role.KIND) == Kind.MODELS
    assert models.data(Role.ADDRESS) == Address("models")
    assert names_under(sidebar, models) == ["Prompts", "another", "m"]
    prompts = model.index(0, 0, models)
    assert prompts.data(Role.KIND) == Kind.PROMPTS and prompts.data(Role.ADDRESS) is None
    assert names_under(sidebar, prompts) == ["p"]
    assert model.index(0, 0, prompts).data(Role.KIND) == Kind.PROMPT
    assert model.model_index(store, "p").data(Role.ADDRESS) == model_address("p")
    m = model.model_index(store, "m")
    assert m.data(Role.KIND) == Kind.MODEL and m.data(Role.ADDRESS) == model_address("m")
    assert sorted(r.name for r in model.models_of(store)) == ["another", "m", "p"]

    qtbot.waitUntil(lambda: "Latest version 2" in m.data(Qt.ItemDataRole.ToolTipRole))
    tooltip = m.data(Qt.ItemDataRole.ToolTipRole)
    assert "<i>" not in tooltip and "&lt;i&gt;first&lt;/i&gt; model &amp; more" in tooltip
    another = model.model_index(store, "another").data(Qt.ItemDataRole.ToolTipRole)
    assert "No versions" in another
    assert "Latest version 1" in model.model_index(store, "p").data(Qt.ItemDataRole.ToolTipRole)
    qtmodeltester.check(model)
    sidebar.tree.expandAll()
    qtbot.keyClicks(sidebar.search, "a")
    qtmodeltester.check(sidebar.proxy)


def test_experiments_hold_traces_and_logged_models(qtbot, sidebar, templates, sqlite_path):
    (store,) = open_loaded(qtbot, sidebar, sqlite_path)
    assert {CAP_TRACES, CAP_LOGGED_MODELS} <= sidebar.model.capabilities(store)
    alpha = templates.ids["alpha"]
    experiment = sidebar.model.experiment_index(store, alpha)
    assert names_under(sidebar, experiment) == ["Traces", "Logged models"]
    traces = sidebar.model.traces_index(store, alpha)
    logged = sidebar.model.logged_models_index(store, alpha)
    assert traces.data(Role.KIND) == Kind.TRACES and traces.parent() == experiment
    assert traces.data(Role.ADDRESS) == Address("traces", (alpha,))
    assert logged.data(Role.ADDRESS) == Address("logged-models", (alpha,))
    assert logged.data(Role.EXPERIMENT_ID) == alpha and logged.data(Role.STORE) is store


def test_file_store_rows_follow_its_capabilities(qtbot, qtmodeltester, sidebar, files_path):
    (store,) = open_loaded(qtbot, sidebar, files_path)
    capabilities = store.capabilities
    assert sidebar.model.capabilities(store) == capabilities
    expected = [
        text
        for cap, text in ((CAP_TRACES, "Traces"), (CAP_LOGGED_MODELS, "Logged models"))
        if cap in capabilities
    ]
    parent = sidebar.model.store_index(store)
    for row in range(2):
        assert names_under(sidebar, sidebar.model.index(row, 0, parent)) == expected
    has_models = CAP_REGISTRY in capabilities
    assert (child_names(sidebar, store)[-1] == "Models") is has_models
    if has_models:  # the folder has no registered models
        assert names_under(sidebar, sidebar.model.models_index(store)) == []
    qtmodeltester.check(sidebar.model)


def test_store_without_traces_models_or_registry_tables(qtbot, sidebar, sqlite_path):
    with sqlite3.connect(sqlite_path) as connection:
        for table in ("trace_info", "logged_models", "model_versions", "registered_models"):
            connection.execute(f"DROP TABLE {table}")
    (store,) = open_loaded(qtbot, sidebar, sqlite_path)
    assert child_names(sidebar, store) == EXPERIMENTS  # no Models row
    first = sidebar.model.index(0, 0, sidebar.model.store_index(store))
    assert sidebar.model.rowCount(first) == 0
    assert first.flags() & Qt.ItemFlag.ItemNeverHasChildren


def test_a_broken_registry_shows_an_error_under_models(qtbot, sidebar, sqlite_path):
    with sqlite3.connect(sqlite_path) as connection:
        connection.execute("DROP TABLE registered_models")
        connection.execute("CREATE TABLE registered_models (x INTEGER)")
    store = open_store(sqlite_path)
    with qtbot.waitSignal(sidebar.model.models_failed, timeout=20_000) as signal:
        sidebar.add_store(store)
    assert experiment_names(sidebar, store) == EXPERIMENTS
    error = sidebar.model.index(0, 0, sidebar.model.models_index(store))
    assert error.data(Role.KIND) == Kind.ERROR and error.data() == signal.args[1]
    assert not error.flags() & Qt.ItemFlag.ItemIsSelectable


def test_clicks_and_enter_open_pages(qtbot, sidebar, opened, templates, sqlite_path):
    (store,) = open_loaded(qtbot, sidebar, sqlite_path)
    model = sidebar.model
    alpha, beta = templates.ids["alpha"], templates.ids["Beta-search"]

    click(qtbot, sidebar, model.experiment_index(store, beta))
    click(qtbot, sidebar, model.experiment_index(store, alpha), modifier=Qt.ControlModifier)
    assert opened[-1] == (store, experiment_address([alpha, beta]), False)
    assert [e.name for e in sidebar.current_selection()[1]] == ["alpha", "Beta-search"]

    with qtbot.waitSignal(sidebar.experiments_selected) as signal:
        click(qtbot, sidebar, model.models_index(store))
    assert signal.args == [store, []]
    assert opened[-1] == (store, Address("models"), False)
    assert sidebar.current_selection() == (store, [])
    click(qtbot, sidebar, model.model_index(store, "m"))
    assert opened[-1] == (store, model_address("m"), False)
    click(qtbot, sidebar, model.model_index(store, "p"))
    assert opened[-1] == (store, model_address("p"), False)
    click(qtbot, sidebar, model.traces_index(store, alpha))
    assert opened[-1] == (store, Address("traces", (alpha,)), False)
    click(qtbot, sidebar, model.servers_index())
    assert opened[-1] == (None, Address("servers"), False)
    assert sidebar.current_selection() == (None, [])

    click(qtbot, sidebar, model.experiment_index(store, alpha))
    assert opened[-1] == (store, experiment_address([alpha]), False)
    count = len(opened)
    click(qtbot, sidebar, model.experiment_index(store, alpha))  # selection unchanged: reopen
    assert opened[count:] == [(store, experiment_address([alpha]), False)]

    focus_tree(qtbot, sidebar)
    sidebar.tree.collapse(sidebar.proxy.mapFromSource(model.experiment_index(store, alpha)))
    qtbot.keyClick(sidebar.tree, Qt.Key.Key_Down)  # keyboard selection opens the experiment
    assert opened[-1] == (store, experiment_address([beta]), False)
    logged = sidebar.proxy.mapFromSource(model.logged_models_index(store, beta))
    sidebar.tree.expand(logged.parent())
    sidebar.tree.setCurrentIndex(logged)
    qtbot.keyClick(sidebar.tree, Qt.Key.Key_Return)
    assert opened[-1] == (store, Address("logged-models", (beta,)), False)
    sidebar.tree.setCurrentIndex(sidebar.proxy.mapFromSource(model.models_index(store)))
    qtbot.keyClick(sidebar.tree, Qt.Key.Key_Enter)
    assert opened[-1] == (store, Address("models"), False)


def test_middle_click_opens_a_new_tab_and_keeps_the_selection(
    qtbot, sidebar, opened, templates, sqlite_path
):
    (store,) = open_loaded(qtbot, sidebar, sqlite_path)
    model = sidebar.model
    alpha, beta = templates.ids["alpha"], templates.ids["Beta-search"]
    select(sidebar, store, alpha)
    middle = Qt.MouseButton.MiddleButton

    for source, expected in (
        (model.model_index(store, "m"), (store, model_address("m"), True)),
        (model.experiment_index(store, beta), (store, experiment_address([beta]), True)),
        (model.traces_index(store, beta), (store, Address("traces", (beta,)), True)),
        (model.servers_index(), (None, Address("servers"), True)),
    ):
        click(qtbot, sidebar, source, middle)
        assert opened[-1] == expected
        assert [e.experiment_id for e in sidebar.current_selection()[1]] == [alpha]
    count = len(opened)
    click(qtbot, sidebar, model.store_index(store), middle)  # a store row opens no page
    assert len(opened) == count


def test_servers_row_without_stores_and_below_them(
    qtbot, qtmodeltester, sidebar, opened, files_path
):
    assert sidebar.model.rowCount() == 1
    servers = sidebar.model.index(0, 0)
    assert servers.data() == "Servers" and servers.data(Role.KIND) == Kind.SERVERS
    assert servers.data(Role.STORE) is None
    qtmodeltester.check(sidebar.model)
    click(qtbot, sidebar, servers)
    assert opened == [(None, Address("servers"), False)]
    assert sidebar.focus_selection() == Selection()

    store = open_store(files_path)
    sidebar.add_store(store)
    assert [sidebar.model.index(r, 0).data(Role.KIND) for r in range(2)] == [
        Kind.STORE,
        Kind.SERVERS,
    ]
    wait_loaded(qtbot, sidebar, store)
    sidebar.remove_store(store)
    assert sidebar.model.rowCount() == 1
    qtmodeltester.check(sidebar.model)


def test_focus_changed_carries_the_selected_experiments(qtbot, sidebar, templates, sqlite_path):
    (store,) = open_loaded(qtbot, sidebar, sqlite_path)
    alpha, beta, gone = (templates.ids[name] for name in ("alpha", "Beta-search", "gone"))
    with qtbot.waitSignal(sidebar.focus_changed) as signal:
        select(sidebar, store, beta, alpha)
    focus = signal.args[0]
    assert focus == sidebar.focus_selection()
    assert (focus.kind, focus.store) == ("experiment", store)
    assert [(i.id, i.name, i.deleted) for i in focus.items] == [
        (alpha, "alpha", False),
        (beta, "Beta-search", False),
    ]
    assert focus.items[0].description == "alpha notes"
    assert ("team", "vision") in focus.items[0].tags

    sidebar.show_deleted.setChecked(True)
    with qtbot.waitSignal(sidebar.focus_changed) as signal:
        select(sidebar, store, gone)
    assert [(i.name, i.deleted) for i in signal.args[0].items] == [("gone", True)]

    with qtbot.waitSignal(sidebar.focus_changed) as signal:
        click(qtbot, sidebar, sidebar.model.models_index(store))
    assert signal.args[0] == Selection() == sidebar.focus_selection()


def test_set_actions_fills_the_buttons_and_the_context_menu(
    qtbot, sidebar, qt_warnings, templates, sqlite_path
):
    (store,) = open_loaded(qtbot, sidebar, sqlite_path)
    new, rename, delete = (QAction(text, sidebar) for text in ("New", "Rename", "Delete"))
    sidebar.set_actions([new, rename], [rename, None, delete])
    assert [button.defaultAction() for button in sidebar.action_buttons] == [new, rename]
    qtbot.waitUntil(lambda: all(button.isVisible() for button in sidebar.action_buttons))
    with qtbot.waitSignal(new.triggered):
        qtbot.mouseClick(sidebar.action_buttons[0], Qt.MouseButton.LeftButton)

    index = sidebar.proxy.mapFromSource(
        sidebar.model.experiment_index(store, templates.ids["alpha"])
    )
    sidebar.tree.customContextMenuRequested.emit(sidebar.tree.visualRect(index).center())
    menu = sidebar.context_menu
    qtbot.waitUntil(menu.isVisible)
    actions = menu.actions()
    assert actions[0] is rename and actions[1].isSeparator() and actions[2] is delete
    assert [e.name for e in sidebar.current_selection()[1]] == ["alpha"]
    menu.close()

    sidebar.set_actions([delete], [])
    assert [button.defaultAction() for button in sidebar.action_buttons] == [delete]


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


def test_read_only_store_shows_the_badge_and_reason(qtbot, sidebar, read_only_db):
    store = open_store(read_only_db)
    sidebar.add_store(store)
    wait_loaded(qtbot, sidebar, store)
    reason = sidebar.model.read_only_reason(store)
    assert reason

    top = sidebar.model.store_index(store)
    assert top.data().endswith(READ_ONLY_SUFFIX)
    assert "Read-only:" in top.data(Qt.ItemDataRole.ToolTipRole)
    assert top.data(Role.READ_ONLY_REASON) == reason


def test_set_read_only_updates_the_badge(qtbot, sidebar, sqlite_path):
    (store,) = open_loaded(qtbot, sidebar, sqlite_path)
    top = sidebar.model.store_index(store)
    assert sidebar.model.read_only_reason(store) is None
    assert top.data() == "mlflow.db"

    with qtbot.waitSignal(sidebar.model.dataChanged):
        sidebar.model.set_read_only(store, "Locked by <b>another</b> writer")
    assert top.data() == "mlflow.db" + READ_ONLY_SUFFIX
    tooltip = top.data(Qt.ItemDataRole.ToolTipRole)
    assert "Read-only: Locked by &lt;b&gt;another&lt;/b&gt; writer" in tooltip
    assert sidebar.model.read_only_reason(store) == "Locked by <b>another</b> writer"
    sidebar.model.set_read_only(store, None)
    assert top.data() == "mlflow.db" and "Read-only" not in top.data(Qt.ItemDataRole.ToolTipRole)


def test_refresh_keeps_the_selected_rows_and_expansion(
    qtbot, sidebar, opened, templates, sqlite_path
):
    from mlflow import MlflowClient

    (store,) = open_loaded(qtbot, sidebar, sqlite_path)
    model, alpha = sidebar.model, templates.ids["alpha"]
    select(sidebar, store, alpha)
    sidebar.tree.expand(sidebar.proxy.mapFromSource(model.experiment_index(store, alpha)))
    count = len(opened)
    with qtbot.waitSignal(model.models_loaded, timeout=20_000):
        sidebar.refresh(store)
    assert [e.experiment_id for e in sidebar.current_selection()[1]] == [alpha]
    assert sidebar.tree.isExpanded(
        sidebar.proxy.mapFromSource(model.experiment_index(store, alpha))
    )
    assert len(opened) == count  # the same selection opens nothing again

    click(qtbot, sidebar, model.model_index(store, "m"))
    uri = f"sqlite:///{sqlite_path}"
    MlflowClient(tracking_uri=uri, registry_uri=uri).create_registered_model("zeta")
    with qtbot.waitSignal(model.models_loaded, timeout=20_000):
        sidebar.refresh_models(store)
    assert names_under(sidebar, model.models_index(store))[-1] == "zeta"
    current = sidebar.proxy.mapToSource(sidebar.tree.currentIndex())
    assert current.data() == "m" and current.data(Role.KIND) == Kind.MODEL
    assert sidebar.tree.selectionModel().isSelected(sidebar.tree.currentIndex())


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
    assert not sidebar.model.models_index(remote).isValid()
    assert "alpha" in child_names(sidebar, local)
    qtmodeltester.check(sidebar.model)


def test_html_like_name_is_plain_text(qtbot, sidebar, templates, sqlite_path, tmp_path):
    (store,) = open_loaded(qtbot, sidebar, sqlite_path)
    index = sidebar.model.experiment_index(store, templates.ids[HTML_NAME])
    assert index.data() == HTML_NAME
    tooltip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert "<script>" not in tooltip and "&lt;script&gt;" in tooltip
    select(sidebar, store, templates.ids[HTML_NAME])
    assert sidebar.focus_selection().items[0].name == HTML_NAME
    picture = tmp_path / "sidebar.png"
    sidebar.grab().save(str(picture))
    assert picture.stat().st_size > 0
