"""RunsTreeModel over a small SQLite store written by MLflow: modes, sorting, selection, looks."""

from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd
import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QTreeView

from flowdeck.core.runs_table import RunsTable
from flowdeck.store import open_store
from flowdeck.ui.runs.model import RunsTreeModel

HTML_NAME = "<b>bold</b> & <script>x</script>"


@pytest.fixture(scope="module")
def store_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs frame, metric summaries) of a store with nested runs, a NaN metric, HTML names."""
    from mlflow.tracking import MlflowClient

    folder = tmp_path_factory.mktemp("runs-model")
    db = folder / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiment = client.create_experiment("models", artifact_location=(folder / "a").as_uri())

    def run(name: str, parent: str | None = None, **params: str) -> str:
        tags = {"mlflow.parentRunId": parent} if parent else {}
        run_id = client.create_run(experiment, run_name=name, tags=tags).info.run_id
        for key, value in params.items():
            client.log_param(run_id, key, value)
        return run_id

    parent = run("parent", opt="adam", lr="0.1")
    child = run("child", parent, opt="adam", lr="0.01")
    grandchild = run("grandchild", child, opt="sgd")  # no lr
    html_run = run(HTML_NAME, opt="sgd", lr="0.001")
    nan_run = run("nan-run", lr="1")  # no opt
    for step, value in enumerate([0.9, 0.5, 0.7]):
        client.log_metric(parent, "loss", value, step=step)
    client.log_metric(child, "loss", 0.25)
    client.log_metric(grandchild, "loss", 0.125)
    client.log_metric(html_run, "loss", 2.0)
    client.log_metric(nan_run, "loss", math.nan)
    for run_id in (parent, child, grandchild, html_run):
        client.set_terminated(run_id)
    client.set_terminated(nan_run, status="FAILED")
    client._tracking_client.store.engine.dispose()

    store = open_store(str(db))
    frame = store.runs([experiment])
    summaries = store.metric_summaries(frame["run_id"].tolist())
    return frame, summaries


@pytest.fixture
def table(qapp, store_data: tuple[pd.DataFrame, pd.DataFrame]) -> RunsTable:
    frame, summaries = store_data
    return RunsTable.build(frame, summaries)


def _names(model: RunsTreeModel, parent: QModelIndex | None = None) -> list[str]:
    parent = parent or QModelIndex()
    name = model.visible_column_ids().index("name")
    return [model.index(r, name, parent).data() for r in range(model.rowCount(parent))]


def _cell(model: RunsTreeModel, run_name: str, column_id: str, role=Qt.ItemDataRole.DisplayRole):
    row = model.table().column("name").display.index(run_name)
    index = model.index_of_run(
        model.table().run_ids[row], model.visible_column_ids().index(column_id)
    )
    return index.data(role)


def test_every_mode_passes_the_model_tester(qtmodeltester, table: RunsTable) -> None:
    model = RunsTreeModel(table)
    qtmodeltester.check(model)
    model.set_mode("tree")
    qtmodeltester.check(model)
    model.sort(model.visible_column_ids().index("metrics.loss"), Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)
    model.set_mode("grouped", "params.opt", "loss")
    qtmodeltester.check(model)
    model.set_name_filter("child")
    qtmodeltester.check(model)
    model.set_visible_columns(["name", "metrics.loss", "params.opt"])
    qtmodeltester.check(model)
    model.set_table(table)
    qtmodeltester.check(model)
    model.set_table(RunsTable.build(pd.DataFrame({"run_id": pd.Series([], dtype=str)})))
    qtmodeltester.check(model)


def test_cells_are_the_stores_values_as_plain_text(table: RunsTable) -> None:
    model = RunsTreeModel(table)
    assert sorted(_names(model)) == sorted(["parent", "child", "grandchild", HTML_NAME, "nan-run"])
    assert _cell(model, HTML_NAME, "name") == HTML_NAME
    tooltip = _cell(model, HTML_NAME, "name", Qt.ItemDataRole.ToolTipRole)
    assert html.escape(HTML_NAME) in tooltip and "<script>" not in tooltip
    assert _cell(model, "nan-run", "metrics.loss") == "NaN"
    assert _cell(model, "grandchild", "metrics.loss") == "0.125"
    assert _cell(model, "grandchild", "params.lr") == ""
    assert _cell(model, "parent", "params.lr") == "0.1"
    assert "metrics.loss#min" not in model.visible_column_ids()
    alignment = _cell(model, "parent", "metrics.loss", Qt.ItemDataRole.TextAlignmentRole)
    assert alignment & Qt.AlignmentFlag.AlignRight
    swatch = _cell(model, "parent", "swatch", Qt.ItemDataRole.DecorationRole)
    assert isinstance(swatch, QColor) and swatch.isValid()
    assert isinstance(_cell(model, "parent", "status", Qt.ItemDataRole.DecorationRole), QIcon)
    assert _cell(model, "nan-run", "status") == "FAILED"
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert titles[:3] == ["", "Name", "Status"] and "loss" in titles and "lr" in titles


def test_nested_runs_form_a_tree_of_depth_three(table: RunsTable) -> None:
    model = RunsTreeModel(table)
    model.set_mode("tree")
    assert sorted(_names(model)) == sorted(["parent", HTML_NAME, "nan-run"])
    parent = model.index(_names(model).index("parent"), 0)
    assert _names(model, parent) == ["child"]
    child = model.index(0, 0, parent)
    assert _names(model, child) == ["grandchild"]
    grandchild = model.index(0, 0, child)
    assert model.parent(grandchild) == child
    assert model.parent(child) == parent
    assert (
        model.run_id(grandchild) == table.run_ids[table.column("name").display.index("grandchild")]
    )


def test_sorting_keeps_missing_values_last_both_ways(table: RunsTable) -> None:
    model = RunsTreeModel(table)
    lr = model.visible_column_ids().index("params.lr")
    model.sort(lr, Qt.SortOrder.AscendingOrder)
    assert _names(model) == [HTML_NAME, "child", "parent", "nan-run", "grandchild"]
    model.sort(lr, Qt.SortOrder.DescendingOrder)
    assert _names(model) == ["nan-run", "parent", "child", HTML_NAME, "grandchild"]
    loss = model.visible_column_ids().index("metrics.loss")
    model.sort(loss, Qt.SortOrder.DescendingOrder)
    assert _names(model)[-1] == "nan-run"  # NaN stays after the numbers
    model.sort(-1)
    assert model.sort_column_id() is None


def test_grouped_mode_shows_count_and_metric_mean(table: RunsTable) -> None:
    model = RunsTreeModel(table)
    model.set_mode("grouped", "params.opt", "loss")
    assert _names(model) == ["adam (2)", "sgd (2)", "(none) (1)"]
    adam = model.index(0, 0)
    assert model.data(adam, RunsTreeModel.IsGroupRole) is True
    assert model.run_id(adam) is None
    assert sorted(_names(model, adam)) == ["child", "parent"]
    loss = model.visible_column_ids().index("metrics.loss")
    assert model.index(0, loss).data() == "0.475"  # mean of 0.7 (latest) and 0.25
    assert "min 0.25" in model.index(0, loss).data(Qt.ItemDataRole.ToolTipRole)
    with pytest.raises(ValueError):
        model.set_mode("grouped", "params.nope")


def test_filters_hide_rows_but_keep_ancestors_in_tree_mode(table: RunsTable) -> None:
    model = RunsTreeModel(table)
    model.set_status_filter({"FAILED"})
    assert _names(model) == ["nan-run"]
    model.set_status_filter(None)
    model.set_mode("tree")
    model.set_name_filter("GRAND")
    assert _names(model) == ["parent"]
    model.set_name_filter("")
    assert len(_names(model)) == 3


def test_selection_follows_run_ids_through_sort_columns_and_a_new_table(
    qtbot, table: RunsTable, store_data
) -> None:
    model = RunsTreeModel(table)
    view = QTreeView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setSortingEnabled(True)
    selection = view.selectionModel()
    target = model.table().run_ids[model.table().column("name").display.index("child")]
    selection.select(
        model.index_of_run(target),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    view.sortByColumn(model.visible_column_ids().index("name"), Qt.SortOrder.AscendingOrder)
    assert model.run_ids(selection.selectedRows()) == [target]

    model.set_visible_columns(["name", "metrics.loss"])
    assert view.header().count() == 2
    assert model.run_ids(selection.selectedRows()) == [target]

    frame, summaries = store_data
    reordered = RunsTable.build(frame.iloc[::-1], summaries)
    model.set_table(reordered)
    assert model.run_ids(selection.selectedRows()) == [target]
    assert model.visible_column_ids() == ["name", "metrics.loss"]

    without = RunsTable.build(frame[frame["run_id"] != target], summaries)
    model.set_table(without)
    assert selection.selectedRows() == []


def test_expanded_parents_stay_expanded_when_sorted(qtbot, table: RunsTable) -> None:
    model = RunsTreeModel(table)
    model.set_mode("tree")
    view = QTreeView()
    qtbot.addWidget(view)
    view.setModel(model)
    parent_id = table.run_ids[table.column("name").display.index("parent")]
    view.expand(model.index_of_run(parent_id))
    model.sort(model.visible_column_ids().index("name"), Qt.SortOrder.DescendingOrder)
    assert view.isExpanded(model.index_of_run(parent_id))


def test_export_csv_writes_the_visible_columns_in_view_order(
    table: RunsTable, tmp_path: Path
) -> None:
    model = RunsTreeModel(table)
    model.set_visible_columns(["swatch", "name", "params.lr", "metrics.loss"])
    model.sort(model.visible_column_ids().index("metrics.loss"), Qt.SortOrder.AscendingOrder)
    path = tmp_path / "runs.csv"
    model.export_csv(path)
    back = pd.read_csv(path, dtype={"params.lr": str})
    assert list(back.columns) == ["name", "params.lr", "metrics.loss"]
    assert back["name"].tolist() == ["grandchild", "child", "parent", HTML_NAME, "nan-run"]
    assert back["metrics.loss"].tolist()[:4] == [0.125, 0.25, 0.7, 2.0]


def test_render_the_tree_view(qtbot, table: RunsTable, tmp_path: Path) -> None:
    model = RunsTreeModel(table)
    model.set_mode("tree")
    view = QTreeView()
    qtbot.addWidget(view)
    view.setUniformRowHeights(True)
    view.setModel(model)
    view.setTreePosition(model.visible_column_ids().index("name"))
    view.header().resizeSection(0, 24)
    view.expandAll()
    view.resize(1100, 260)
    for column in range(1, model.columnCount()):
        view.resizeColumnToContents(column)
    view.show()
    qtbot.waitExposed(view)
    path = tmp_path / "runs_tree.png"
    assert view.grab().save(str(path))
    assert path.stat().st_size > 1000
    model.set_mode("grouped", "params.opt", "loss")
    view.expandAll()
    assert view.grab().save(str(tmp_path / "runs_grouped.png"))
