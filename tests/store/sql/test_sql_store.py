"""SqlStore reads of a small SQLite store written by real MLflow: every read method."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sql_store_data import T0, WrittenStore

from flowdeck.core.errors import InvalidFilter, NotFound
from flowdeck.store import open_store
from flowdeck.store.base import (
    CAP_ARTIFACTS,
    CAP_LOGGED_MODELS,
    EXPERIMENT_COLUMNS,
    HISTORY_DTYPE,
    SUMMARY_COLUMNS,
)
from flowdeck.store.sql import SqlStore


@pytest.fixture
def store(sqlite_store: WrittenStore):
    opened = open_store(sqlite_store.uri)
    yield opened
    opened.close()


def test_open_store_gives_sql_store_with_identity(store, sqlite_store: WrittenStore) -> None:
    assert isinstance(store, SqlStore)
    assert store.kind == "sql"
    assert store.tracking_uri == sqlite_store.uri
    assert store.display_name == "mlflow.db"
    assert {CAP_ARTIFACTS, CAP_LOGGED_MODELS} <= store.capabilities


def test_schema_reports_tables_columns_and_revision(store) -> None:
    schema = store.schema
    assert schema.has_table("latest_metrics")
    assert schema.has_column("inputs", "step")
    assert not schema.has_column("runs", "no_such_column")
    assert schema.revision == "dc11669786a5"  # MLflow 3.17.2 head


def test_experiments_per_view(store, sqlite_store: WrittenStore) -> None:
    active = store.experiments()
    assert list(active.columns) == EXPERIMENT_COLUMNS
    assert list(active["experiment_id"]) == ["0", sqlite_store.experiment_id]
    alpha = active[active["name"] == "alpha"].iloc[0]
    assert alpha["tags"] == {"team": "vision", "mlflow.note.content": "About alpha"}
    assert alpha["artifact_location"].endswith("alpha")
    assert alpha["creation_time"] > 0
    deleted = store.experiments("deleted")
    assert list(deleted["name"]) == ["beta"]
    assert list(store.experiments("all")["experiment_id"]) == ["0", "1", "2"]
    assert store.experiment(sqlite_store.experiment_id).description == "About alpha"


def test_unknown_view_is_refused(store) -> None:
    with pytest.raises(InvalidFilter):
        store.experiments("archived")
    with pytest.raises(InvalidFilter):
        store.runs(["0"], view="archived")


def test_metric_history_keeps_nan_and_infinities_sorted_by_step(
    store, sqlite_store: WrittenStore
) -> None:
    run, other = sqlite_store.run_id, sqlite_store.other_run_id
    histories = store.metric_history([run, other], ["loss", "acc", "missing"])
    assert set(histories) == {(r, k) for r in (run, other) for k in ("loss", "acc", "missing")}
    loss = histories[(run, "loss")]
    assert loss.dtype == HISTORY_DTYPE
    assert list(loss["step"]) == [0, 1, 2, 3, 4, 5]
    assert list(loss["timestamp"]) == [T0 + 2, T0 + 1, T0 + 3, T0 + 4, T0 + 5, T0 + 6]
    assert math.isnan(loss["value"][2])
    assert list(np.delete(loss["value"], 2)) == [0.9, 0.5, 0.2, 0.2, 0.7]
    acc = histories[(run, "acc")]
    assert list(acc["value"]) == [np.inf, -np.inf, 0.5]
    assert list(acc["step"]) == [0, 1, 1]
    assert list(histories[(other, "loss")]["value"]) == [0.3]
    assert histories[(run, "missing")].size == 0
    assert histories[(other, "acc")].dtype == HISTORY_DTYPE


def test_metric_history_of_unknown_run_is_empty(store) -> None:
    histories = store.metric_history(["0" * 32], ["loss"])
    assert histories[("0" * 32, "loss")].size == 0
    assert store.metric_history([], ["loss"]) == {}


def test_metric_history_over_many_runs_and_keys_batches(store, sqlite_store: WrittenStore) -> None:
    fake_runs = [f"{index:032x}" for index in range(250)] + [sqlite_store.run_id]
    keys = [f"k{index}" for index in range(120)] + ["loss"]
    histories = store.metric_history(fake_runs, keys)
    assert len(histories) == len(fake_runs) * len(keys)
    assert len(histories[(sqlite_store.run_id, "loss")]) == 6
    assert sum(len(history) for history in histories.values()) == 6


def test_metric_summaries(store, sqlite_store: WrittenStore) -> None:
    run, other = sqlite_store.run_id, sqlite_store.other_run_id
    frame = store.metric_summaries([run, other])
    assert list(frame.columns) == SUMMARY_COLUMNS
    rows = {(row.run_id, row.key): row for row in frame.itertuples(index=False)}
    assert set(rows) == {(run, "loss"), (run, "acc"), (run, "only_nan"), (other, "loss")}
    loss = rows[(run, "loss")]
    assert (loss.last, loss.min, loss.max, loss.count) == (0.7, 0.2, 0.9, 5)
    assert (loss.min_step, loss.max_step) == (3, 0)  # 0.2 at steps 3 and 4: lowest step wins
    acc = rows[(run, "acc")]
    assert (acc.min, acc.max, acc.min_step, acc.max_step) == (-np.inf, np.inf, 1, 0)
    only_nan = rows[(run, "only_nan")]
    assert math.isnan(only_nan.last) and math.isnan(only_nan.min) and only_nan.count == 0


def test_metric_summaries_for_chosen_keys(store, sqlite_store: WrittenStore) -> None:
    frame = store.metric_summaries([sqlite_store.run_id], ["acc"])
    assert list(frame["key"]) == ["acc"]
    assert frame["last"].iloc[0] == 0.5
    assert store.metric_summaries([sqlite_store.run_id], []).empty


def test_run_detail(store, sqlite_store: WrittenStore) -> None:
    detail = store.run(sqlite_store.run_id)
    assert detail.info.run_name == "first"
    assert detail.info.status == "FINISHED"
    assert detail.info.experiment_id == sqlite_store.experiment_id
    assert detail.info.artifact_uri.endswith(f"{sqlite_store.run_id}/artifacts")
    assert detail.params == {"lr": "0.01", "layers": "3"}
    assert detail.tags["stage"] == "dev"
    assert detail.metrics["loss"].value == 0.7 and detail.metrics["loss"].step == 5
    assert math.isnan(detail.metrics["only_nan"].value)
    assert [dataset.name for dataset in detail.inputs] == ["train"]
    assert detail.inputs[0].context == "training"
    assert detail.inputs[0].source_type == "local"
    assert [(output.model_id, output.step) for output in detail.outputs] == [
        (sqlite_store.model_id, 7)
    ]
    assert len(detail.model_inputs) == 1 and detail.model_inputs[0].startswith("m-")


def test_deleted_run_detail_and_unknown_run(store, sqlite_store: WrittenStore) -> None:
    assert store.run(sqlite_store.deleted_run_id).info.lifecycle_stage == "deleted"
    with pytest.raises(NotFound):
        store.run("f" * 32)


def test_logged_models(store, sqlite_store: WrittenStore) -> None:
    models = {model.name: model for model in store.logged_models([sqlite_store.experiment_id])}
    assert set(models) == {"net", "upstream"}
    net = models["net"]
    assert net.model_id == sqlite_store.model_id
    assert net.status == "READY"
    assert models["upstream"].status == "PENDING"
    assert net.params == {"depth": "4"}
    assert net.tags == {"k": "v"}
    assert net.source_run_id == sqlite_store.run_id
    assert store.logged_models(["0"]) == []


def test_runs_match_mlflow_search_runs(store, sqlite_store: WrittenStore) -> None:
    frame = store.runs([sqlite_store.experiment_id], order_by=["attributes.run_name ASC"])
    assert list(frame["tags.mlflow.runName"]) == ["first", "second"]
    assert frame.loc[frame["run_id"] == sqlite_store.run_id, "metrics.loss"].iloc[0] == 0.7
    deleted = store.runs([sqlite_store.experiment_id], view="deleted")
    assert list(deleted["run_id"]) == [sqlite_store.deleted_run_id]
    filtered = store.runs([sqlite_store.experiment_id], filter_string="params.lr = '0.01'")
    assert list(filtered["run_id"]) == [sqlite_store.run_id]


def test_artifacts_listed_and_fetched_in_place(store, sqlite_store: WrittenStore) -> None:
    entries = store.list_artifacts(sqlite_store.run_id)
    assert [(entry.path, entry.is_dir) for entry in entries] == [
        ("data", True),
        ("notes.txt", False),
    ]
    assert entries[1].file_size == 5
    inner = store.list_artifacts(sqlite_store.run_id, "data")
    assert [entry.path for entry in inner] == ["data/inner", "data/table.csv"]
    path = store.fetch_artifact(sqlite_store.run_id, "data/table.csv")
    assert path.read_text() == "a,b\n1,2\n"
    assert sqlite_store.artifact_root in path.parents  # in place, not copied
    with pytest.raises(NotFound):
        store.fetch_artifact(sqlite_store.run_id, "../../../etc/passwd")
    with pytest.raises(NotFound):
        store.list_artifacts("f" * 32)


def test_single_pair_history_keeps_nan(store, sqlite_store: WrittenStore) -> None:
    loss = store.metric_history([sqlite_store.run_id], ["loss"])[(sqlite_store.run_id, "loss")]
    assert list(loss["step"]) == [0, 1, 2, 3, 4, 5]
    assert math.isnan(loss["value"][2]) and loss["value"][5] == 0.7
    acc = store.metric_history([sqlite_store.run_id], ["acc"])[(sqlite_store.run_id, "acc")]
    assert list(acc["value"]) == [np.inf, -np.inf, 0.5]
