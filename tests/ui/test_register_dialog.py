"""Register Model…: a run's model folder becomes a version of a new or existing model."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from mlflow import MlflowClient

from flowdeck.core.addresses import Address, model_address
from flowdeck.store import open_store
from flowdeck.store.base import Store
from flowdeck.ui.artifacts.browser import ArtifactsView
from flowdeck.ui.registry.register_dialog import RegisterDialog, outcome_text
from flowdeck.ui.shell.page import Shell

TIMEOUT = 30_000
MODEL = "clf"
SHOTS = Path("/tmp/registry")
MLMODEL = "artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A run with a model folder (``model/MLmodel``) and a plain file; clf has v1 already."""
    folder = tmp_path_factory.mktemp("register")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment("reg", artifact_location=str(folder / "art"))
    run_id = client.create_run(experiment_id, run_name="train").info.run_id
    client.log_text(run_id, MLMODEL, "model/MLmodel")
    client.log_text(run_id, "notes", "notes.txt")
    client.set_terminated(run_id)
    client.create_registered_model(MODEL)
    client.create_model_version(MODEL, f"runs:/{run_id}/model", run_id=run_id)
    return folder, run_id


@pytest.fixture
def copy(template: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    folder, run_id = template
    shutil.copy(folder / "mlflow.db", tmp_path / "mlflow.db")
    return tmp_path / "mlflow.db", run_id


@pytest.fixture
def store(copy: tuple[Path, str]) -> Store:
    opened = open_store(copy[0])
    yield opened
    opened.close()


def browser(qtbot, shell: Shell, store: Store, run_id: str) -> ArtifactsView:  # noqa: ANN001
    with qtbot.waitSignal(shell.context.read_only_changed, timeout=TIMEOUT):
        shell.writes.check(store)
    view = ArtifactsView(shell, store, run_id)
    qtbot.addWidget(view)
    view.resize(900, 500)
    qtbot.waitUntil(lambda: view.model.entries("") is not None, timeout=TIMEOUT)
    return view


def registered_dialog(qtbot, view: ArtifactsView) -> RegisterDialog:  # noqa: ANN001
    qtbot.waitUntil(lambda: view.registration.dialog is not None, timeout=TIMEOUT)
    return view.registration.dialog


def test_outcome_says_what_registering_does() -> None:
    assert outcome_text("", {}) == "Type a name for the registered model."
    assert outcome_text("new", {MODEL: 1}).startswith("Creates the registered model 'new'")
    assert outcome_text(MODEL, {MODEL: 4}) == (
        f"Adds a new version to the existing model '{MODEL}' (its latest is v4)."
    )


def test_register_a_model_folder_as_a_new_version(qtbot, shell, store, copy) -> None:  # noqa: ANN001
    db, run_id = copy
    view = browser(qtbot, shell, store, run_id)
    action = view.artifact_actions.register
    view.select_path("notes.txt", user=True)
    qtbot.waitUntil(lambda: view.current_path() == "notes.txt", timeout=TIMEOUT)
    assert not action.isEnabled()  # a plain file is no model
    view.select_path("model", user=True)
    qtbot.waitUntil(action.isEnabled, timeout=TIMEOUT)
    assert view.artifact_actions.serve.isEnabled()  # a model folder can be served too
    opened: list[Address] = []
    view.open_requested.connect(lambda address, _new: opened.append(address))
    action.trigger()
    dialog = registered_dialog(qtbot, view)
    assert dialog.name() == "model"  # the folder's name is the suggestion
    assert dialog.outcome.text().startswith("Creates the registered model 'model'")
    dialog.name_box.setEditText(MODEL)
    assert "existing model 'clf' (its latest is v1)" in dialog.outcome.text()
    dialog.description.setText("from the browser")
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "register-dialog.png"))
    with qtbot.waitSignal(shell.writes.finished, timeout=TIMEOUT):
        dialog.accept()
    qtbot.waitUntil(lambda: bool(opened), timeout=TIMEOUT)
    assert opened == [model_address(MODEL, "2")]
    client = MlflowClient(tracking_uri=f"sqlite:///{db}", registry_uri=f"sqlite:///{db}")
    version = client.get_model_version(MODEL, "2")
    assert version.run_id == run_id
    assert version.source.endswith("/model")
    assert version.description == "from the browser"


def test_an_empty_name_cannot_be_registered(qtbot, shell, store, copy) -> None:  # noqa: ANN001
    view = browser(qtbot, shell, store, copy[1])
    view.select_path("model/MLmodel", user=True)  # the MLmodel file stands for its folder
    qtbot.waitUntil(view.artifact_actions.register.isEnabled, timeout=TIMEOUT)
    view.register_model()
    dialog = registered_dialog(qtbot, view)
    dialog.name_box.setEditText("  ")
    assert dialog.outcome.text() == "Type a name for the registered model."
    assert not dialog.buttons.buttons()[0].isEnabled() or not dialog.name()
    dialog.reject()


def test_a_read_only_store_disables_register(qtbot, shell, copy) -> None:  # noqa: ANN001
    db, run_id = copy
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f4a9b2c7d1e6'")
    read_only = open_store(db)
    try:
        view = browser(qtbot, shell, read_only, run_id)
        view.select_path("model", user=True)
        qtbot.waitUntil(lambda: view.current_path() == "model", timeout=TIMEOUT)
        action = view.artifact_actions.register
        assert not action.isEnabled()
        assert action.toolTip() == read_only.read_only_reason
    finally:
        read_only.close()
