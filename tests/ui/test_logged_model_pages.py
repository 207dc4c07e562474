"""The logged-model pages: filter in MLflow's grammar, metrics by dataset, compare, register."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

from mlflow import MlflowClient  # noqa: E402

import flowdeck.ui.pages  # noqa: E402, F401 - registers the pages
from flowdeck.core.addresses import Address, model_address, parse_address  # noqa: E402
from flowdeck.store import open_store  # noqa: E402
from flowdeck.store.base import Store  # noqa: E402
from flowdeck.ui.pages.logged_models.compare_dialog import CompareLoggedModelsDialog  # noqa: E402
from flowdeck.ui.shell.page import Page, Shell  # noqa: E402
from flowdeck.ui.shell.page_types import create_page  # noqa: E402

TIMEOUT = 30_000
SHOTS = Path("/tmp/registry")


@dataclass(frozen=True)
class Written:
    path: Path
    experiment_id: str
    model_ids: tuple[str, str, str]  # small, big (with artifacts), pending


def _write(folder: Path) -> Written:
    import mlflow
    import pandas as pd

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment("lm", artifact_location=str(folder / "art"))
    run_id = client.create_run(experiment_id, run_name="trainer").info.run_id
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        small = client.create_logged_model(experiment_id, name="small", source_run_id=run_id,
                                           params={"lr": "0.1"}, tags={"team": "a"})
        client.finalize_logged_model(small.model_id, "READY")

        class Echo(mlflow.pyfunc.PythonModel):
            def predict(self, context, model_input):  # noqa: ANN001, ANN201
                return model_input

        with mlflow.start_run(run_id=run_id):
            big = mlflow.pyfunc.log_model(name="big", python_model=Echo(), params={"lr": "0.01"})
            train = mlflow.data.from_pandas(pd.DataFrame({"x": [1, 2]}), name="train")
            evaluation = mlflow.data.from_pandas(pd.DataFrame({"x": [3]}), name="eval")
            for step, value in ((0, 0.7), (1, 0.95)):
                mlflow.log_metric("accuracy", value, step=step, model_id=big.model_id,
                                  dataset=train)
            mlflow.log_metric("accuracy", 0.9, model_id=big.model_id, dataset=evaluation)
            mlflow.log_metric("accuracy", 0.6, model_id=small.model_id, dataset=train)
            mlflow.log_metric("accuracy", 0.55, model_id=small.model_id, dataset=evaluation)
        pending = client.create_logged_model(experiment_id, name="pending")
    finally:
        mlflow.set_tracking_uri(previous)
    client.set_terminated(run_id)
    return Written(folder / "mlflow.db", experiment_id,
                   (small.model_id, big.model_id, pending.model_id))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    return _write(tmp_path_factory.mktemp("logged-models"))


@pytest.fixture
def db(written: Written, tmp_path: Path) -> Path:
    shutil.copytree(written.path.parent, tmp_path / "copy")
    return tmp_path / "copy" / "mlflow.db"


@pytest.fixture
def store(db: Path) -> Store:
    opened = open_store(db)
    yield opened
    opened.close()


def opened(qtbot, shell: Shell, store: Store, text: str) -> Page:  # noqa: ANN001
    with qtbot.waitSignal(shell.context.read_only_changed, timeout=TIMEOUT):
        shell.writes.check(store)
    page = create_page(shell, store, parse_address(text))
    qtbot.addWidget(page)
    page.resize(1200, 650)
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.start()
    assert page.error is None, page.error
    return page


def shoot(qtbot, widget, name: str) -> None:  # noqa: ANN001
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.grab().save(str(SHOTS / f"{name}.png"))


def select(page: Page, names: list[str]) -> None:
    page.table.clearSelection()
    model = page.table.selectionModel()
    for row, texts in enumerate(page.table.texts()):
        if texts[0] in names:
            page.table.selectRow(row) if not model.selectedRows() else model.select(
                page.table.model().index(row, 0),
                model.SelectionFlag.Select | model.SelectionFlag.Rows,
            )


def test_the_list_filters_in_mlflows_grammar(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, f"logged-models/{written.experiment_id}")
    assert sorted(row[0] for row in page.table.texts()) == ["big", "pending", "small"]
    headers = page.table.rows_model.headers
    assert "accuracy (eval)" in headers and "accuracy (train)" in headers  # two datasets
    big = next(row for row in page.table.texts() if row[0] == "big")
    assert big[headers.index("accuracy (train)")] == "0.95"  # the value at the highest step
    moved: list[Address] = []
    page.address_changed.connect(moved.append)
    page.search.setText("metrics.accuracy > 0.9")
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.search.returnPressed.emit()
    assert [row[0] for row in page.table.texts()] == ["big"]
    assert moved[-1].filter == "metrics.accuracy > 0.9"
    page.search.setText("params.lr = ")
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.apply_filter()
    assert page.filter_message.text()  # the grammar's complaint, in words
    assert page.address.filter == "metrics.accuracy > 0.9"  # the bad filter is not kept
    shoot(qtbot, page, "logged-models")


def test_compare_two_models_side_by_side(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, f"logged-models/{written.experiment_id}")
    select(page, ["big"])
    assert not page.compare_button.isEnabled()
    assert "Select 2 to 10" in page.compare_button.toolTip()
    select(page, ["big", "small"])
    assert page.compare_button.isEnabled()
    page.compare_button.click()
    dialog: CompareLoggedModelsDialog = page.compare_dialog
    qtbot.addWidget(dialog)
    names = [dialog.table.item(row, 0).text() for row in range(dialog.table.rowCount())]
    assert "Params: lr" in names and "Metrics: accuracy (eval)" in names
    row = names.index("Params: lr")
    values = {dialog.table.item(row, 1).text(), dialog.table.item(row, 2).text()}
    assert values == {"0.1", "0.01"}
    assert dialog.table.item(row, 1).font().bold()  # they differ
    shoot(qtbot, dialog, "logged-models-compare")


def test_register_a_logged_model(qtbot, shell, store, written, db) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, f"logged-model/{written.model_ids[1]}")
    assert page.title() == "big"
    assert page.tabs.tabText(0) == "Metrics (3)"
    datasets = {row[3] for row in page.metrics.texts()}
    assert datasets == {"train", "eval"}
    opened_pages: list[Address] = []
    page.open_requested.connect(lambda address, _new: opened_pages.append(address))
    page.register_button.click()
    qtbot.waitUntil(lambda: page.registration.dialog is not None, timeout=TIMEOUT)
    dialog = page.registration.dialog
    assert dialog.name() == "big"
    assert dialog.source.uri == f"models:/{written.model_ids[1]}"
    dialog.name_box.setEditText("echo")
    with qtbot.waitSignal(shell.writes.finished, timeout=TIMEOUT):
        dialog.accept()
    qtbot.waitUntil(lambda: bool(opened_pages), timeout=TIMEOUT)
    assert opened_pages == [model_address("echo", "1")]
    client = MlflowClient(tracking_uri=f"sqlite:///{db}", registry_uri=f"sqlite:///{db}")
    version = client.get_model_version("echo", "1")
    assert written.model_ids[1] in (version.model_id, version.source.removeprefix("models:/"))
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.start()  # the page now lists the version made from it
    assert page.versions.texts() == [["echo", "v1", "None", "", page.versions.texts()[0][4]]]


def test_the_artifacts_tab_browses_the_models_files(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, f"logged-model/{written.model_ids[1]}")
    page.tabs.setCurrentIndex(3)
    view = page.artifacts
    qtbot.waitUntil(lambda: view.model.entries("") is not None, timeout=TIMEOUT)
    names = {entry.path for entry in view.model.entries("")}
    assert "MLmodel" in names and "python_env.yaml" in names
    view.select_path("MLmodel", user=True)
    qtbot.waitUntil(lambda: view.host.path == "MLmodel" and view.host.previewer is not None,
                    timeout=TIMEOUT)
    assert not view.artifact_actions.register.isVisible()
    shoot(qtbot, page, "logged-model-artifacts")


def test_an_unknown_logged_model_says_so(qtbot, shell, store) -> None:  # noqa: ANN001
    page = create_page(shell, store, parse_address("logged-model/m-nope"))
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.failed, timeout=TIMEOUT) as blocker:
        page.start()
    assert blocker.args[0] == "There is no logged model with ID m-nope in mlflow.db."
