"""An adversarial LIKE filter on long params leaves the window responsive and matches MLflow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from flowdeck.store import open_store
from flowdeck.store.base import Store
from flowdeck.ui.runs.pane import RunsPane
from flowdeck.ui.settings import Settings
from flowdeck.ui.tasks import TaskRunner

ADVERSARIAL = "params.long LIKE '%a%a%a%a%a%b'"  # a backtracking regex needs minutes per run
RUNS = 240
TIMEOUT = 60_000


@pytest.fixture(scope="module")
def long_params(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, list[str]]]:
    """RUNS runs with a 6,000-character param; every fourth one ends in ``b`` and matches."""
    from mlflow import MlflowClient
    from mlflow.entities import Param

    folder: Path = tmp_path_factory.mktemp("long-params")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("long params")
    for index in range(RUNS):
        run_id = client.create_run(experiment_id, run_name=f"run {index}").info.run_id
        value = "a" * 5999 + ("b" if index % 4 == 0 else "a")
        client.log_batch(run_id, params=[Param("long", value)])
    matching = [r.info.run_id for r in client.search_runs([experiment_id], ADVERSARIAL)]
    yield uri, experiment_id, matching


@pytest.fixture
def store(long_params: tuple[str, str, list[str]]) -> Iterator[Store]:
    opened = open_store(long_params[0])
    yield opened
    opened.close()


def test_adversarial_filter_keeps_the_window_ticking(
    qtbot, runner: TaskRunner, store: Store, long_params, qt_warnings
) -> None:
    _uri, experiment_id, mlflow_matching = long_params
    assert len(mlflow_matching) == RUNS // 4
    pane = RunsPane(runner, Settings())
    qtbot.addWidget(pane)
    pane.resize(900, 500)
    pane.show()
    with qtbot.waitSignal(pane.loaded, timeout=TIMEOUT):
        pane.set_source(store, [experiment_id])

    ticks: list[int] = []
    timer = QTimer(pane, interval=20)
    timer.timeout.connect(lambda: ticks.append(len(ticks)))
    ticks_when_loaded: list[int] = []
    pane.loaded.connect(lambda _rows: ticks_when_loaded.append(len(ticks)))
    timer.start()
    qtbot.waitUntil(lambda: len(ticks) >= 2, timeout=TIMEOUT)  # the timer runs before the load
    with qtbot.waitSignal(pane.loaded, timeout=TIMEOUT) as loaded:
        pane.filter_bar.set_filter_text(ADVERSARIAL, apply=True)
        started_at = len(ticks)
    timer.stop()

    assert loaded.args == [RUNS // 4]
    assert ticks_when_loaded[-1] > started_at  # the GUI thread kept handling events meanwhile
    shown = {pane.model.run_id(pane.model.index(row, 0)) for row in range(pane.model.rowCount())}
    assert shown == set(mlflow_matching)
