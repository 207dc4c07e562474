"""Write a small but varied mlruns/ folder with real MLflow (file store) for FileStore tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FileStoreData:
    """Ids of what ``write_file_store`` created."""

    root: Path
    alpha: str = ""
    beta: str = ""  # deleted experiment (in .trash)
    parent: str = ""
    child: str = ""
    deleted_run: str = ""
    failed_run: str = ""
    beta_run: str = ""
    logged_model: str = ""
    trace_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def mlflow_client(root: Path):
    """MlflowClient on the folder (tracking and registry), with the file store allowed."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow import MlflowClient

    uri = root.as_uri()
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def write_file_store(root: Path) -> FileStoreData:
    import mlflow
    from mlflow.entities import Metric, Param, RunTag

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    root.mkdir(parents=True, exist_ok=True)
    client = mlflow_client(root)
    data = FileStoreData(root=root)
    data.alpha = client.create_experiment("alpha", tags={"team": "vision", "a/b": "nested"})
    data.beta = client.create_experiment("beta")

    parent = client.create_run(data.alpha, run_name="parent", start_time=1_700_000_000_000)
    data.parent = parent.info.run_id
    metrics = [Metric("loss", 1.0 / (s + 1), 1_700_000_000_000 + s, s) for s in range(5)]
    metrics += [Metric("loss", 0.05, 1_700_000_000_100, 2)]  # repeated step, out of order
    metrics += [Metric("acc", float("nan"), 1_700_000_000_000, 0)]
    metrics += [Metric("gain", float("inf"), 1_700_000_000_000, 0)]
    metrics += [Metric("drop", float("-inf"), 1_700_000_000_000, 3)]
    metrics += [Metric("drop", 2.0, 1_700_000_000_000, 1)]
    client.log_batch(
        data.parent,
        metrics=metrics,
        params=[Param("lr", "0.1"), Param("opt/name", "adam"), Param("layers", "3")],
        tags=[RunTag("team", "vision"), RunTag("stage/kind", "dev")],
    )
    import pandas as pd

    mlflow.set_tracking_uri(root.as_uri())
    with mlflow.start_run(run_id=data.parent):
        dataset = mlflow.data.from_pandas(pd.DataFrame({"a": [1.0, 2.0]}), name="train-set")
        mlflow.log_input(dataset, context="training")
        mlflow.log_text("hello", "notes/a.txt")
        mlflow.log_text("root file", "readme.md")
    client.set_terminated(data.parent, "FINISHED", end_time=1_700_000_100_000)

    child = client.create_run(
        data.alpha,
        run_name="child",
        tags={"mlflow.parentRunId": data.parent},
        start_time=1_700_000_001_000,
    )
    data.child = child.info.run_id
    client.log_metric(data.child, "loss", 0.7, step=0, timestamp=1_700_000_001_000)
    client.log_param(data.child, "lr", "0.01")

    deleted = client.create_run(data.alpha, run_name="gone", start_time=1_700_000_002_000)
    data.deleted_run = deleted.info.run_id
    client.log_metric(data.deleted_run, "loss", 0.9)
    client.delete_run(data.deleted_run)

    failed = client.create_run(data.alpha, run_name="broken-training", start_time=1_700_000_003_000)
    data.failed_run = failed.info.run_id
    client.log_param(data.failed_run, "lr", "1.0")
    client.log_metric(data.failed_run, "loss", 3.0, step=1)
    client.set_terminated(data.failed_run, "FAILED", end_time=1_700_000_004_000)

    beta_run = client.create_run(data.beta, run_name="beta-run", start_time=1_700_000_005_000)
    data.beta_run = beta_run.info.run_id
    client.log_metric(data.beta_run, "score", 0.5)
    client.delete_experiment(data.beta)

    model = client.create_logged_model(
        data.alpha,
        name="clf-model",
        source_run_id=data.parent,
        params={"depth": "4"},
        tags={"owner": "me"},
        model_type="sklearn",
    )
    data.logged_model = model.model_id

    client.create_registered_model("clf", tags={"domain": "tabular"}, description="a classifier")
    for _ in range(3):
        client.create_model_version("clf", source=f"runs:/{data.parent}/model", run_id=data.parent)
    client.set_model_version_tag("clf", "2", "quality", "good")
    client.set_registered_model_alias("clf", "champion", "2")
    client.delete_model_version("clf", "1")
    client.create_registered_model("other")

    data.trace_id = _write_trace(root, data.alpha)
    return data


def _write_trace(root: Path, experiment_id: str) -> str | None:
    """One trace with two spans; None when this MLflow cannot log traces to a file store."""
    import mlflow

    mlflow.set_tracking_uri(root.as_uri())
    mlflow.set_experiment(experiment_id=experiment_id)

    @mlflow.trace(name="answer")
    def answer(question: str) -> str:
        with mlflow.start_span(name="lookup", span_type="RETRIEVER") as span:
            span.set_inputs({"q": question})
            span.set_outputs({"docs": 2})
        return "42"

    try:
        answer("why?")
        mlflow.flush_trace_async_logging()
    except Exception:  # noqa: BLE001 - an MLflow without file-store traces: tests skip
        return None
    trace_id = mlflow.get_last_active_trace_id()
    return trace_id
