"""Long store reads stop between chunks once their task is cancelled, and report progress."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from tests.helpers.scenario_runs import EXP_MAIN, EXP_SIDE

from flowdeck.core.errors import Cancelled
from flowdeck.core.task_state import TaskState
from flowdeck.store import open_store

MANY_RUNS = 300
LONG_CALLS = ["runs", "metric_history", "metric_summaries", "search_traces"]


class RecordingState(TaskState):
    """A task token that keeps every progress report a store makes, shown to the user or not.

    With ``cancel_on_first_report`` its progress callback cancels the task, as a user pressing
    Cancel as soon as the progress bar first moves would.
    """

    def __init__(self, cancel_on_first_report: bool = False) -> None:
        super().__init__(self._shown)
        self.reports: list[tuple[int, int, str]] = []
        self._cancel_on_first_report = cancel_on_first_report

    def progress(self, done: int, total: int, text: str = "") -> None:
        self.reports.append((done, total, text))
        super().progress(done, total, text)

    def _shown(self, _done: int, _total: int, _text: str) -> None:
        if self._cancel_on_first_report:
            self.cancel()


def cancelled_state() -> RecordingState:
    state = RecordingState()
    state.cancel()
    return state


def _live_experiments(scenario) -> list[str]:
    return [scenario.experiment_ids[EXP_MAIN], scenario.experiment_ids[EXP_SIDE]]


def _call(store, scenario, call: str, state: TaskState | None):
    """One of the long reads, over the whole scenario."""
    experiments = _live_experiments(scenario)
    run_ids = sorted(scenario.run_id(name) for name in scenario.run_names())
    if call == "runs":
        return store.runs(
            experiments, "metrics.loss >= 0", ["metrics.loss DESC"], view="all", state=state
        )
    if call == "metric_history":
        keys = sorted({key for _, key in scenario.histories})
        return store.metric_history(run_ids, keys, state=state)
    if call == "metric_summaries":
        return store.metric_summaries(run_ids, state=state)
    trace_experiment = [scenario.experiment_ids[scenario.trace_experiment]]
    return store.search_traces(trace_experiment, order_by=["timestamp_ms DESC"], state=state)


def _assert_same_histories(ours: dict, theirs: dict) -> None:
    assert list(ours) == list(theirs)
    for pair, array in theirs.items():
        for field in array.dtype.names:
            np.testing.assert_array_equal(ours[pair][field], array[field], err_msg=str(pair))


# --- every backend of the contract suite ---------------------------------------------------


@pytest.mark.parametrize("call", LONG_CALLS)
def test_a_cancelled_task_reads_nothing(scenario_store, call):
    store, scenario = scenario_store
    state = cancelled_state()
    with pytest.raises(Cancelled):
        _call(store, scenario, call, state)
    assert state.reports == [], "a cancelled task must not read a first chunk"


@pytest.mark.parametrize("call", LONG_CALLS)
def test_a_task_left_running_gets_the_same_results(scenario_store, call):
    store, scenario = scenario_store
    state = RecordingState()
    ours = _call(store, scenario, call, state)
    theirs = _call(store, scenario, call, None)
    if call == "metric_history":
        _assert_same_histories(ours, theirs)
    elif call == "search_traces":
        assert ours == theirs
    else:
        pd.testing.assert_frame_equal(ours, theirs)
    if call != "search_traces":
        done, total, _text = state.reports[-1]
        assert done == total > 0, "the progress bar must end full"


def test_sql_runs_stop_after_the_first_query(scenario_store):
    store, scenario = scenario_store
    if store.kind != "sql":
        pytest.skip("this backend does not read runs table by table")
    state = RecordingState(cancel_on_first_report=True)
    with pytest.raises(Cancelled):
        store.runs(_live_experiments(scenario), state=state)
    assert len(state.reports) == 1
    done, total, _text = state.reports[0]
    assert done < total
    assert len(store.runs(_live_experiments(scenario))) == len(scenario.run_names())


def test_histories_stop_after_the_first_pair(scenario_store):
    store, scenario = scenario_store
    if store.kind == "sql":
        pytest.skip("a SQL store reads up to 100 runs' histories in one query")
    run_ids = sorted(scenario.run_id(name) for name in scenario.run_names())
    keys = sorted({key for _, key in scenario.histories})
    state = RecordingState(cancel_on_first_report=True)
    with pytest.raises(Cancelled):
        store.metric_history(run_ids, keys, state=state)
    assert len(state.reports) == 1
    done, total, _text = state.reports[0]
    assert done < total == len(run_ids) * len(keys)


# --- a store with a few hundred runs -------------------------------------------------------


@pytest.fixture(scope="module", params=["files", "sqlite"])
def many_runs(request: pytest.FixtureRequest, tmp_path_factory) -> tuple[str, str]:
    """(location, experiment id) of MANY_RUNS runs written by MlflowClient."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    folder = tmp_path_factory.mktemp(f"many-runs-{request.param}")
    if request.param == "files":
        location = str(folder / "mlruns")
        uri = (folder / "mlruns").as_uri()
    else:
        location = uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("many")
    for index in range(MANY_RUNS):
        run = client.create_run(experiment_id, start_time=1000 + index, run_name=f"run-{index}")
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("loss", 1.0 / (index + 1), 1000 + index, 0)],
            params=[Param("index", str(index))],
            tags=[RunTag("group", str(index % 3))],
        )
    return location, experiment_id


@pytest.fixture
def many_store(many_runs) -> Iterator[tuple[object, str]]:
    """A freshly opened store over ``many_runs`` (nothing cached yet)."""
    location, experiment_id = many_runs
    store = open_store(location)
    try:
        yield store, experiment_id
    finally:
        store.close()


def test_runs_stop_before_reading_every_run(many_store):
    store, experiment_id = many_store
    state = RecordingState(cancel_on_first_report=True)
    with pytest.raises(Cancelled):
        store.runs([experiment_id], state=state)
    assert len(state.reports) == 1, "nothing may be read after the cancel"
    done, total, _text = state.reports[0]
    assert 0 < done < total
    if store.kind == "files":
        assert total == MANY_RUNS
    assert len(store.runs([experiment_id])) == MANY_RUNS, "the store still reads after a cancel"


def test_runs_with_a_running_task_match_runs_without(many_store, many_runs):
    store, experiment_id = many_store
    state = RecordingState()
    ours = store.runs([experiment_id], "params.index != '7'", ["metrics.loss"], state=state)
    other = open_store(many_runs[0])  # its own cache: both reads go to disk
    try:
        theirs = other.runs([experiment_id], "params.index != '7'", ["metrics.loss"])
    finally:
        other.close()
    assert len(theirs) == MANY_RUNS - 1
    pd.testing.assert_frame_equal(ours, theirs)
    dones = [done for done, _total, _text in state.reports]
    assert dones == sorted(dones), "progress never goes back"
    assert state.reports[-1][0] == state.reports[-1][1]
