"""Generate the SQLite benchmark store: 10,000 runs and one run with a 1,000,000-point metric."""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from pathlib import Path

import numpy as np

BENCH_EXPERIMENT = "bench"
LONG_RUN_NAME = "long"
LONG_METRIC = "loss"
FORMAT_VERSION = "1"  # bump when the shape changes, so cached stores are rebuilt


def _create_mlflow_database(db_path: Path) -> str:
    """Let MLflow create the schema at its own head and the experiment; return its id."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{db_path}")
    artifacts = (db_path.parent / "artifacts").as_uri()
    experiment_id = client.create_experiment(BENCH_EXPERIMENT, artifact_location=artifacts)
    client._tracking_client.store.engine.dispose()
    return experiment_id


def generate_sqlite_store(
    db_path: Path,
    n_runs: int = 10_000,
    n_params: int = 20,
    n_metrics: int = 10,
    n_steps: int = 20,
    n_tags: int = 3,
    long_points: int = 1_000_000,
    seed: int = 7,
) -> Path:
    """Write the store into ``db_path`` (MLflow's schema, bulk rows), reusing a finished one."""
    db_path = Path(db_path).resolve()
    stamp = db_path.with_suffix(".ready")
    shape = f"{FORMAT_VERSION} {n_runs} {n_params} {n_metrics} {n_steps} {n_tags} {long_points}"
    if db_path.exists() and stamp.exists() and stamp.read_text() == shape:
        return db_path
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (db_path, stamp):
        stale.unlink(missing_ok=True)
    tmp = db_path.with_suffix(".tmp.db")
    tmp.unlink(missing_ok=True)
    experiment_id = int(_create_mlflow_database(tmp))
    rng = np.random.default_rng(seed)
    con = sqlite3.connect(tmp)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    start = 1_700_000_000_000
    run_ids = [uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | i).hex for i in range(n_runs)]
    artifact_root = (db_path.parent / "artifacts").as_posix()

    run_rows, tag_rows, param_rows, metric_rows, latest_rows = [], [], [], [], []
    statuses = np.array(["FINISHED", "FAILED", "RUNNING", "KILLED"])
    for i, run_id in enumerate(run_ids):
        t0 = start + i * 60_000
        status = statuses[rng.choice(4, p=[0.8, 0.1, 0.05, 0.05])]
        end = None if status == "RUNNING" else t0 + 50_000
        name = f"run-{i:05d}"
        run_rows.append(
            (
                run_id,
                name,
                "UNKNOWN",
                "",
                "",
                "bench",
                status,
                t0,
                end,
                "",
                "active",
                f"{artifact_root}/{experiment_id}/{run_id}/artifacts",
                experiment_id,
                None,
            )
        )
        tag_rows.append(("mlflow.runName", name, run_id))
        tag_rows.append(("mlflow.user", "bench", run_id))
        tag_rows.extend((f"tag_{k}", f"value-{(i + k) % 17}", run_id) for k in range(n_tags))
        param_rows.extend(
            (f"param_{k}", str(round(float(rng.random()), 6)), run_id) for k in range(n_params)
        )
        values = rng.random((n_metrics, n_steps))
        for m in range(n_metrics):
            key = f"metric_{m}"
            for s in range(n_steps):
                metric_rows.append((key, float(values[m, s]), t0 + s * 1000, run_id, s, 0))
            latest_rows.append(
                (key, float(values[m, -1]), t0 + (n_steps - 1) * 1000, n_steps - 1, 0, run_id)
            )
    con.executemany("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", run_rows)
    con.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)", tag_rows)
    con.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", param_rows)
    con.executemany(
        "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)",
        metric_rows,
    )
    con.executemany(
        "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
        "VALUES (?,?,?,?,?,?)",
        latest_rows,
    )
    _insert_long_run(con, experiment_id, artifact_root, start + n_runs * 60_000, long_points, rng)
    con.commit()
    con.execute("ANALYZE")
    con.close()
    os.replace(tmp, db_path)
    stamp.write_text(shape)
    return db_path


def _insert_long_run(
    con: sqlite3.Connection,
    experiment_id: int,
    artifact_root: str,
    t0: int,
    n_points: int,
    rng: np.random.Generator,
) -> None:
    """One run named ``long`` whose ``loss`` metric has ``n_points`` steps, with a few spikes."""
    run_id = uuid.uuid4().hex
    con.execute(
        "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            run_id,
            LONG_RUN_NAME,
            "UNKNOWN",
            "",
            "",
            "bench",
            "FINISHED",
            t0,
            t0 + n_points,
            "",
            "active",
            f"{artifact_root}/{experiment_id}/{run_id}/artifacts",
            experiment_id,
            None,
        ),
    )
    con.execute("INSERT INTO tags VALUES (?,?,?)", ("mlflow.runName", LONG_RUN_NAME, run_id))
    steps = np.arange(n_points, dtype=np.int64)
    values = np.exp(-steps / (n_points / 5)) + rng.normal(0, 0.01, n_points)
    values[rng.choice(n_points, 20, replace=False)] += 5.0  # spikes a plot must not hide
    rows = zip(
        [LONG_METRIC] * n_points,
        values.tolist(),
        (t0 + steps).tolist(),
        [run_id] * n_points,
        steps.tolist(),
        [0] * n_points,
        strict=True,
    )
    con.executemany(
        "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)",
        rows,
    )
    con.execute(
        "INSERT INTO latest_metrics VALUES (?,?,?,?,?,?)",
        (LONG_METRIC, float(values[-1]), int(t0 + n_points - 1), n_points - 1, 0, run_id),
    )


if __name__ == "__main__":
    started = time.perf_counter()
    path = generate_sqlite_store(Path("benchmarks/data/bench.db"))
    print(f"{path} ready in {time.perf_counter() - started:.1f} s")
