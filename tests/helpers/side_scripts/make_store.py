"""Run in another MLflow's venv: write a small SQLite store with that MLflow and describe it (JSON)."""

from __future__ import annotations

import json
import sqlite3
import sys
import warnings

import mlflow
from mlflow.tracking import MlflowClient


def main(path: str) -> None:
    """Create ``path`` with two runs (params, metric history, tags) and a registered model."""
    warnings.simplefilter("ignore")
    uri = f"sqlite:///{path}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment("made-by-new-mlflow", tags={"team": "vision"})
    runs = {}
    for index in range(2):
        run = client.create_run(experiment_id, run_name=f"run-{index}", tags={"seed": str(index)})
        run_id = run.info.run_id
        client.log_param(run_id, "lr", str(0.1 * (index + 1)))
        for step in range(3):
            client.log_metric(run_id, "loss", 1.0 / (step + 1 + index), step=step)
        client.set_terminated(run_id)
        runs[run_id] = {"name": f"run-{index}", "lr": str(0.1 * (index + 1))}
    first = next(iter(runs))
    client.create_registered_model("classifier", description="made by the new MLflow")
    client.create_model_version("classifier", f"runs:/{first}/model", run_id=first)
    client.set_registered_model_alias("classifier", "champion", "1")

    revision = sqlite3.connect(path).execute("SELECT version_num FROM alembic_version").fetchone()
    print(
        json.dumps(
            {
                "mlflow": mlflow.__version__,
                "revision": revision[0],
                "experiment_id": experiment_id,
                "runs": runs,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
