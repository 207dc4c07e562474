"""A mirror read by MLflow's own client equals its source, for every kind of source."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import ViewType

from flowdeck.store.mirror import read_state

DBL_MAX = 1.7976931348623157e308


def _client(uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=uri)


def _experiment_ids(client: MlflowClient) -> list[str]:
    return sorted(e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL))


def _runs_frame(uri: str, experiment_ids: list[str]) -> pd.DataFrame:
    import mlflow

    mlflow.set_tracking_uri(uri)
    try:
        frame = mlflow.search_runs(
            experiment_ids, run_view_type=ViewType.ALL, max_results=50_000, order_by=["run_id"]
        )
    finally:
        mlflow.set_tracking_uri(None)
    frame = frame.drop(columns=[c for c in frame.columns if c == "artifact_uri"])
    for column in [c for c in frame.columns if c.startswith("metrics.")]:
        frame[column] = frame[column].map(_as_sql_keeps_it)
    return frame.sort_values("run_id").reset_index(drop=True)[sorted(frame.columns)]


def test_experiments_equal_the_source(mirrored) -> None:
    scenario, destination, _ = mirrored
    source, mirror = _client(scenario.tracking_uri), _client(f"sqlite:///{destination}")
    assert _experiment_ids(mirror) == _experiment_ids(source)
    for experiment_id in _experiment_ids(source):
        a, b = source.get_experiment(experiment_id), mirror.get_experiment(experiment_id)
        assert (b.name, b.lifecycle_stage, b.tags, b.creation_time) == (
            a.name,
            a.lifecycle_stage,
            a.tags,
            a.creation_time,
        )


def test_search_runs_frames_equal_the_source(mirrored) -> None:
    scenario, destination, report = mirrored
    ids = _experiment_ids(_client(scenario.tracking_uri))
    expected = _runs_frame(scenario.tracking_uri, ids)
    found = _runs_frame(f"sqlite:///{destination}", ids)
    assert len(found) == len(expected) == report.runs_seen > 0
    pd.testing.assert_frame_equal(found, expected, check_dtype=False)


def test_histories_and_inputs_equal_the_source(mirrored) -> None:
    scenario, destination, report = mirrored
    source, mirror = _client(scenario.tracking_uri), _client(f"sqlite:///{destination}")
    checked = 0
    for (run_label, key), _points in scenario.histories.items():
        run_id = scenario.run_ids[run_label]
        expected = _points_of(source.get_metric_history(run_id, key))
        assert _points_of(mirror.get_metric_history(run_id, key)) == expected
        checked += 1
    assert checked > 0 and report.points > 0
    run_id = scenario.run_ids[scenario.dataset_run]
    a, b = source.get_run(run_id).inputs, mirror.get_run(run_id).inputs
    assert [d.dataset.to_dictionary() for d in b.dataset_inputs] == [
        d.dataset.to_dictionary() for d in a.dataset_inputs
    ]
    assert [sorted((t.key, t.value) for t in d.tags) for d in b.dataset_inputs] == [
        sorted((t.key, t.value) for t in d.tags) for d in a.dataset_inputs
    ]


def _points_of(metrics) -> list[tuple]:
    """Points as a SQL store can hold them: an exact repeat (a file store keeps it) is one row."""
    return sorted(
        {
            (m.step, m.timestamp, "nan" if math.isnan(m.value) else _as_sql_keeps_it(m.value))
            for m in metrics
        }
    )


def _as_sql_keeps_it(value: float) -> float:
    """MLflow's SQL stores keep +-inf as +-DBL_MAX (a file store keeps inf): compare as such."""
    return math.copysign(DBL_MAX, value) if math.isinf(value) else value


def test_the_mirror_records_its_origin(mirrored) -> None:
    scenario, destination, _ = mirrored
    state = read_state(Path(destination))
    assert state["complete"] == "1"
    assert int(state["last_sync"]) > 0
    assert state["origin"]


def test_flowdeck_opens_the_mirror_read_only_naming_its_origin(mirrored) -> None:
    from flowdeck.core.errors import ReadOnlyStore
    from flowdeck.store import open_store

    scenario, destination, _ = mirrored
    store = open_store(str(destination))
    try:
        assert store.mirror is not None and "offline mirror" in store.display_name
        reason = store.read_only_reason or ""
        assert "Offline mirror of" in reason and "last synced" in reason
        assert "edits belong at the source" in reason
        with pytest.raises(ReadOnlyStore):
            store.writer()
        source = open_store(scenario.location)
        try:
            ids = list(source.experiments(view="all")["experiment_id"])
            expected = source.runs(ids, view="all", order_by=["attributes.run_id"])
        finally:
            source.close()
        found = store.runs(ids, view="all", order_by=["attributes.run_id"])
        assert list(found["run_id"]) == list(expected["run_id"])
        assert sorted(found.columns) == sorted(expected.columns)
    finally:
        store.close()
