"""The run page on runs written by MLflow: overview, parameters, metrics, tags, edits, artifacts."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QLabel, QTableWidget, QWidget  # noqa: E402
from tests.helpers.windows import close_window, shown_window  # noqa: E402
from tests.helpers.windows import open_store as open_in_window  # noqa: E402

from flowdeck.core.addresses import Address, model_address, parse_address, run_address  # noqa: E402
from flowdeck.core.compare import better_is_lower  # noqa: E402
from flowdeck.store import open_store  # noqa: E402
from flowdeck.store.base import HISTORY_DTYPE, Store  # noqa: E402
from flowdeck.store.writer_core import Change  # noqa: E402
from flowdeck.ui.edit.description_editor import DescriptionEditor  # noqa: E402
from flowdeck.ui.edit.name_dialog import NameDialog  # noqa: E402
from flowdeck.ui.edit.tags_editor import TagsEditor  # noqa: E402
from flowdeck.ui.pages.overview_widgets import LinkButton  # noqa: E402
from flowdeck.ui.pages.run.page import (  # noqa: E402
    ARTIFACTS,
    METRICS,
    OVERVIEW,
    SPARKLINE_BATCH,
    RunPage,
)
from flowdeck.ui.pages.run.reads import (  # noqa: E402
    SPARKLINE_POINTS,
    sparkline,
)
from flowdeck.ui.pages.run.sparkline import SPARKLINE_ROLE  # noqa: E402
from flowdeck.ui.pages.run.values import TREND_COLUMN  # noqa: E402
from flowdeck.ui.shell.page import Shell  # noqa: E402
from flowdeck.ui.shell.page_types import create_page  # noqa: E402

TIMEOUT = 30_000
RUN_NAME = "<b>bold</b> run"
EXPERIMENT = "<i>exp</i>"
MODEL = "clf & <co>"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
DESCRIPTION = "# Heading\n\nSome **bold words** here.\n\n<script>alert('x')</script>\n\nThe end."
LOSS_POINTS = 1000
WIDE_PARAMS = 5000
MANY_METRICS = 500
SHOTS = Path("/tmp/runpage")


@dataclass(frozen=True)
class Written:
    path: Path
    experiment_id: str
    run_id: str
    children: tuple[str, str]
    wide_id: str
    many_id: str
    model_id: str
    loss: np.ndarray  # what MLflow logged, step by step
    accuracy: np.ndarray


def _write(folder: Path) -> Written:
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities import Param

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment(EXPERIMENT, artifact_location=str(folder / "art"))
    steps = np.arange(LOSS_POINTS)
    loss = 1.0 / (1.0 + steps / 50.0)
    loss[700:] += 0.05  # the best loss is at step 699, not the last one
    accuracy = np.minimum(steps / 500.0, 0.9)
    accuracy[950] = 0.97  # the best accuracy is at step 950

    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input):  # noqa: ANN001, ANN201
            return model_input

    previous = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        with mlflow.start_run(experiment_id=experiment_id, run_name=RUN_NAME) as run:
            mlflow.log_params({"lr": "0.01", "optimizer": "adam", "layers": "4"})
            mlflow.set_tags(
                {
                    "team": "vision",
                    "mlflow.source.git.commit": COMMIT,
                    "mlflow.source.git.branch": "main",
                    "mlflow.source.git.repoURL": "https://example.com/repo.git",
                    "mlflow.source.git.dirty": "true",
                    "mlflow.note.content": DESCRIPTION,
                }
            )
            client.log_batch(
                run.info.run_id,
                metrics=[
                    mlflow.entities.Metric("val_loss", float(v), 1_700_000_000_000 + i, i)
                    for i, v in enumerate(loss)
                ]
                + [
                    mlflow.entities.Metric("accuracy", float(v), 1_700_000_000_000 + i, i)
                    for i, v in enumerate(accuracy)
                ],
            )
            frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
            mlflow.log_input(mlflow.data.from_pandas(frame, name="train-set"), context="training")
            info = mlflow.pyfunc.log_model(name="model", python_model=Echo(), registered_model_name=MODEL)
            with mlflow.start_span("in-the-run") as span:
                span.set_inputs({"q": "hi"})
            mlflow.flush_trace_async_logging()
        run_id = run.info.run_id
        children = tuple(
            client.create_run(
                experiment_id,
                run_name=f"child-{n}",
                tags={"mlflow.parentRunId": run_id},
                start_time=1_700_000_000_000 + n,
            ).info.run_id
            for n in range(2)
        )
        wide = client.create_run(experiment_id, run_name="wide").info.run_id
        params = [Param(f"param-{i:05d}", f"value {i}") for i in range(WIDE_PARAMS)]
        for start in range(0, WIDE_PARAMS, 100):
            client.log_batch(wide, params=params[start : start + 100])
        client.set_terminated(wide)
        many = client.create_run(experiment_id, run_name="many-metrics").info.run_id
        points = [
            mlflow.entities.Metric(f"m{key:03d}/loss", float(np.sin(key + step / 7)), step, step)
            for key in range(MANY_METRICS)
            for step in range(12)
        ]
        for start in range(0, len(points), 1000):
            client.log_batch(many, metrics=points[start : start + 1000])
        client.set_terminated(many)
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
    return Written(
        folder / "mlflow.db",
        experiment_id,
        run_id,
        children,
        wide,
        many,
        info.model_id,
        loss,
        accuracy,
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    return _write(tmp_path_factory.mktemp("runpage"))


@pytest.fixture
def store(written: Written) -> Store:
    opened = open_store(written.path)
    yield opened
    opened.close()


@pytest.fixture
def small_db(tmp_path: Path) -> tuple[Path, str]:
    """A store of its own for tests that write: one run with a tag and a metric."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("edits", artifact_location=str(tmp_path / "art"))
    run_id = client.create_run(experiment_id, run_name="editable").info.run_id
    client.set_tag(run_id, "stage", "old")
    client.log_metric(run_id, "loss", 0.5, step=1)
    client.set_terminated(run_id)
    return tmp_path / "mlflow.db", run_id


def opened(qtbot, shell: Shell, store: Store, text: str) -> RunPage:  # noqa: ANN001
    page = create_page(shell, store, parse_address(text))
    assert isinstance(page, RunPage)
    qtbot.addWidget(page)
    page.resize(1100, 760)
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.start()
    assert page.error is None
    return page


def links(widget: QWidget) -> list[LinkButton]:
    return [widget] if isinstance(widget, LinkButton) else widget.findChildren(LinkButton)


def link_texts(widget: QWidget) -> list[str]:
    return [button.text().replace("&&", "&") for button in links(widget)]


def shot(page: QWidget, name: str, qtbot) -> None:  # noqa: ANN001
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.show()
    qtbot.waitExposed(page)
    qtbot.wait(50)
    assert page.grab().save(str(SHOTS / f"{name}.png"))


# --- Qt-free rules ---------------------------------------------------------------------------------


def test_the_best_value_is_the_minimum_for_losses_and_errors() -> None:
    for key in ("loss", "val_loss", "Train/Error", "top1_err", "mae", "MSE", "rmse", "perplexity"):
        assert better_is_lower(key), key
    for key in ("accuracy", "f1", "auc", "reward", "val/precision"):
        assert not better_is_lower(key), key


def test_a_sparkline_keeps_at_most_200_points_and_breaks_at_nan() -> None:
    history = np.zeros(10_000, dtype=HISTORY_DTYPE)
    history["step"] = np.arange(10_000)
    history["value"] = np.sin(np.arange(10_000) / 300.0)
    history["value"][5000] = 50.0  # a spike survives decimation
    line = sparkline(history)
    assert line is not None and line.points == 10_000
    assert len(line.x) <= SPARKLINE_POINTS
    assert line.x[0] == 0.0 and line.x[-1] == 1.0
    assert np.nanmin(line.y) == 0.0  # the spike is the top of the cell
    history["value"][100] = np.nan
    assert np.isnan(sparkline(history).y).sum() == 1
    assert sparkline(np.zeros(0, dtype=HISTORY_DTYPE)) is None


# --- overview --------------------------------------------------------------------------------------


def test_overview_shows_the_run_as_typed_with_its_links(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, f"run/{written.run_id}")
    overview = page.overview

    assert page.title() == RUN_NAME
    assert overview.name.text() == RUN_NAME
    assert overview.status_label.text() == "FINISHED"
    for label in page.findChildren(QLabel):
        if not page.charts.isAncestorOf(label):  # the charts' own toolbar is not store text
            assert label.textFormat() == Qt.TextFormat.PlainText, label.text()
    assert link_texts(overview.fact("Experiment")) == [EXPERIMENT]
    commit = overview.fact("Git commit")
    assert commit.label.text() == COMMIT[:10]
    commit.button.click()
    assert QGuiApplication.clipboard().text() == COMMIT
    assert overview.fact("Git branch").label.text() == "main"
    assert overview.fact("Git repository").label.text() == "https://example.com/repo.git"
    assert overview.fact("Git dirty").label.text() == "true"
    assert overview.fact("Source type").text() == "LOCAL"

    children = overview.fact("Child runs")
    assert link_texts(children) == ["child-0 (RUNNING)", "child-1 (RUNNING)"]
    with qtbot.waitSignal(page.open_requested) as requested:
        links(children)[1].click()
    assert requested.args == [run_address(written.children[1]), False]
    model_links = links(overview.fact("Logged models"))
    assert [b.address for b in model_links] == [Address("logged-model", (written.model_id,))]
    assert "logged by this run" in model_links[0].text()
    versions = links(overview.fact("Registered versions"))
    assert [(b.text().replace("&&", "&"), b.address) for b in versions] == [
        (f"{MODEL} v1", model_address(MODEL, "1"))
    ]
    traces = links(overview.fact("Traces"))
    assert traces[0].text() == "1 trace logged in this run"
    with qtbot.waitSignal(page.open_requested) as requested:
        traces[0].click()
    target = requested.args[0]
    assert (target.kind, target.ids) == ("traces", (written.experiment_id,))
    assert written.run_id in target.filter

    text = overview.description.toPlainText()
    assert "Heading" in text and "bold words" in text and "The end." in text
    assert "<script>alert('x')</script>" in text  # raw HTML shows as typed, never interpreted
    assert overview.description.document().toHtml().count("<script") == 0
    cursor = overview.description.document().find("bold words")
    assert cursor.charFormat().font().bold()

    tree = overview.datasets
    assert tree.topLevelItemCount() == 1
    row = tree.topLevelItem(0)
    assert [row.text(c) for c in (0, 2, 4)] == ["train-set", "code", "training"]
    assert not row.isExpanded()
    assert row.child(0).text(0) == "Schema: a (long), b (string)"


def test_a_child_shows_its_parent_and_an_unknown_run_names_nothing(qtbot, shell, store, written) -> None:  # noqa: ANN001
    child = opened(qtbot, shell, store, f"run/{written.children[0]}")
    parent = links(child.overview.fact("Parent run"))
    assert [b.text().replace("&&", "&") for b in parent] == [RUN_NAME]
    assert parent[0].address == run_address(written.run_id)
    assert child.overview.fact("Child runs") is None

    page = create_page(shell, store, parse_address("run/abc"))
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.failed, timeout=TIMEOUT) as failed:
        page.start()
    assert failed.args == ["There is no run with ID abc in mlflow.db.", True]
    assert page.message.text() == failed.args[0]
    assert page.stack.currentWidget() is page.message


# --- parameters and tags -----------------------------------------------------------------------


def test_parameters_search_sort_and_copy(qtbot, shell, store, written, qtmodeltester) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, f"run/{written.run_id}")
    params = page.params
    qtmodeltester.check(params.model)
    assert page.tabs.tabText(1) == "Parameters (3)"
    shown = [params.proxy.index(r, 0).data() for r in range(params.proxy.rowCount())]
    assert shown == ["layers", "lr", "optimizer"]
    params.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert params.proxy.index(0, 0).data() == "optimizer"

    params.search.setText("ADA")
    assert params.proxy.rowCount() == 1 and params.count.text() == "1 of 3 parameters"
    params.table.selectAll()
    params.table.setFocus()
    qtbot.keyClick(params.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "optimizer\tadam"
    params.copy_button.click()
    assert json.loads(QGuiApplication.clipboard().text()) == {
        "layers": "4",
        "lr": "0.01",
        "optimizer": "adam",
    }


def test_five_thousand_parameters_are_one_model_not_widgets(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, f"run/{written.wide_id}")
    params = page.params
    assert params.proxy.rowCount() == WIDE_PARAMS
    assert params.count.text() == f"{WIDE_PARAMS} parameters"
    assert not page.findChildren(QTableWidget)
    assert len(page.findChildren(QWidget)) < 400  # no widget per parameter
    params.search.setText("param-0499")
    assert params.proxy.rowCount() == 10
    params.search.setText("VALUE 4321")
    assert [params.proxy.index(0, c).data() for c in (0, 1)] == ["param-04321", "value 4321"]


def test_tags_separate_system_tags_and_search(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, f"run/{written.run_id}")
    tags = page.tags
    assert tags.user_model.keys == ["team"]
    assert page.tabs.tabText(3) == "Tags (1)"
    assert tags.system_table.isHidden()
    assert "mlflow.source.git.commit" in tags.system_model.keys
    tags.system_toggle.click()
    assert not tags.system_table.isHidden()
    tags.search.setText("branch")
    assert tags.system_proxy.rowCount() == 1
    assert tags.user_proxy.rowCount() == 0
    assert tags.user_note.text() == "No tag of the run's own matches the search."
    assert tags.system_toggle.text().startswith("MLflow system tags (1 of ")


# --- metrics ------------------------------------------------------------------------------------


def test_metrics_match_what_mlflow_logged_and_each_has_a_sparkline(
    qtbot, shell, store, written, qtmodeltester
) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, f"run/{written.run_id}")
    model = page.metrics.model
    qtmodeltester.check(model)
    rows = {row.key: row for row in model.rows}
    loss, accuracy = rows["val_loss"], rows["accuracy"]
    assert (loss.latest, loss.minimum, loss.maximum) == pytest.approx(
        (written.loss[-1], written.loss.min(), written.loss.max())
    )
    assert loss.best_step == int(np.argmin(written.loss)) == 699
    assert loss.count == LOSS_POINTS
    assert accuracy.best_step == 950 and accuracy.maximum == pytest.approx(0.97)
    table = [[model.index(r, c).data() for c in range(6)] for r in range(model.rowCount())]
    shown = [f"{v:.6g}" for v in (written.loss[-1], written.loss.min(), written.loss.max())]
    assert table[1] == ["val_loss", *shown, "699", "1000"]
    assert model.index(1, 2).data(Qt.ItemDataRole.FontRole).bold()  # the min is the best
    assert model.index(0, 3).data(Qt.ItemDataRole.FontRole).bold()  # the max is the best

    for row in range(model.rowCount()):
        lines = model.index(row, TREND_COLUMN).data(SPARKLINE_ROLE)
        assert lines, model.rows[row].key
        assert 2 < sum(line.size() for line in lines) <= SPARKLINE_POINTS

    page.tabs.setCurrentIndex(METRICS)
    shot(page, "metrics-sparklines", qtbot)
    view = page.metrics.table
    point = view.visualRect(page.metrics.proxy.index(1, 0)).center()
    with qtbot.waitSignal(page.charts.drawn, timeout=TIMEOUT):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert page.chart_stack.currentWidget() is page.charts
    curves = page.charts.charts["val_loss"].export_curves()
    assert len(curves) == 1 and len(curves[0].y) == LOSS_POINTS  # full resolution
    np.testing.assert_allclose(curves[0].y, written.loss)

    with qtbot.waitSignal(page.charts.drawn, timeout=TIMEOUT):
        page.metrics.select_keys(["accuracy", "val_loss"])
    assert sorted(page.charts.charts) == ["accuracy", "val_loss"]
    shot(page, "metrics-charts", qtbot)


def test_five_hundred_sparklines_arrive_in_batches(qtbot, shell, store, written) -> None:  # noqa: ANN001
    """Each batch reaches the table in its own event-loop turn (the stall figures of the heavy
    run are measured in benchmarks/bench_run_page.py, not asserted here)."""
    page = create_page(shell, store, parse_address(f"run/{written.many_id}"))
    qtbot.addWidget(page)
    model = page.metrics.model
    batches: list[int] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles=(): batches.append(bottom.row() - top.row() + 1)
    )
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.start()
    assert model.rowCount() == MANY_METRICS
    assert all(model.index(r, TREND_COLUMN).data(SPARKLINE_ROLE) for r in range(MANY_METRICS))
    sparkline_batches = [size for size in batches if size <= SPARKLINE_BATCH]
    assert len(sparkline_batches) >= -(-MANY_METRICS // SPARKLINE_BATCH)


def test_cancel_stops_the_sparklines_after_the_batch_in_hand(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = create_page(shell, store, parse_address(f"run/{written.many_id}"))
    qtbot.addWidget(page)
    model = page.metrics.model
    model.dataChanged.connect(lambda *_args: page.cancel_loads() if page.busy else None)
    with qtbot.waitSignal(model.dataChanged, timeout=TIMEOUT):
        page.start()
    assert not page.busy
    qtbot.wait(300)  # nothing else arrives
    drawn = [model.index(r, TREND_COLUMN).data(SPARKLINE_ROLE) for r in range(MANY_METRICS)]
    assert sum(1 for lines in drawn if lines) == SPARKLINE_BATCH


# --- changes and edits ---------------------------------------------------------------------------


def test_the_page_refreshes_what_a_write_changed(qtbot, shell, small_db) -> None:  # noqa: ANN001
    path, run_id = small_db
    store = open_store(path)
    try:
        page = opened(qtbot, shell, store, f"run/{run_id}")
        shell.context.changed.connect(page.apply_change)  # as the window does for every page
        assert page.shows(Change("run", (run_id,), "rename"))
        assert not page.shows(Change("run", ("another",), "rename"))
        assert not page.shows(Change("experiment", (run_id,), "rename"))
        with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
            shell.writes.write(store, lambda w: w.set_run_tag(run_id, "stage", "new"), "Tagged.")
        assert page.tags.user_model.values == ["new"]
        with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
            shell.writes.write(store, lambda w: w.rename_run(run_id, "renamed"), "Renamed.")
        assert page.title() == "renamed" and page.overview.name.text() == "renamed"
        assert page.selection().items[0].name == "renamed"
        with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
            shell.writes.write(
                store, lambda w: w.set_run_description(run_id, "*new* text"), "Described."
            )
        assert page.overview.description.toPlainText() == "new text"
        with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
            shell.writes.write(store, lambda w: w.delete_runs([run_id]), "Deleted.")
        assert page.overview.status_label.text() == "FINISHED (deleted)"
        assert page.selection().items[0].deleted
        assert not page.overview.describe_button.isEnabled()
    finally:
        store.close()


def test_edit_buttons_write_through_the_window(qtbot, qt_warnings, small_db) -> None:  # noqa: ANN001
    from mlflow import MlflowClient

    path, run_id = small_db
    window = shown_window(qtbot)
    try:
        store = open_in_window(qtbot, window, path)
        with qtbot.waitSignal(window.page_loaded, timeout=TIMEOUT):
            page = window.open_page(store, f"run/{run_id}")
        assert isinstance(page, RunPage)
        overview = page.overview
        assert overview.describe_button.isEnabled(), overview.describe_button.toolTip()
        assert window.context.focus.ids == [run_id]  # F2, Ctrl+T and Ctrl+E act on this run
        assert window.commands.reason("item.rename") is None
        menu = [action.objectName() for action in overview.actions()]
        assert "item.rename" in menu and "run.copy_id" in menu and "run.compare" not in menu

        overview.describe_button.click()
        qtbot.waitUntil(lambda: isinstance(window.edits.active_dialog, DescriptionEditor))
        editor = window.edits.active_dialog
        editor.editor.setPlainText("## Notes\n\nWritten **here**.")
        with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
            editor.accept()
        client = MlflowClient(tracking_uri=f"sqlite:///{path}")
        tags = client.get_run(run_id).data.tags
        assert tags["mlflow.note.content"] == "## Notes\n\nWritten **here**."
        assert overview.description.toPlainText() == "Notes\nWritten here."

        overview.rename_button.click()
        qtbot.waitUntil(lambda: isinstance(window.edits.active_dialog, NameDialog))
        dialog = window.edits.active_dialog
        dialog.name_edit.setText("better name")
        with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
            dialog.accept()
        assert client.get_run(run_id).info.run_name == "better name"
        assert page.title() == "better name"
        assert window.host.tabs.tabText(window.host.tabs.currentIndex()) == "better name"

        page.tags.edit_button.click()
        qtbot.waitUntil(lambda: isinstance(window.edits.active_dialog, TagsEditor))
        tags_editor = window.edits.active_dialog
        tags_editor.table.item(0, 1).setText("shipped")
        with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
            tags_editor.accept()
        assert client.get_run(run_id).data.tags["stage"] == "shipped"
        assert page.tags.user_model.values == ["shipped"]
        assert window.context.focus.ids == [run_id]
    finally:
        close_window(window)


# --- artifacts ---------------------------------------------------------------------------------


def test_artifacts_tab_is_made_on_first_show_and_moves_the_address(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, f"run/{written.run_id}")
    assert page.artifacts is None
    with qtbot.waitSignal(page.address_changed) as moved:
        page.tabs.setCurrentIndex(ARTIFACTS)
    assert moved.args == [run_address(written.run_id, "")]
    assert page.artifacts is not None
    with qtbot.waitSignal(page.address_changed) as moved:
        page.tabs.setCurrentIndex(OVERVIEW)
    assert moved.args == [run_address(written.run_id)]

    deep = opened(qtbot, shell, store, f"run/{written.run_id}/artifacts/model/MLmodel")
    assert deep.tabs.currentIndex() == ARTIFACTS and deep.artifacts is not None
    # loaded waited for the host to answer for the path the address names; MLflow 3 keeps a
    # logged model's files with the logged model, not among the run's artifacts
    assert deep.artifacts.host.path == "model/MLmodel"
    assert "There is no artifact 'model/MLmodel'" in deep.artifacts.host.message_text()
    with qtbot.waitSignal(deep.address_changed) as moved:
        deep.artifacts.path_changed.emit("model")
    assert moved.args == [run_address(written.run_id, "model")]


# --- a file store, and screenshots -------------------------------------------------------------


def test_a_run_of_a_file_store(qtbot, shell, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    root = tmp_path / "mlruns"
    client = MlflowClient(tracking_uri=str(root))
    experiment_id = client.create_experiment("files")
    run_id = client.create_run(experiment_id, run_name="file-run").info.run_id
    client.log_param(run_id, "depth", "7")
    for step in range(30):
        client.log_metric(run_id, "train_error", 1.0 / (step + 1), step=step)
    client.create_run(experiment_id, run_name="file-child", tags={"mlflow.parentRunId": run_id})
    client.set_terminated(run_id)
    store = open_store(root)
    try:
        page = opened(qtbot, shell, store, f"run/{run_id}")
        assert page.title() == "file-run"
        row = page.metrics.model.rows[0]
        assert (row.key, row.best_step, row.count) == ("train_error", 29, 30)
        assert page.metrics.model.index(0, TREND_COLUMN).data(SPARKLINE_ROLE)
        assert link_texts(page.overview.fact("Child runs")) == ["file-child (RUNNING)"]
        assert page.overview.fact("Registered versions") is None
        assert page.params.model.keys == ["depth"]
    finally:
        store.close()


def test_screenshots_of_every_tab(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = opened(qtbot, shell, store, f"run/{written.run_id}")
    for index in range(page.tabs.count()):
        page.tabs.setCurrentIndex(index)
        name = page.tabs.tabText(index).split(" (")[0].lower()
        shot(page, name, qtbot)
    page.tabs.setCurrentIndex(3)
    page.tags.system_toggle.click()
    shot(page, "tags-system", qtbot)
