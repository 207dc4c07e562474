"""SqlStore reads an MLflow 2.22 database (schema from the reference DDL, rows as 2.22 writes them)."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from flowdeck.store.base import CAP_LOGGED_MODELS
from flowdeck.store.sql import SqlStore

DDL = Path(__file__).resolve().parents[2] / "data" / "mlflow-2.22-sqlite-schema.sql"
RUN = "a" * 32
T0 = 1_600_000_000_000


@pytest.fixture(scope="module")
def old_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("old") / "mlflow-2.22.db"
    connection = sqlite3.connect(path)
    connection.executescript(DDL.read_text())
    rows = {
        "alembic_version": [("0584bdc529eb",)],
        "experiments": [
            (0, "Default", "/old/mlruns/0", "active", T0, T0),
            (1, "old-exp", "/old/mlruns/1", "active", T0, T0),
        ],
        "experiment_tags": [("mlflow.note.content", "legacy", 1)],
        "runs": [
            (
                RUN,
                "legacy-run",
                "UNKNOWN",
                "",
                "",
                "me",
                "FINISHED",
                T0,
                T0 + 5,
                "",
                "active",
                "/old/mlruns/1/" + RUN + "/artifacts",
                1,
                None,
            ),
        ],
        "params": [("alpha", "0.5", RUN)],
        "tags": [("mlflow.runName", "legacy-run", RUN)],
        "metrics": [
            ("loss", 0.0, T0 + 2, RUN, 1, 1),
            ("loss", 0.4, T0 + 1, RUN, 0, 0),
            ("loss", 0.1, T0 + 3, RUN, 2, 0),
        ],
        "latest_metrics": [("loss", 0.1, T0 + 3, 2, 0, RUN)],
        "datasets": [("d" * 32, 1, "train", "1234", "local", "{}", "{}", "{}")],
        "inputs": [("i" * 32, "DATASET", "d" * 32, "RUN", RUN)],
        "input_tags": [("i" * 32, "mlflow.data.context", "eval")],
    }
    columns = {
        "experiments": "experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
        "last_update_time",
        "runs": "run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
        "start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, "
        "deleted_time",
        "experiment_tags": "key, value, experiment_id",
        "params": "key, value, run_uuid",
        "tags": "key, value, run_uuid",
        "metrics": "key, value, timestamp, run_uuid, step, is_nan",
        "latest_metrics": "key, value, timestamp, step, is_nan, run_uuid",
        "datasets": "dataset_uuid, experiment_id, name, digest, dataset_source_type, "
        "dataset_source, dataset_schema, dataset_profile",
        "inputs": "input_uuid, source_type, source_id, destination_type, destination_id",
        "input_tags": "input_uuid, name, value",
        "alembic_version": "version_num",
    }
    for table, values in rows.items():
        marks = ", ".join("?" * len(values[0]))
        connection.executemany(f"INSERT INTO {table} ({columns[table]}) VALUES ({marks})", values)
    connection.commit()
    connection.close()
    return path


def test_old_schema_reads_every_method(old_store: Path) -> None:
    store = SqlStore(f"sqlite:///{old_store}")
    assert store.schema.revision == "0584bdc529eb"
    assert not store.schema.workspaces
    assert CAP_LOGGED_MODELS not in store.capabilities
    assert store.read_only_reason  # older than the installed MLflow: never edited
    experiments = store.experiments()
    assert list(experiments["name"]) == ["Default", "old-exp"]
    assert experiments.iloc[1]["tags"] == {"mlflow.note.content": "legacy"}
    history = store.metric_history([RUN], ["loss"])[(RUN, "loss")]
    assert list(history["step"]) == [0, 1, 2]
    assert math.isnan(history["value"][1])
    summary = store.metric_summaries([RUN]).iloc[0]
    assert (summary["last"], summary["min"], summary["max"], summary["count"]) == (0.1, 0.1, 0.4, 2)
    detail = store.run(RUN)
    assert detail.info.run_name == "legacy-run"
    assert detail.params == {"alpha": "0.5"}
    assert detail.inputs[0].context == "eval"
    assert detail.outputs == [] and detail.model_inputs == []
    assert store.logged_models(["1"]) == []
    frame = store.runs(["1"])
    assert list(frame["run_id"]) == [RUN]
    assert frame["metrics.loss"].iloc[0] == 0.1
