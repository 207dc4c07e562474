"""Run the store benchmarks side by side with MLflow's own client and print the ratios.

Usage: ``python -m benchmarks.run [--only sqlite-runs,sqlite-history,files-runs] [--quick]``.
The stores are generated once under ``benchmarks/data`` and reused. ``--only mirror`` (not in the
default set: it takes minutes) compares the offline mirror's copy through a real ``mlflow server``
with the mlflow-export-import way (``benchmarks/bench_mirror.py`` measures the rest).
``--only startup`` (not in the default set either) runs ``benchmarks/bench_startup.py``: fresh
processes to a usable window, recorded in ``results/startup.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.gen_sqlite import (
    BENCH_EXPERIMENT,
    LONG_METRIC,
    LONG_RUN_NAME,
    generate_sqlite_store,
)
from benchmarks.timing import Comparison, time_call

DATA = Path(__file__).resolve().parent / "data"
RESULTS = Path(__file__).resolve().parent / "results"


def _experiment_id(store) -> str:
    frame = store.experiments()
    return str(frame.loc[frame["name"] == BENCH_EXPERIMENT, "experiment_id"].iloc[0])


def bench_sqlite_runs(db: Path, repeat: int) -> Comparison:
    """(a) store.runs() vs mlflow.search_runs() over the 10,000-run experiment."""
    import mlflow

    from flowdeck.store import open_store

    experiment_id = _experiment_id(open_store(str(db)))

    def flowdeck_runs():
        store = open_store(str(db))  # a fresh store each time: no warm caches
        try:
            return store.runs([experiment_id])
        finally:
            store.close()

    mlflow.set_tracking_uri(f"sqlite:///{db}")
    ours = time_call(flowdeck_runs, repeat)
    theirs = time_call(lambda: mlflow.search_runs(experiment_ids=[experiment_id]), 1)
    assert len(ours.result) == len(theirs.result), "row counts differ"
    assert list(ours.result["run_id"]) == list(theirs.result["run_id"]), "row order differs"
    return Comparison(f"runs(): {len(ours.result):,} runs, SQLite", ours, theirs, 20.0)


def bench_sqlite_history(db: Path, repeat: int) -> Comparison:
    """(b) store.metric_history() vs MlflowClient.get_metric_history() for 1,000,000 points."""
    from mlflow.tracking import MlflowClient

    from flowdeck.store import open_store

    store = open_store(str(db))
    experiment_id = _experiment_id(store)
    runs = store.runs([experiment_id], filter_string=f"attributes.run_name = '{LONG_RUN_NAME}'")
    run_id = str(runs["run_id"].iloc[0])
    store.close()

    def flowdeck_history():
        fresh = open_store(str(db))
        try:
            return fresh.metric_history([run_id], [LONG_METRIC])[(run_id, LONG_METRIC)]
        finally:
            fresh.close()

    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    ours = time_call(flowdeck_history, repeat)
    theirs = time_call(lambda: client.get_metric_history(run_id, LONG_METRIC), 1)
    expected = np.array(
        [m.value for m in sorted(theirs.result, key=lambda m: (m.step, m.timestamp))]
    )
    assert np.array_equal(ours.result["value"], expected), "history values differ"
    return Comparison(f"metric_history(): {len(expected):,} points, SQLite", ours, theirs, 20.0)


def bench_files_runs(folder: Path, repeat: int) -> Comparison:
    """(c) store.runs() vs MLflow's file store search_runs() over a 2,000-run mlruns folder."""
    import mlflow

    from flowdeck.store import open_store

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    experiment_ids = [
        str(i) for i in open_store(str(folder)).experiments()["experiment_id"] if str(i) != "0"
    ]

    def flowdeck_runs():
        store = open_store(str(folder))
        try:
            return store.runs(experiment_ids)
        finally:
            store.close()

    mlflow.set_tracking_uri(folder.as_uri())
    ours = time_call(flowdeck_runs, repeat)
    theirs = time_call(
        lambda: mlflow.search_runs(experiment_ids=experiment_ids), max(1, repeat // 2)
    )
    assert len(ours.result) == len(theirs.result), "row counts differ"
    assert list(ours.result["run_id"]) == list(theirs.result["run_id"]), "row order differs"
    return Comparison(f"runs(): {len(ours.result):,} runs, mlruns folder", ours, theirs, 3.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="sqlite-runs,sqlite-history,files-runs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small stores, for a smoke test")
    args = parser.parse_args(argv)
    wanted = set(args.only.split(","))
    scale = 0.02 if args.quick else 1.0

    cases: list[tuple[str, Callable[[], Comparison]]] = []
    if wanted & {"sqlite-runs", "sqlite-history"}:
        print("preparing the SQLite store (first time: about a minute)…", file=sys.stderr)
        db = generate_sqlite_store(
            DATA / ("bench-quick.db" if args.quick else "bench.db"),
            n_runs=int(10_000 * scale),
            long_points=int(1_000_000 * scale),
        )
        if "sqlite-runs" in wanted:
            cases.append(("sqlite-runs", lambda: bench_sqlite_runs(db, args.repeat)))
        if "sqlite-history" in wanted:
            cases.append(("sqlite-history", lambda: bench_sqlite_history(db, args.repeat)))
    if "files-runs" in wanted:
        from benchmarks.gen_filestore import generate_file_store

        print("preparing the mlruns folder…", file=sys.stderr)
        folder = DATA / ("mlruns-quick" if args.quick else "mlruns")
        generate_file_store(folder, n_runs=int(2_000 * scale))
        cases.append(("files-runs", lambda: bench_files_runs(folder, args.repeat)))
    if "mirror" in wanted and not args.quick:
        from benchmarks.bench_mirror import bench_mirror_copy

        cases.append(("mirror", lambda: bench_mirror_copy(args.repeat)))

    startup_code = 0
    if "startup" in wanted:  # no MLflow side to compare with: its own report
        from benchmarks.bench_startup import main as bench_startup

        print("running startup…", file=sys.stderr)
        startup_code = bench_startup(["--repeat", str(max(args.repeat, 5))])

    results = []
    for name, case in cases:
        print(f"running {name}…", file=sys.stderr)
        comparison = case()
        results.append(comparison)
        row = comparison.as_dict()
        verdict = "ok" if row["meets_target"] else "BELOW TARGET"
        print(
            f"{row['workload']:<45} flowdeck {row['flowdeck_s']:>8.3f} s   "
            f"mlflow {row['mlflow_s']:>8.3f} s   {row['ratio']:>6.1f}x "
            f"(target {row['target']:.0f}x) {verdict}",
            flush=True,
        )
    RESULTS.mkdir(exist_ok=True)
    report = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "quick": args.quick,
        "results": [c.as_dict() for c in results],
    }
    (RESULTS / ("quick.json" if args.quick else "latest.json")).write_text(
        json.dumps(report, indent=2)
    )
    return 0 if startup_code == 0 and all(c.meets_target for c in results) else 1


if __name__ == "__main__":
    sys.exit(main())
