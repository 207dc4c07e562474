"""The registry pages (models, a model, a version) on a SQLite store written by MLflow."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QDialog, QGroupBox, QLabel  # noqa: E402

import flowdeck.ui.pages  # noqa: E402, F401 - registers the pages
from flowdeck.core.addresses import Address, model_address, parse_address, run_address  # noqa: E402
from flowdeck.core.entities import RegisteredModel  # noqa: E402
from flowdeck.store import open_store  # noqa: E402
from flowdeck.store.base import Store  # noqa: E402
from flowdeck.store.writer_core import Change  # noqa: E402
from flowdeck.ui.pages.registry.models import model_row  # noqa: E402
from flowdeck.ui.pages.registry.reads import summarize  # noqa: E402
from flowdeck.ui.pages.registry.tables import LinkView, RowsModel  # noqa: E402
from flowdeck.ui.pages.registry.version import PROMOTE_LATER, promotion_available  # noqa: E402
from flowdeck.ui.shell.page import Page, Shell  # noqa: E402
from flowdeck.ui.shell.page_types import create_page  # noqa: E402

MODEL = "classifier"
OTHER = "detector"
PROMPT = "greeting"
SHOTS = Path("/tmp/registry")
MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
    python_version: 3.12.0
  sklearn:
    pickled_model: model.pkl
    sklearn_version: 1.9.1
mlflow_version: 3.17.2
"""


@dataclass(frozen=True)
class Written:
    path: Path
    run_ids: tuple[str, str, str]
    model_id: str


def _write(folder: Path) -> Written:
    import mlflow
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment("reg", artifact_location=str(folder / "art"))
    run_ids = []
    for index in range(3):
        run_id = client.create_run(experiment_id, run_name=f"train-{index + 1}").info.run_id
        client.log_param(run_id, "C", str(index + 1))
        for key in ("accuracy", "f1", "loss", "recall"):
            client.log_metric(run_id, key, 0.1 * (index + 1), step=0)
            client.log_metric(run_id, key, 0.5 + 0.1 * index, step=1)
        if index == 0:
            client.log_metric(run_id, "only_first", 1.0)
        client.set_terminated(run_id)
        run_ids.append(run_id)
    client.log_text(run_ids[0], MLMODEL, "model/MLmodel")
    client.create_registered_model(
        MODEL, tags={"team": "vision"}, description="**Sorts** images\nsecond line"
    )
    client.create_model_version(MODEL, f"runs:/{run_ids[0]}/model", run_id=run_ids[0])
    client.create_model_version(MODEL, f"runs:/{run_ids[1]}/model", run_id=run_ids[1])
    previous = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        with mlflow.start_run(run_id=run_ids[2]):
            info = mlflow.sklearn.log_model(
                LogisticRegression().fit([[0.0], [1.0]], [0, 1]),
                name="model",
                registered_model_name=MODEL,
            )
        mlflow.genai.register_prompt(name=PROMPT, template="Hello {{name}}")
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
    client.set_registered_model_alias(MODEL, "champion", "3")
    client.set_registered_model_alias(MODEL, "challenger", "2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.transition_model_version_stage(MODEL, "2", "Staging")
    client.create_registered_model(OTHER)
    client.create_model_version(OTHER, f"runs:/{run_ids[0]}/model", run_id=run_ids[0])
    client.create_model_version(OTHER, f"runs:/{run_ids[1]}/model", run_id=run_ids[1])
    client.delete_model_version(OTHER, "2")
    return Written(folder / "mlflow.db", tuple(run_ids), info.model_id)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    return _write(tmp_path_factory.mktemp("registry"))


@pytest.fixture
def store(written: Written) -> Store:
    opened = open_store(written.path)
    yield opened
    opened.close()


def opened(qtbot, shell: Shell, store: Store, text: str) -> Page:  # noqa: ANN001
    page = create_page(shell, store, parse_address(text))
    qtbot.addWidget(page)
    page.resize(1200, 700)
    with qtbot.waitSignal(page.loaded, timeout=20000):
        page.start()
    assert page.error is None, page.error
    return page


def failure(qtbot, shell: Shell, store: Store, text: str) -> tuple[str, bool]:  # noqa: ANN001
    page = create_page(shell, store, parse_address(text))
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.failed, timeout=15000) as blocker:
        page.start()
    return blocker.args[0], blocker.args[1]


def fact(page: Page, name: str) -> str:
    layout = page.facts
    for row in range(layout.rowCount()):
        if layout.itemAt(row, layout.ItemRole.LabelRole).widget().text() == f"{name}:":
            value = layout.itemAt(row, layout.ItemRole.FieldRole).widget()
            return value.text().replace("&&", "&")
    raise AssertionError(f"no fact {name!r}")


def centre(view: LinkView, row: int, column: int) -> QPoint:
    return view.visualRect(view.model().index(row, column)).center()


def shoot(qtbot, page: Page, name: str) -> None:  # noqa: ANN001
    for label in page.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText, label.text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.show()
    qtbot.waitExposed(page)
    assert page.grab().save(str(SHOTS / f"{name}.png"))


def test_models_page_lists_models_and_prompts(qtbot, shell, store) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, "models")

    assert page.title() == "Models"
    rows = page.models.table.texts()
    assert [row[0] for row in rows] == [MODEL, OTHER]
    assert rows[0][1:5] == [
        "v3",
        "@challenger → v2, @champion → v3",
        "Staging 1",
        "team=vision",
    ]
    assert rows[0][6] == "**Sorts** images"
    assert rows[1][1] == "v1"  # the deleted v2 is not the latest
    prompts = page.prompts.table.texts()
    assert [row[0] for row in prompts] == [PROMPT]
    assert prompts[0][1:3] == ["v1", "Hello {{name}}"]
    assert page.prompts.caption.text() == "Prompts (1)"
    assert page.shows(Change("model_version", (f"{MODEL}/1",), "set_tag"))
    assert not page.shows(Change("run", ("x",), "rename"))

    table = page.models.table
    with qtbot.waitSignal(page.open_requested) as blocker:
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre(table, 0, 0))
    assert blocker.args == [model_address(MODEL), False]
    with qtbot.waitSignal(page.open_requested) as blocker:
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre(table, 0, 1))
    assert blocker.args == [model_address(MODEL, "3"), False]

    header = table.horizontalHeader()
    at = QPoint(header.sectionViewportPosition(0) + 20, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=at)  # name, descending
    assert [row[0] for row in table.texts()] == [OTHER, MODEL]
    table.sortByColumn(5, Qt.SortOrder.DescendingOrder)  # last updated, newest first
    assert [row[0] for row in table.texts()] == [OTHER, MODEL]
    table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    shoot(qtbot, page, "models")


def test_models_page_filter(qtbot, shell, store) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, "models")
    moved: list[Address] = []
    page.address_changed.connect(moved.append)

    page.search.setText("name LIKE 'cl%'")
    with qtbot.waitSignal(page.loaded, timeout=15000):
        page.search.returnPressed.emit()
    assert [row[0] for row in page.models.table.texts()] == [MODEL]
    assert moved[-1].filter == "name LIKE 'cl%'"
    assert page.prompts.note.text() == "No prompts match the filter."

    page.search.setText("tags.team = 'vision'")
    with qtbot.waitSignal(page.loaded, timeout=15000):
        page.apply_filter()
    assert [row[0] for row in page.models.table.texts()] == [MODEL]

    page.search.setText("name LIKE")
    with qtbot.waitSignal(page.loaded, timeout=15000):
        page.apply_filter()
    assert page.error is None
    assert page.filter_message.isVisible() or not page.isVisible()
    assert page.filter_message.text().startswith("Invalid")
    assert [row[0] for row in page.models.table.texts()] == [MODEL]  # what it showed stays
    assert page.address.filter == "tags.team = 'vision'"  # a bad filter never becomes the address
    assert moved[-1].filter == "tags.team = 'vision'"
    shoot(qtbot, page, "models-invalid-filter")


def test_a_thousand_models_in_the_model(qtmodeltester) -> None:  # noqa: ANN001
    view = LinkView(("Name", "Latest version", "Aliases", "Stages", "Tags", "Updated", "Desc"))
    rows = [
        model_row(summarize(RegisteredModel(f"m{index:04}", 0, index, "d\nmore"), []))
        for index in range(1000)
    ]
    view.set_rows(rows)
    model: RowsModel = view.rows_model
    qtmodeltester.check(model)
    model.sort(5, Qt.SortOrder.DescendingOrder)
    assert model.index(0, 0).data() == "m0999"
    assert model.index(0, 6).data() == "d"
    assert model.address(0, 3) == model_address("m0999")
    view.deleteLater()


def test_model_page_versions_metrics_and_history(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, str(model_address(MODEL)))

    assert page.title() == MODEL
    assert page.description.toPlainText().startswith("Sorts images")
    assert fact(page, "Aliases") == "@challenger → v2, @champion → v3"
    assert fact(page, "Tags") == "team=vision"
    model = page.versions.rows_model
    assert model.headers[-3:] == ["accuracy", "f1", "loss"]
    rows = page.versions.texts()
    assert [row[0] for row in rows] == ["v3", "v2", "v1"]
    assert rows[1][1:4] == ["@challenger", "Staging", "READY"]
    assert rows[2][6] == "train-1"
    assert rows[0][7] != ""  # logged model of the sklearn version
    assert rows[2][-3:] == ["0.5", "0.5", "0.5"]
    assert rows[0][-3:] == ["0.7", "0.7", "0.7"]
    assert page.tabs.tabText(0) == "Versions (3)"

    view = page.versions
    with qtbot.waitSignal(page.open_requested) as blocker:
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre(view, 2, 6))
    assert blocker.args == [run_address(written.run_ids[0]), False]
    with qtbot.waitSignal(page.open_requested) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.MiddleButton, pos=centre(view, 0, 0))
    assert blocker.args == [model_address(MODEL, "3"), True]
    with qtbot.waitSignal(page.open_requested) as blocker:
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre(view, 0, 7))
    assert blocker.args == [Address("logged-model", (written.model_id,)), False]

    history = page.history.texts()
    assert any(row[1] == "v3" and "@champion" in row[2] and row[5] == "inferred" for row in history)
    assert any(row[1] == "v2" and "Staging" in row[2] for row in history)
    assert page.shows(Change("model_version", (f"{MODEL}/2",), "set_tag"))
    assert not page.shows(Change("model_version", (f"{OTHER}/1",), "set_tag"))
    shoot(qtbot, page, "model")
    page.tabs.setCurrentIndex(1)
    shoot(qtbot, page, "model-history")


def test_deleted_versions_never_appear(qtbot, shell, store) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, str(model_address(OTHER)))
    assert [row[0] for row in page.versions.texts()] == ["v1"]
    assert page.description_section.isHidden()
    assert failure(qtbot, shell, store, str(model_address(OTHER, "2"))) == (
        f"Registered model '{OTHER}' has no version 2 in mlflow.db.",
        True,
    )


def test_version_page_lineage_and_mlmodel(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, str(model_address(MODEL, "3")))

    assert page.title() == f"{MODEL} v3"
    assert fact(page, "Aliases") == "@champion"
    assert fact(page, "Source").startswith("models:/")
    links = page.lineage_links()
    assert [link.address for link in links] == [
        run_address(written.run_ids[2]),
        Address("logged-model", (written.model_id,)),
    ]
    with qtbot.waitSignal(page.open_requested) as blocker:
        qtbot.mouseClick(links[0], Qt.MouseButton.LeftButton)
    assert blocker.args == [run_address(written.run_ids[2]), False]
    assert page.params.texts() == [["C", "3"]]
    assert [row[:2] for row in page.metrics.texts()][0] == ["accuracy", "0.7"]
    flavors = [box.title() for box in page.mlmodel.findChildren(QGroupBox)]
    assert "sklearn" in flavors and "python_function" in flavors
    assert page.mlmodel_note.isHidden()
    assert page.history.texts()[0][5] == "inferred"
    if not promotion_available():
        assert not page.promote.isEnabled()
        assert page.promote.toolTip() == PROMOTE_LATER
    shoot(qtbot, page, "version")
    page.tabs.setCurrentIndex(1)
    shoot(qtbot, page, "version-mlmodel")


def test_version_from_run_artifacts_shows_its_mlmodel(qtbot, shell, store) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, str(model_address(MODEL, "1")))
    flavors = [box.title() for box in page.mlmodel.findChildren(QGroupBox)]
    assert flavors == ["python_function", "sklearn"]
    assert [link.text() for link in page.lineage_links()] == ["Run train-1"]

    other = opened(qtbot, shell, store, str(model_address(MODEL, "2")))
    assert other.mlmodel.isHidden()
    assert other.mlmodel_note.text().startswith("Its MLmodel could not be read")


def test_unknown_model_or_version_names_nothing(qtbot, shell, store) -> None:  # noqa: ANN001
    assert failure(qtbot, shell, store, "model/nope") == (
        "There is no registered model named 'nope' in mlflow.db.",
        True,
    )
    assert failure(qtbot, shell, store, str(model_address(MODEL, "9"))) == (
        f"Registered model '{MODEL}' has no version 9 in mlflow.db.",
        True,
    )


def test_promote_opens_the_registry_dialog(qtbot, shell, store) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, str(model_address(MODEL, "2")))
    if not promotion_available():
        assert not page.promote.isEnabled()
        assert page.promote.toolTip() == PROMOTE_LATER
        return
    assert page.promote.isEnabled()
    qtbot.mouseClick(page.promote, Qt.MouseButton.LeftButton)
    dialogs = page.findChildren(QDialog)
    assert dialogs and dialogs[0].isVisible()
    qtbot.wait(200)
    dialogs[0].close()


def test_version_artifacts_tab_browses_its_files(qtbot, shell, store, written) -> None:  # noqa: ANN001
    from_run = opened(qtbot, shell, store, f"model/{MODEL}/1")  # runs:/<run>/model
    from_run.tabs.setCurrentWidget(from_run.artifacts_tab)
    view = from_run.artifacts
    assert view is not None and view.run_id == written.run_ids[0]
    qtbot.waitUntil(lambda: view.current_path() == "model", timeout=20000)
    qtbot.waitUntil(lambda: view.model.entries("model") is not None, timeout=20000)
    assert [e.path for e in view.model.entries("model")] == ["model/MLmodel"]

    logged = opened(qtbot, shell, store, f"model/{MODEL}/3")  # models:/m-… (MLflow 3)
    logged.tabs.setCurrentWidget(logged.artifacts_tab)
    view = logged.artifacts
    assert view is not None and view.artifact_owner.model_id == written.model_id
    qtbot.waitUntil(lambda: view.model.entries("") is not None, timeout=20000)
    names = {entry.path for entry in view.model.entries("")}
    assert {"MLmodel", "requirements.txt"} <= names
    shoot(qtbot, logged, "version-artifacts")
