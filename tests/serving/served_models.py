"""A tiny sklearn classifier (and a PythonModel) logged and registered with real MLflow."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 0.5, 2.5], "b": [1.0, 0.0, 1.0, 3.0, 2.0, 0.0]})
LABELS = np.array([0, 0, 1, 1, 0, 1])


@dataclass(frozen=True)
class LoggedClassifier:
    """Where the classifier lives: the SQLite file, its run, logged model and registry name."""

    db_path: Path
    tracking_uri: str
    run_id: str
    model_id: str
    name: str = "clf"


def log_classifier(folder: Path) -> LoggedClassifier:
    """Log, register (v1, alias ``champion``) and return a LogisticRegression in SQLite."""
    import mlflow
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    db_path = folder / "mlflow.db"
    uri = f"sqlite:///{db_path}"
    mlflow.set_tracking_uri(uri)
    try:
        experiment_id = mlflow.create_experiment(
            "serving", artifact_location=(folder / "artifacts").as_uri()
        )
        model = LogisticRegression().fit(FEATURES, LABELS)
        with mlflow.start_run(experiment_id=experiment_id) as run:
            info = mlflow.sklearn.log_model(
                model, name="model", registered_model_name="clf", input_example=FEATURES[:2]
            )
        MlflowClient(uri).set_registered_model_alias("clf", "champion", "1")
    finally:
        mlflow.set_tracking_uri(None)
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    return LoggedClassifier(db_path, uri, run.info.run_id, info.model_id)


def save_python_model(folder: Path) -> Path:
    """A PythonModel saved to a folder (its MLmodel names a cloudpickled python_model)."""
    import mlflow

    class Doubler(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input * 2

    path = folder / "doubler"
    mlflow.pyfunc.save_model(path, python_model=Doubler())
    return path


def _live_processes() -> list[tuple[int, list[str]]]:
    """(pid, the stat fields after the name) of every live (non-zombie) process in /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z":
            found.append((int(entry.name), fields))
    return found


def group_pids(pgid: int) -> list[int]:
    """The live processes of a process group."""
    return [pid for pid, fields in _live_processes() if int(fields[2]) == pgid]


def child_pids(parent: int) -> list[int]:
    """The live direct children of a process."""
    return [pid for pid, fields in _live_processes() if int(fields[1]) == parent]
