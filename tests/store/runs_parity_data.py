"""A small tracking dataset written by real MLflow for the runs-frame parity tests."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import pandas as pd

NAN, INF = math.nan, math.inf


@dataclass
class WrittenStore:
    """What the writer made: experiment ids and run ids by run name."""

    tracking_uri: str
    experiment_ids: list[str]
    run_ids: dict[str, str] = field(default_factory=dict)


# name, experiment, start_time, status, deleted, params, metric points (key, value, ts, step),
# tags, datasets (name, context), parent
RUNS = [
    ("parent", "alpha", 1000, "FINISHED", False, {"lr": "0.1", "learning rate": "0.1", "optimizer": "adam"},
     [("loss", 0.9, 11, 0), ("loss", 0.5, 12, 5), ("loss", 0.7, 13, 2), ("acc", 0.8, 14, 0), ("val/loss", 0.6, 15, 0)],
     {"team": "core", "team name": "Core Team"}, [("train", "training")], None),
    ("child-1", "alpha", 2000, "FINISHED", False, {"lr": "0.01", "optimizer": "sgd"},
     [("loss", 1.0, 100, 3), ("loss", 2.0, 200, 3), ("acc", 0.5, 90, 0), ("acc", NAN, 95, 1)],
     {"team": "Core"}, [], "parent"),
    ("child-2", "alpha", 2000, "FAILED", False, {"lr": "0.01"},
     [("loss", 0.2, 10, 0), ("loss", INF, 20, 1), ("acc", -INF, 30, 0)],
     {"team": 'he said "hi"'}, [("test", "eval")], "parent"),
    ("naïve 'quoted' run", "alpha", 3000, "KILLED", False,
     {"lr": "1e-3", "learning rate": "ümlaut", "path/with slash": "a/b"},
     [("loss", 0.3, 5, 0), ("acc", 1.0, 5, 0), ("val/loss", NAN, 5, 0)],
     {"team name": "Ünïcödé", "note": "100%_done"}, [("train", "eval"), ("test", "testing")], None),
    ("running", "alpha", 4000, "RUNNING", False, {"lr": "0.5"}, [("loss", 0.1, 5, 0)], {}, [], None),
    ("scheduled", "alpha", 500, "SCHEDULED", False, {}, [], {"team": "core"}, [], None),
    ("deleted-1", "alpha", 3500, "FINISHED", True, {"lr": "0.2"}, [("loss", 0.25, 5, 0)],
     {"team": "core"}, [("train", "training")], None),
    ("deleted-2", "alpha", 3600, "FAILED", True, {}, [("acc", NAN, 5, 0)], {}, [], None),
    ("no-metrics", "alpha", 1500, "FINISHED", False, {"optimizer": "adam "}, [],
     {"mlflow.note.content": "line one\nline 'two'"}, [], None),
    ("beta-a", "beta", 2500, "FINISHED", False, {"lr": "0.1"}, [("loss", 0.4, 5, 0)], {},
     [("train", "training")], None),
    ("beta-b", "beta", 2500, "FINISHED", False, {}, [("loss", 0.4, 6, 0)], {"team": "core"}, [], None),
    ("beta-deleted", "beta", 100, "KILLED", True, {"lr": "9"}, [("loss", 9.0, 5, 0)], {}, [], None),
]  # fmt: skip

DATASET_FRAMES = {
    "train": pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]}),
    "test": pd.DataFrame({"x": [3.0], "y": [1]}),
}


def _log_datasets(tracking_uri: str, run_id: str, datasets: list[tuple[str, str]]) -> None:
    """Log dataset inputs with ``mlflow.log_input`` (the fluent API resumes the run)."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    try:
        with mlflow.start_run(run_id=run_id):
            for name, context in datasets:
                dataset = mlflow.data.from_pandas(DATASET_FRAMES[name], name=name)
                mlflow.log_input(dataset, context=context)
    finally:
        mlflow.set_tracking_uri(None)


def write_store(tracking_uri: str) -> WrittenStore:
    """Write the dataset into ``tracking_uri`` with MLflow's own client."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiments = {name: client.create_experiment(name) for name in ("alpha", "beta")}
    written = WrittenStore(tracking_uri, list(experiments.values()))
    for name, exp, start, status, deleted, params, points, tags, datasets, parent in RUNS:
        run_tags = dict(tags)
        if parent:
            run_tags["mlflow.parentRunId"] = written.run_ids[parent]
        run = client.create_run(experiments[exp], start_time=start, tags=run_tags, run_name=name)
        run_id = run.info.run_id
        written.run_ids[name] = run_id
        for key, value in params.items():
            client.log_param(run_id, key, value)
        for key, value, timestamp, step in points:
            client.log_metric(run_id, key, value, timestamp=timestamp, step=step)
        if datasets:
            _log_datasets(tracking_uri, run_id, datasets)
        if status == "RUNNING":
            client.update_run(run_id, status="RUNNING")
        elif status == "SCHEDULED":
            client.update_run(run_id, status="SCHEDULED")
        else:
            client.set_terminated(run_id, status, end_time=start + 777)
        if deleted:
            client.delete_run(run_id)
    return written
