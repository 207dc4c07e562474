"""A small MLflow store for the comparison-chart tests: numbers, text, zeros and gaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HTML_NAME = "<b>bold</b> & <i>run</i>"
T0 = 1_700_000_000_000

# name -> (params, metrics); a key left out is a value the run never logged
RUNS: dict[str, tuple[dict[str, str], dict[str, float]]] = {
    "alpha": (
        {"lr": "0.1", "optimizer": "adam", "layers": "2", "dropout": "0.1", "batch": "32"},
        {"loss": 0.9, "accuracy": 0.5, "score": 3.0, "tokens": 100.0},
    ),
    "beta": (
        {"lr": "0.01", "optimizer": "sgd", "layers": "4", "dropout": "0.2", "batch": "64"},
        {"loss": 0.5, "accuracy": 0.7, "score": 0.0, "tokens": 120.0},
    ),
    HTML_NAME: (
        {"lr": "0.001", "optimizer": "adam", "layers": "8", "dropout": "0.3", "batch": "32"},
        {"loss": 0.3, "score": -1.0, "tokens": 90.0},
    ),
    "delta": (
        {"lr": "0.1", "optimizer": "rmsprop", "dropout": "0.1", "batch": "128"},
        {"loss": 0.7, "accuracy": 0.6, "score": 10.0, "tokens": 80.0},
    ),
    "epsilon": (
        {"lr": "0.0001", "optimizer": "sgd", "layers": "2", "dropout": "0.5", "batch": "64"},
        {"loss": 0.2, "accuracy": 0.9, "score": 0.5, "tokens": 140.0},
    ),
    "zeta": (
        {"lr": "0.01", "optimizer": "adam", "layers": "4", "dropout": "0.2", "batch": "16"},
        {"accuracy": 0.8, "score": 2.0, "tokens": 110.0},
    ),
    "eta": (
        {"lr": "0.001", "optimizer": "sgd", "layers": "6", "dropout": "0.4", "batch": "32"},
        {"loss": 1.2, "accuracy": 0.0, "score": 7.0, "tokens": 95.0},
    ),
    "theta": (
        {"lr": "0.1", "optimizer": "adam", "layers": "8", "dropout": "0.1", "batch": "16"},
        {"loss": 0.45, "accuracy": 0.75, "score": 1.0, "tokens": 130.0},
    ),
}
CONSTANT_PARAM = ("seed", "42")  # logged by every run: never a default axis


def write_comparison_frame(folder: Path) -> pd.DataFrame:
    """Log RUNS with MLflow's client into ``folder``/mlflow.db; the store's runs frame."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    from flowdeck.store import open_store

    db = folder / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiment = client.create_experiment("compare", artifact_location=(folder / "a").as_uri())
    for n, (name, (params, metrics)) in enumerate(RUNS.items()):
        run_id = client.create_run(experiment, run_name=name, start_time=T0 + n * 1000).info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, T0 + n * 1000, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()] + [Param(*CONSTANT_PARAM)],
        )
        client.set_terminated(run_id, end_time=T0 + n * 1000 + 60_000 * (n + 1))
    client._tracking_client.store.engine.dispose()
    return open_store(str(db)).runs([experiment])


def value_of(frame: pd.DataFrame, run_id: str, column: str) -> float:
    """A run's value of a metric or numeric param column as float (NaN when missing)."""
    value = frame.loc[frame["run_id"] == run_id, column].iloc[0]
    return float("nan") if value is None or pd.isna(value) else float(value)


def run_id_named(frame: pd.DataFrame, name: str) -> str:
    return str(frame.loc[frame["tags.mlflow.runName"] == name, "run_id"].iloc[0])


def between(values: list[float], low_rank: int, high_rank: int) -> tuple[float, float]:
    """Thresholds halfway between sorted distinct values: just above rank ``low_rank - 1``
    and just below rank ``high_rank + 1``, so pixel rounding cannot flip a run."""
    ordered = np.unique([v for v in values if not np.isnan(v)])
    return (
        float((ordered[low_rank - 1] + ordered[low_rank]) / 2),
        float((ordered[high_rank] + ordered[high_rank + 1]) / 2),
    )


def shown_chart(qtbot, widget, size: tuple[int, int], table):  # noqa: ANN001, ANN201
    """``widget`` (a comparison chart) shown at ``size`` with every row of ``table``."""
    import numpy as np

    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_data(table, np.arange(table.n_rows))
    return widget
