"""Adversarial LIKE filters (issue 15, class 1): Flowdeck's linear matcher against MLflow.

One experiment holds a run whose param ``long`` is 6,000 × ``a`` and whose param ``config`` is
a 4.8 KB JSON config, beside 20 ordinary runs; SQLite and an ``mlruns/`` folder, both written
by MLflow's client. Each filter of the issue runs through ``store.runs()`` in this process and
through ``mlflow.search_runs()`` in a child process that is stopped after ``--timeout`` s
(SQLite's LIKE and the FileStore's regular expressions both backtrack).
Run: ``.venv/bin/python -m benchmarks.bench_filters [--timeout 60]``.
Results: ``benchmarks/results/filters.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.timing import time_call

RESULTS = Path(__file__).resolve().parent / "results"
LONG = "a" * 6000
CONFIG = json.dumps(
    {f"layer_{i}": {"units": 64, "activation": "relu", "dropout": 0.1} for i in range(80)}
)[:4800]
FILTERS = [
    "params.long LIKE '%a%a%b'",
    "params.long LIKE '%a%a%a%a%a%b'",
    "params.config LIKE '%,%,%,%x'",
    "params.config LIKE '%,%,%,%,%x'",
    "params.long ILIKE '%A%A%A%B'",
]

MLFLOW_CHILD = """
import json, os, sys, time
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
import mlflow
uri, experiment_id, filter_string = sys.argv[1:4]
mlflow.set_tracking_uri(uri)
mlflow.search_runs([experiment_id], "attributes.status = 'x'")  # warm imports and connection
started = time.perf_counter()
frame = mlflow.search_runs([experiment_id], filter_string)
print(json.dumps({"seconds": time.perf_counter() - started, "run_ids": sorted(frame["run_id"])}))
"""


def write_store(uri: str) -> str:
    """The benchmark experiment, written by MLflow's client; returns its id."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow import MlflowClient
    from mlflow.entities import Param

    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("adversarial filters")
    run_id = client.create_run(experiment_id, run_name="long values").info.run_id
    client.log_batch(run_id, params=[Param("long", LONG), Param("config", CONFIG)])
    for index in range(20):
        run_id = client.create_run(experiment_id, run_name=f"ordinary {index}").info.run_id
        client.log_batch(run_id, params=[Param("long", "ab"), Param("config", "{,,,x")])
    return experiment_id


def mlflow_seconds(uri: str, experiment_id: str, filter_string: str, timeout: float) -> dict:
    """``mlflow.search_runs`` in a child process: seconds and run ids, or the timeout."""
    command = [sys.executable, "-c", MLFLOW_CHILD, uri, experiment_id, filter_string]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout + 15)
    except subprocess.TimeoutExpired:
        return {"seconds": None, "timed_out_after_s": timeout}
    if done.returncode != 0:
        return {"seconds": None, "error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench(location: str, uri: str, experiment_id: str, timeout: float) -> list[dict]:
    from flowdeck.store import open_store

    store = open_store(location)
    rows = []
    try:
        store.runs([experiment_id])  # warm: imports, connection, file cache
        for filter_string in FILTERS:
            ours = time_call(lambda f=filter_string: store.runs([experiment_id], f), repeat=3)
            theirs = mlflow_seconds(uri, experiment_id, filter_string, timeout)
            row = {
                "filter": filter_string,
                "flowdeck_s": round(ours.median, 4),
                "mlflow_s": None if theirs["seconds"] is None else round(theirs["seconds"], 4),
                **{k: v for k, v in theirs.items() if k not in ("seconds", "run_ids")},
            }
            if "run_ids" in theirs:
                row["same_runs"] = sorted(ours.result["run_id"]) == theirs["run_ids"]
            if row["mlflow_s"]:
                row["ratio"] = round(row["mlflow_s"] / max(row["flowdeck_s"], 1e-6), 1)
            print(json.dumps(row), flush=True)
            rows.append(row)
    finally:
        store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="MLflow's limit per filter")
    args = parser.parse_args()
    results: dict[str, object] = {"timeout_s": args.timeout, "created": time.time()}
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "mlflow.db"
        sqlite_uri = f"sqlite:///{db}"
        root = Path(folder) / "mlruns"
        for name, location, uri in (
            ("sqlite", sqlite_uri, sqlite_uri),
            ("files", str(root), root.as_uri()),
        ):
            print(f"-- {name}", flush=True)
            experiment_id = write_store(uri)
            results[name] = bench(location, uri, experiment_id, args.timeout)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "filters.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
