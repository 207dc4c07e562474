"""An MLflow 2.22 SQLite store (the reference DDL plus rows as 2.22 writes them) for upgrade tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

DDL = Path(__file__).resolve().parents[1] / "data" / "mlflow-2.22-sqlite-schema.sql"
REVISION_222 = "0584bdc529eb"
RUN = "a" * 32
OTHER_RUN = "b" * 32
T0 = 1_600_000_000_000


def _run(run_id: str, name: str) -> tuple[object, ...]:
    return (
        run_id, name, "UNKNOWN", "", "", "me", "FINISHED", T0, T0 + 5, "", "active",
        f"/old/mlruns/1/{run_id}/artifacts", 1, None,
    )  # fmt: skip


ROWS: dict[str, tuple[str, list[tuple[object, ...]]]] = {
    "alembic_version": ("version_num", [(REVISION_222,)]),
    "experiments": (
        "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time",
        [(0, "Default", "/old/mlruns/0", "active", T0, T0), (1, "old-exp", "/old/mlruns/1", "active", T0, T0)],
    ),
    "experiment_tags": ("key, value, experiment_id", [("mlflow.note.content", "legacy", 1)]),
    "runs": (
        "run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, "
        "end_time, source_version, lifecycle_stage, artifact_uri, experiment_id, deleted_time",
        [_run(RUN, "legacy-run"), _run(OTHER_RUN, "second-run")],
    ),
    "params": ("key, value, run_uuid", [("alpha", "0.5", RUN), ("alpha", "0.7", OTHER_RUN)]),
    "tags": ("key, value, run_uuid", [("mlflow.runName", "legacy-run", RUN), ("mlflow.runName", "second-run", OTHER_RUN)]),
    "metrics": (
        "key, value, timestamp, run_uuid, step, is_nan",
        [("loss", 0.4, T0 + 1, RUN, 0, 0), ("loss", 0.1, T0 + 3, RUN, 2, 0), ("loss", 0.3, T0 + 1, OTHER_RUN, 0, 0)],
    ),
    "latest_metrics": (
        "key, value, timestamp, step, is_nan, run_uuid",
        [("loss", 0.1, T0 + 3, 2, 0, RUN), ("loss", 0.3, T0 + 1, 0, 0, OTHER_RUN)],
    ),
    "registered_models": ("name, creation_time, last_updated_time, description", [("legacy-model", T0, T0, "old")]),
    "registered_model_tags": ("key, value, name", [("owner", "me", "legacy-model")]),
    "model_versions": (
        "name, version, creation_time, last_updated_time, description, user_id, current_stage, "
        "source, run_id, status, status_message, run_link, storage_location",
        [("legacy-model", 1, T0, T0, "", "me", "Production", f"/old/mlruns/1/{RUN}/artifacts/model",
          RUN, "READY", None, None, None)],
    ),
    "model_version_tags": ("key, value, name, version", [("checked", "yes", "legacy-model", 1)]),
    "registered_model_aliases": ("alias, version, name", [("champion", 1, "legacy-model")]),
}  # fmt: skip


def write_mlflow_222_store(path: Path) -> Path:
    """Create ``path`` as an MLflow 2.22 database holding two runs and one registered model."""
    connection = sqlite3.connect(path)
    try:
        connection.executescript(DDL.read_text())
        for table, (columns, values) in ROWS.items():
            marks = ", ".join("?" * len(values[0]))
            connection.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
        connection.commit()
    finally:
        connection.close()
    return path
