"""Comparison helpers for the contract suite: float equality with NaN/inf, MLflow's own reads."""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator

import numpy as np
import pandas as pd

# MLflow's SQL store writes +-inf as +-DBL_MAX; a reader may return either spelling.
SQL_INF = 1.7976931348623157e308


def canonical(value: float) -> float:
    """``value`` with MLflow's SQL stand-ins for infinity turned back into infinity."""
    value = float(value)
    if abs(value) == SQL_INF:
        return math.copysign(math.inf, value)
    return value


def same_float(actual: float, expected: float) -> bool:
    """Equality where NaN equals NaN and DBL_MAX equals inf."""
    actual, expected = canonical(actual), canonical(expected)
    if math.isnan(expected):
        return math.isnan(actual)
    return actual == expected or math.isclose(actual, expected, rel_tol=1e-12)


def canonical_array(values: np.ndarray) -> np.ndarray:
    """A float array with DBL_MAX stand-ins turned into infinity."""
    values = np.asarray(values, dtype=np.float64).copy()
    values[values == SQL_INF] = np.inf
    values[values == -SQL_INF] = -np.inf
    return values


def canonical_metric_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a runs frame with its ``metrics.*`` columns passed through ``canonical``."""
    frame = frame.copy()
    for column in frame.columns:
        if column.startswith("metrics.") and pd.api.types.is_float_dtype(frame[column]):
            frame[column] = canonical_array(frame[column].to_numpy())
    return frame


@contextlib.contextmanager
def mlflow_reading(tracking_uri: str) -> Iterator[None]:
    """MLflow's fluent API pointed at a store (file stores allowed) for the duration."""
    import mlflow

    saved = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)
        if saved is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = saved


def mlflow_search_runs(
    tracking_uri: str, experiment_ids: list[str], **kwargs: object
) -> pd.DataFrame:
    """``mlflow.search_runs`` on the store, with Flowdeck's view names accepted."""
    import mlflow
    from mlflow.entities import ViewType

    view = kwargs.pop("view", "active")
    view_type = {
        "active": ViewType.ACTIVE_ONLY,
        "deleted": ViewType.DELETED_ONLY,
        "all": ViewType.ALL,
    }[str(view)]
    with mlflow_reading(tracking_uri):
        return mlflow.search_runs(experiment_ids, run_view_type=view_type, **kwargs)  # type: ignore[arg-type]
