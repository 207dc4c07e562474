"""Long-form run tables that every backend produces and the core turns into a runs frame."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

RUN_COLUMNS = [
    "run_id",  # str
    "experiment_id",  # str
    "run_name",  # str ("" when absent)
    "status",  # str: RUNNING, SCHEDULED, FINISHED, FAILED, KILLED
    "user_id",  # str or None
    "artifact_uri",  # str or None
    "start_time",  # int64 ms, nullable (pandas Int64)
    "end_time",  # int64 ms, nullable (pandas Int64)
    "lifecycle_stage",  # "active" or "deleted"
]
LATEST_METRIC_COLUMNS = [
    "run_id",
    "key",
    "value",
    "step",
    "timestamp",
]  # value: float64, NaN/±inf kept
KEY_VALUE_COLUMNS = ["run_id", "key", "value"]  # params and tags
DATASET_COLUMNS = ["run_id", "name", "digest", "context"]


def empty_frame(columns: list[str]) -> pd.DataFrame:
    """An empty frame with the given columns (object dtype)."""
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


@dataclass
class RunTables:
    """Everything ``runs()`` needs, one row per run / per (run, key), for a set of experiments.

    ``runs`` holds only the lifecycle view asked for; the other tables may hold rows of runs
    outside it (they are joined on ``run_id``). ``metrics`` holds the *latest* value per (run,
    key) by MLflow's rule: highest step, then newest timestamp, then largest value.
    """

    runs: pd.DataFrame
    metrics: pd.DataFrame
    params: pd.DataFrame
    tags: pd.DataFrame
    datasets: pd.DataFrame = field(default_factory=lambda: empty_frame(DATASET_COLUMNS))
