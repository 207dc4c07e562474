"""Generate the registry benchmark store: a SQLite database with 1,000 models × 20 versions.

MLflow's client needs minutes for 20,000 versions, so the store is written in two steps:
``MlflowClient`` writes the schema, a few runs and the template model ``model-0000`` (tags,
description, 20 versions with tags, stages and aliases); then the template's rows in
``registered_models``, ``registered_model_tags``, ``registered_model_aliases``,
``model_versions`` and ``model_version_tags`` are copied, every column as MLflow wrote it, for
``model-0001`` … ``model-0999``, changing only the name, the timestamps (shifted by a second
per model) and the values that hold the model's number. So every row is one MLflow wrote
itself, bar the name and time.
"""

from __future__ import annotations

import os
import sqlite3
import time
import warnings
from pathlib import Path
from typing import Any

FORMAT_VERSION = "1"  # bump when the shape changes, so cached stores are rebuilt
TEMPLATE = "model-0000"
REGISTRY_TABLES = (
    "registered_models",
    "registered_model_tags",
    "registered_model_aliases",
    "model_versions",
    "model_version_tags",
)
TIME_COLUMNS = ("creation_time", "last_updated_time")


def model_name(index: int) -> str:
    return f"model-{index:04d}"


def _write_template(db_path: Path, n_versions: int) -> None:
    """The schema, runs and the template model, all through MLflow's own client."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{db_path}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.create_experiment(
        "registry-bench", artifact_location=(db_path.parent / "artifacts").as_uri()
    )
    runs = [client.create_run(experiment).info.run_id for _ in range(4)]
    client.create_registered_model(
        TEMPLATE,
        tags={"team": "team-0000", "task": "classification"},
        description=f"Benchmark model {TEMPLATE}.\nSecond line.",
    )
    for index in range(n_versions):
        run_id = runs[index % len(runs)]
        client.create_model_version(
            TEMPLATE,
            f"runs:/{run_id}/model",
            run_id=run_id,
            tags={"idx": str(index + 1), "owner": "team-0000"},
            description=f"{TEMPLATE} v{index + 1}",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stages are deprecated in MLflow 3
        client.transition_model_version_stage(TEMPLATE, str(n_versions - 3), "Production")
        client.transition_model_version_stage(TEMPLATE, str(n_versions - 1), "Production", True)
        client.transition_model_version_stage(TEMPLATE, str(n_versions), "Staging")
    client.set_registered_model_alias(TEMPLATE, "champion", str(n_versions - 1))
    client.set_registered_model_alias(TEMPLATE, "challenger", str(n_versions))
    client._tracking_client.store.engine.dispose()
    client._get_registry_client().store.engine.dispose()


def _template_rows(con: sqlite3.Connection, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = con.execute(f"SELECT * FROM {table} WHERE name = ?", (TEMPLATE,))
    return [column[0] for column in cursor.description], cursor.fetchall()


def _copy(row: tuple[Any, ...], columns: list[str], index: int) -> tuple[Any, ...]:
    name = model_name(index)
    values = []
    for column, value in zip(columns, row, strict=True):
        if column in TIME_COLUMNS and value is not None:
            value = int(value) + index * 1000
        elif isinstance(value, str):
            value = value.replace(TEMPLATE, name).replace("team-0000", f"team-{index % 7:04d}")
        values.append(value)
    return tuple(values)


def generate_registry_store(db_path: Path, n_models: int = 1000, n_versions: int = 20) -> Path:
    """Write the store into ``db_path``, reusing a finished one of the same shape."""
    db_path = Path(db_path).resolve()
    stamp = db_path.with_suffix(".ready")
    shape = f"{FORMAT_VERSION} {n_models} {n_versions}"
    if db_path.exists() and stamp.exists() and stamp.read_text() == shape:
        return db_path
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (db_path, stamp):
        stale.unlink(missing_ok=True)
    tmp = db_path.with_suffix(".tmp.db")
    tmp.unlink(missing_ok=True)
    _write_template(tmp, n_versions)
    con = sqlite3.connect(tmp)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    for table in REGISTRY_TABLES:  # parents first: the foreign keys hold all along
        columns, rows = _template_rows(con, table)
        marks = ", ".join("?" for _ in columns)
        con.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            (_copy(row, columns, index) for index in range(1, n_models) for row in rows),
        )
    con.commit()
    con.execute("ANALYZE")
    con.close()
    os.replace(tmp, db_path)
    stamp.write_text(shape)
    return db_path


if __name__ == "__main__":
    started = time.perf_counter()
    path = generate_registry_store(Path("benchmarks/data/registry.db"))
    print(f"{path} ready in {time.perf_counter() - started:.1f} s")
