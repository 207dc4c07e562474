"""Writes small MLflow tracking stores with real MLflow for the SQL backend tests."""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

T0 = 1_700_000_000_000


@dataclass(frozen=True)
class WrittenStore:
    """A store MLflow wrote, and the ids the tests look for."""

    uri: str
    experiment_id: str
    deleted_experiment_id: str
    run_id: str
    other_run_id: str
    deleted_run_id: str
    model_id: str
    artifact_root: Path


def write_store(uri: str, artifact_root: Path) -> WrittenStore:
    """Write experiments, runs, metrics (NaN, ±inf), datasets, logged models and artifacts."""
    import mlflow.data
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities import DatasetInput, InputTag, LoggedModelInput, LoggedModelOutput, Metric

    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment(
        "alpha", artifact_location=str(artifact_root / "alpha"), tags={"team": "vision"}
    )
    client.set_experiment_tag(experiment_id, "mlflow.note.content", "About alpha")
    deleted_experiment_id = client.create_experiment(
        "beta", artifact_location=str(artifact_root / "beta")
    )
    client.delete_experiment(deleted_experiment_id)

    run = client.create_run(experiment_id, run_name="first", tags={"stage": "dev"})
    run_id = run.info.run_id
    client.log_batch(
        run_id,
        metrics=[
            Metric("loss", 0.9, T0 + 2, 0),
            Metric("loss", 0.5, T0 + 1, 1),
            Metric("loss", float("nan"), T0 + 3, 2),
            Metric("loss", 0.2, T0 + 4, 3),
            Metric("loss", 0.2, T0 + 5, 4),
            Metric("loss", 0.7, T0 + 6, 5),
            Metric("acc", float("inf"), T0, 0),
            Metric("acc", float("-inf"), T0 + 1, 1),
            Metric("acc", 0.5, T0 + 2, 1),
            Metric("only_nan", float("nan"), T0, 0),
        ],
        params=[],
        synchronous=True,
    )
    client.log_param(run_id, "lr", "0.01")
    client.log_param(run_id, "layers", "3")
    with warnings.catch_warnings():  # MLflow hints about ambiguous sources and int columns
        warnings.simplefilter("ignore")
        frame = pd.DataFrame({"x": [1.0, 2.0]})
        source = mlflow.data.from_pandas(frame, source="data.csv", name="train")
    dataset = source._to_mlflow_entity()
    model = client.create_logged_model(
        experiment_id, name="net", source_run_id=run_id, params={"depth": "4"}, tags={"k": "v"}
    )
    client.finalize_logged_model(model.model_id, "READY")
    upstream = client.create_logged_model(experiment_id, name="upstream")
    client.log_inputs(
        run_id,
        datasets=[DatasetInput(dataset, tags=[InputTag("mlflow.data.context", "training")])],
        models=[LoggedModelInput(upstream.model_id)],
    )
    client.log_outputs(run_id, [LoggedModelOutput(model.model_id, step=7)])
    client.log_text(run_id, "hello", "notes.txt")
    client.log_text(run_id, "a,b\n1,2\n", "data/table.csv")
    client.log_text(run_id, "deep", "data/inner/deep.txt")
    client.set_terminated(run_id)

    other = client.create_run(experiment_id, run_name="second")
    client.log_metric(other.info.run_id, "loss", 0.3, timestamp=T0, step=0)
    deleted = client.create_run(experiment_id, run_name="gone")
    client.delete_run(deleted.info.run_id)
    return WrittenStore(
        uri=uri,
        experiment_id=str(experiment_id),
        deleted_experiment_id=str(deleted_experiment_id),
        run_id=run_id,
        other_run_id=other.info.run_id,
        deleted_run_id=deleted.info.run_id,
        model_id=model.model_id,
        artifact_root=artifact_root,
    )


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_nan(value: float) -> bool:
    return isinstance(value, float) and math.isnan(value)
