"""Overview pages (runs, registry, logged models, traces, servers) on stores written by MLflow."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtWidgets import QLabel, QTableWidget, QWidget  # noqa: E402

import flowdeck.ui.pages  # noqa: E402, F401 - registers the pages
from flowdeck.core.addresses import model_address, parse_address  # noqa: E402
from flowdeck.store import open_store  # noqa: E402
from flowdeck.store.base import Store  # noqa: E402
from flowdeck.store.writer_core import Change  # noqa: E402
from flowdeck.ui.pages.overview_widgets import LinkButton  # noqa: E402
from flowdeck.ui.shell.page import Page, Shell  # noqa: E402
from flowdeck.ui.shell.page_types import PAGE_TYPES, create_page  # noqa: E402

BOLD_RUN = "<b>bold</b> run"
MODEL = "<i>clf<i> & co"
LOGGED = "<u>lm<u>"
SPAN = "<b>agent</b>"
EXPERIMENT = "<b>exp</b>"
SHOTS = Path("/tmp/pages")


@dataclass(frozen=True)
class Written:
    path: Path
    experiment_id: str
    run_ids: tuple[str, str]
    model_id: str
    trace_id: str


def _write_sqlite(folder: Path) -> Written:
    import mlflow
    from mlflow import MlflowClient

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment(EXPERIMENT, artifact_location=str(folder / "art"))
    run_ids = []
    for index, name in enumerate([BOLD_RUN, "plain-run"]):
        run_id = client.create_run(experiment_id, run_name=name).info.run_id
        client.log_param(run_id, "lr", f"0.0{index + 1}")
        client.log_param(run_id, "optimizer", "adam")
        client.log_metric(run_id, "loss", 0.5 - index * 0.1, step=3)
        client.set_tag(run_id, "team", "vision")
        client.log_text(run_id, f"hello {index}", "notes/readme.txt")
        client.set_terminated(run_id)
        run_ids.append(run_id)
    client.log_text(run_ids[0], "top", "summary.txt")
    client.create_registered_model(MODEL, description="First line\nsecond line")
    version = client.create_model_version(MODEL, f"runs:/{run_ids[0]}/model", run_id=run_ids[0])
    client.set_registered_model_alias(MODEL, "champion", version.version)
    logged = client.create_logged_model(experiment_id, name=LOGGED, source_run_id=run_ids[1])
    previous = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        mlflow.genai.register_prompt(name="greeting", template="Hello {{name}}")
        root = client.start_trace(SPAN, experiment_id=experiment_id, inputs={"question": "hi"})
        child = client.start_span("retrieve", root.trace_id, root.span_id)
        time.sleep(0.01)
        client.end_span(root.trace_id, child.span_id)
        client.end_trace(root.trace_id, outputs={"answer": "hello"})
        trace_id = root.trace_id
        mlflow.flush_trace_async_logging()
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
    return Written(folder / "mlflow.db", experiment_id, tuple(run_ids), logged.model_id, trace_id)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    return _write_sqlite(tmp_path_factory.mktemp("overview"))


@pytest.fixture(scope="module")
def file_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An mlruns folder with one run and no traces."""
    from mlflow import MlflowClient

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    path = tmp_path_factory.mktemp("files") / "mlruns"
    client = MlflowClient(tracking_uri=str(path))
    experiment_id = client.create_experiment("plain")
    client.set_terminated(client.create_run(experiment_id).info.run_id)
    return path


@pytest.fixture
def store(written: Written) -> Store:
    opened = open_store(written.path)
    yield opened
    opened.close()


def opened(qtbot, shell: Shell, store: Store | None, text: str) -> Page:  # noqa: ANN001
    page = create_page(shell, store, parse_address(text))  # type: ignore[arg-type]
    qtbot.addWidget(page)
    page.resize(1000, 600)
    with qtbot.waitSignal(page.loaded, timeout=15000):
        page.start()
    assert page.error is None
    return page


def failure(qtbot, shell: Shell, store: Store, text: str) -> tuple[str, bool]:  # noqa: ANN001
    page = create_page(shell, store, parse_address(text))
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.failed, timeout=15000) as blocker:
        page.start()
    assert page.message.text() == blocker.args[0]
    return blocker.args[0], blocker.args[1]


def cells(table: QTableWidget) -> list[list[str]]:
    return [
        [table.item(row, column).text() for column in range(table.columnCount())]
        for row in range(table.rowCount())
    ]


def fact_widget(page: Page, name: str) -> QWidget:
    """The value widget of a fact under the page's heading."""
    layout = page.facts
    for row in range(layout.rowCount()):
        if layout.itemAt(row, layout.ItemRole.LabelRole).widget().text() == f"{name}:":
            return layout.itemAt(row, layout.ItemRole.FieldRole).widget()
    raise AssertionError(f"no fact {name!r}")


def fact(page: Page, name: str) -> str:
    """The text a user reads in a fact ('&&' on a button shows as '&')."""
    value = fact_widget(page, name)
    return value.text().replace("&&", "&") if isinstance(value, LinkButton) else value.text()


def cell_centre(table: QTableWidget, row: int, column: int) -> QPoint:
    return table.visualRect(table.model().index(row, column)).center()


def all_plain(page: Page) -> None:
    for label in page.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText, label.text()


def test_logged_model_pages(qtbot, shell, store, written) -> None:  # noqa: ANN001
    listing = opened(qtbot, shell, store, f"logged-models/{written.experiment_id}")
    assert listing.title() == "Logged models"
    row = listing.table.texts()[0]
    assert row[:3] == [LOGGED, written.model_id, "PENDING"]
    assert row[4] == written.run_ids[1][:8]

    page = opened(qtbot, shell, store, f"logged-model/{written.model_id}")
    assert page.title() == LOGGED
    assert fact(page, "Source run") == written.run_ids[1]
    assert fact(page, "Experiment") == EXPERIMENT

    assert failure(qtbot, shell, store, "logged-model/m-nope") == (
        "There is no logged model with ID m-nope in mlflow.db.",
        True,
    )
    assert failure(qtbot, shell, store, "logged-models/999")[1] is True


# --- traces ------------------------------------------------------------------------------------------


def test_traces_page_lists_traces_and_honours_the_filter(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, f"traces/{written.experiment_id}")
    assert page.title() == f"Traces — {EXPERIMENT}"
    model = page.model
    row = [model.index(0, column).data() for column in (0, 1, 2, 4)]
    assert row == [written.trace_id, SPAN, '{"question": "hi"}', "OK"]

    text, missing = failure(qtbot, shell, store, f"traces/{written.experiment_id}?filter=nonsense")
    assert missing and text.startswith("Invalid")  # a malformed address: the CLI exits 2

    filtered = opened(
        qtbot, shell, store, f"traces/{written.experiment_id}?filter=trace.status%20%3D%20'ERROR'"
    )
    assert filtered.count.text() == "No traces match the filter."
    assert fact(filtered, "Filter") == "trace.status = 'ERROR'"
    assert filtered.shows(Change("trace", (written.trace_id,), "set_tag"))


def test_trace_page_lists_spans_as_a_tree(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, f"trace/{written.trace_id}")

    assert page.title() == SPAN
    assert page.heading.text() == SPAN
    model = page.model  # the shown spans, depth-first: "retrieve" under the root
    rows = [model.span_of(model.index(row, 0)) for row in range(model.rowCount())]
    assert [model.index(row, 0).data() for row in range(len(rows))] == [SPAN, "retrieve"]
    assert model.parent_of(rows[1]) == rows[0] and model.depth_of(rows[1]) == 1
    assert fact(page, "State") == "OK"
    assert failure(qtbot, shell, store, "trace/tr-nope") == (
        "There is no trace with ID tr-nope in mlflow.db.",
        True,
    )


def test_a_file_store_without_traces_says_so(qtbot, shell, file_store_path) -> None:  # noqa: ANN001
    files = open_store(file_store_path)
    experiment_id = str(files.experiments()["experiment_id"].iloc[-1])
    page = opened(qtbot, shell, files, f"traces/{experiment_id}")
    assert page.count.text() == "This experiment has no traces."
    assert page.model.rowCount() == 0
    text, missing = failure(qtbot, shell, files, "trace/tr-nope")
    assert missing and text == f"There is no trace with ID tr-nope in {files.display_name}."


def test_servers_page_needs_no_store(qtbot, shell) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, None, "servers")
    assert page.title() == "Servers"
    assert page.empty.text().startswith("No local model servers are running.")
    assert page.table.rowCount() == 0 and not page.buttons["stop"].isEnabled()


def test_every_page_type_is_registered_and_readable(qtbot, shell, store, written) -> None:  # noqa: ANN001
    addresses = {
        "models": "models",
        "model": str(model_address(MODEL)),
        "model-version": str(model_address(MODEL, "1")),
        "logged-models": f"logged-models/{written.experiment_id}",
        "logged-model": f"logged-model/{written.model_id}",
        "traces": f"traces/{written.experiment_id}",
        "trace": f"trace/{written.trace_id}",
        "servers": "servers",
    }
    assert set(PAGE_TYPES) >= {*addresses, "experiment", "compare", "run"}  # run: test_run_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    for family, text in addresses.items():
        page = opened(qtbot, shell, None if family == "servers" else store, text)
        assert page.family == family
        all_plain(page)
        page.show()
        qtbot.waitExposed(page)
        assert page.grab().save(str(SHOTS / f"{family}.png"))
        page.hide()
    missing = create_page(shell, store, parse_address("model/nope"))
    qtbot.addWidget(missing)
    missing.resize(1000, 600)
    with qtbot.waitSignal(missing.failed, timeout=15000):
        missing.start()
    missing.show()
    qtbot.waitExposed(missing)
    assert missing.grab().save(str(SHOTS / "failed.png"))


def test_a_trace_logged_inside_a_run_links_to_its_run(qtbot, shell, tmp_path) -> None:  # noqa: ANN001
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    try:
        experiment_id = mlflow.create_experiment("traced", artifact_location=str(tmp_path / "a"))
        with mlflow.start_run(experiment_id=experiment_id) as run:
            with mlflow.start_span("in-a-run") as span:
                span.set_inputs({"q": "hi"})
            trace_id = span.trace_id
        mlflow.flush_trace_async_logging()
    finally:
        mlflow.set_tracking_uri(None)
    store = open_store(str(tmp_path / "mlflow.db"))
    try:
        page = opened(qtbot, shell, store, f"trace/{trace_id}")
        link = fact_widget(page, "Run")
        assert isinstance(link, LinkButton) and fact(page, "Run") == run.info.run_id
        with qtbot.waitSignal(page.open_requested) as requested:
            link.click()
        assert requested.args[0] == parse_address(f"run/{run.info.run_id}")
    finally:
        store.close()
