"""A run with 5,000 params and a 10,000-character name, written by MLflow: its page and table."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QStyleOptionViewItem
from tests.helpers.windows import close_window, shown_window
from tests.helpers.windows import open_store as open_in_window

from flowdeck.ui.pages.run.overview import NAME_SHOWN, CopyValue
from flowdeck.ui.runs.model import CELL_CHARS
from flowdeck.ui.runs.view import MEASURED_COLUMNS, QUICK_WIDTH

TIMEOUT = 60_000
N_PARAMS = 5_000
LONG_NAME = ("a very long run name " * 500)[:9_996] + " end"


@pytest.fixture(scope="module")
def edge_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """(database, experiment id, edge run id): the edge run beside two ordinary runs."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    folder = tmp_path_factory.mktemp("edges")
    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    experiment = client.create_experiment("edges", artifact_location=str(folder / "a"))
    for number in range(2):
        run_id = client.create_run(experiment, run_name=f"plain-{number}").info.run_id
        client.log_batch(run_id, params=[Param("param_0000", str(number))], synchronous=True)
    edge = client.create_run(experiment, run_name=LONG_NAME).info.run_id
    params = [Param(f"param_{k:04d}", f"value-{k}") for k in range(N_PARAMS)]
    for first in range(0, N_PARAMS, 100):
        client.log_batch(edge, params=params[first : first + 100], synchronous=True)
    metrics = [
        Metric("loss", 1.0 / (step + 1), 1_700_000_000_000 + step, step) for step in range(5)
    ]
    client.log_batch(edge, metrics=metrics, synchronous=True)
    client.set_terminated(edge)
    return folder / "mlflow.db", experiment, edge


@pytest.fixture
def window(qtbot):  # noqa: ANN001, ANN201
    window = shown_window(qtbot, (1200, 800))
    yield window
    close_window(window)


def open_loaded(qtbot, window, db: Path, address: str):  # noqa: ANN001, ANN201
    store = open_in_window(qtbot, window, db)
    page = window.open_page(store, address)
    qtbot.waitUntil(lambda: not page.loading, timeout=TIMEOUT)
    assert page.error is None
    return page


def test_the_run_page_shows_the_long_name_elided_and_copies_it_in_full(qtbot, window, edge_store):
    db, _experiment, run_id = edge_store
    page = open_loaded(qtbot, window, db, f"run/{run_id}")
    heading = page.overview.name
    assert len(heading.text()) == NAME_SHOWN and heading.text().endswith("…")
    assert LONG_NAME.startswith(heading.text()[:-1])
    assert "a very long run name" in heading.toolTip()
    fact = page.overview.fact("Name")
    assert isinstance(fact, CopyValue) and fact.label.text().endswith("…")
    fact.button.click()
    assert QGuiApplication.clipboard().text() == LONG_NAME
    assert page.params.model.rowCount() == N_PARAMS
    assert page.params.proxy.rowCount() == N_PARAMS


def test_the_runs_table_has_every_param_column_and_selects_its_runs(qtbot, window, edge_store):
    db, experiment, run_id = edge_store
    page = open_loaded(qtbot, window, db, f"experiment/{experiment}")
    pane, model = page.runs, page.runs.model
    param_ids = [spec.id for spec in model.column_specs() if spec.kind == "param"]
    assert len(param_ids) == N_PARAMS
    assert set(param_ids) <= set(model.visible_column_ids())  # all of them shown, as before
    name = model.index_of_run(run_id, model.visible_column_ids().index("name"))
    shown = model.data(name)
    assert len(shown) == CELL_CHARS and shown.endswith("…")  # the view elides this, not 10,000
    table = model.table()
    assert table.column("name").display[table.row_of(run_id)] == LONG_NAME  # CSV keeps it all

    pane.select_first(3)
    assert sorted(pane.selected_run_ids()) == sorted(table.run_ids)

    delegate, option = pane.view.row_delegate, QStyleOptionViewItem()
    pane.view.doItemsLayout()
    first = delegate.sizeHint(option, model.index(0, 0))
    far = delegate.sizeHint(option, model.index(0, model.columnCount() - 1))
    assert model.columnCount() - 1 >= MEASURED_COLUMNS
    assert far.height() == first.height() and far.width() == QUICK_WIDTH
    name_column = model.visible_column_ids().index("name")
    assert pane.view.sizeHintForColumn(name_column) > 10 * QUICK_WIDTH  # sized for real
