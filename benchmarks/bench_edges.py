"""Budgets at the edges (issue 15, class 8): a 5,000-param run and 100 runs × 10 metrics charted.

(a) A store written by MLflow's own client — SQLite and an ``mlruns/`` folder — whose experiment
    holds one run with 5,000 params, a 10,000-character name and some metrics beside a few
    ordinary runs: ``flowdeck STORE --page experiment/<id> --screenshot`` and ``--page run/<id>``
    in fresh processes, reading the load time and the longest GUI stall.
(b) The 10,000-run benchmark store (``gen_sqlite.py``): ``--filter "attributes.start_time <
    1900000000000" --select 100 --view charts --screenshot``, reading the longest stall and the
    time until every chart is drawn.
Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_edges [--repeat 3]``.
Budgets: no stall ≥ 100 ms; the 100 runs' charts drawn in < 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.gen_sqlite import BENCH_EXPERIMENT, generate_sqlite_store

STALL_BUDGET_MS = 100.0
DRAW_BUDGET_S = 2.0
DATA = Path(__file__).resolve().parent / "data"
RESULTS = Path(__file__).resolve().parent / "results"
EDGE_EXPERIMENT = "edges"
N_PARAMS, NAME_LENGTH, N_METRICS, N_STEPS, N_ORDINARY = 5_000, 10_000, 10, 100, 30
FORMAT_VERSION = "1"
CHART_FILTER = "attributes.start_time < 1900000000000"
CHART_SELECT = 100


def long_name() -> str:
    words = "a run name that goes on and on "
    return (words * (NAME_LENGTH // len(words) + 1))[: NAME_LENGTH - 4] + " end"


def generate_edge_store(folder: Path, kind: str) -> tuple[str, str, str]:
    """(location, experiment id, edge run id) of the edge store of ``kind`` (sqlite or files)."""
    folder = Path(folder).resolve() / f"edges-{kind}"
    stamp = folder / "ready"
    shape = f"{FORMAT_VERSION} {N_PARAMS} {NAME_LENGTH} {N_METRICS} {N_STEPS} {N_ORDINARY}"
    location = str(folder / ("mlflow.db" if kind == "sqlite" else "mlruns"))
    if stamp.exists() and stamp.read_text().startswith(shape + "\n"):
        experiment_id, run_id = stamp.read_text().split("\n")[1:3]
        return location, experiment_id, run_id
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    uri = f"sqlite:///{location}" if kind == "sqlite" else Path(location).as_uri()
    experiment_id, run_id = _write(uri, folder)
    stamp.write_text(f"{shape}\n{experiment_id}\n{run_id}")
    return location, experiment_id, run_id


def _write(uri: str, folder: Path) -> tuple[str, str]:
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow 3.13+ writes mlruns/ only with it
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment(
        EDGE_EXPERIMENT, artifact_location=(folder / "artifacts").as_uri()
    )
    start = 1_700_000_000_000
    for number in range(N_ORDINARY):
        run = client.create_run(experiment, run_name=f"run-{number:02d}", start_time=start)
        metrics = [
            Metric(f"metric_{k}", 1.0 / (step + number + k + 1), start + step, step)
            for k in range(N_METRICS)
            for step in range(0, N_STEPS, 10)
        ]
        params = [Param(f"param_{k:04d}", str(number * k)) for k in range(5)]
        client.log_batch(run.info.run_id, metrics=metrics, params=params, synchronous=True)
        client.set_terminated(run.info.run_id, end_time=start + 60_000)
    edge = client.create_run(experiment, run_name=long_name(), start_time=start + 1000)
    run_id = edge.info.run_id
    params = [Param(f"param_{k:04d}", f"value-{k}-" + "x" * (k % 40)) for k in range(N_PARAMS)]
    for first in range(0, N_PARAMS, 100):
        client.log_batch(run_id, params=params[first : first + 100], synchronous=True)
    metrics = [
        Metric(f"metric_{k}", 1.0 / (step + k + 1), start + step, step)
        for k in range(N_METRICS)
        for step in range(N_STEPS)
    ]
    for first in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[first : first + 1000], synchronous=True)
    client.set_terminated(run_id, end_time=start + 120_000)
    return experiment, run_id


def snapshot(location: str, extra: list[str], output: Path) -> dict[str, float]:
    """One ``flowdeck LOCATION ... --screenshot`` in a new process: load, stall, charts drawn."""
    command = [sys.executable, "-m", "flowdeck", location, *extra, "--screenshot", str(output)]
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    found = {
        key: re.search(rf"^{label} ([\d.]+) (?:s|ms)$", done.stderr, re.MULTILINE)
        for key, label in (
            ("load_s", "load"),
            ("stall_ms", "longest stall"),
            ("stall_cpu_ms", "stall cpu"),  # the GUI thread's own CPU time in that stall
            ("charts_drawn_s", "charts drawn"),
        )
    }
    if done.returncode != 0 or not found["load_s"] or not found["stall_ms"]:
        raise RuntimeError(f"{extra}: snapshot failed ({done.returncode}):\n{done.stderr}")
    return {key: float(match.group(1)) for key, match in found.items() if match}


def _row(label: str, runs: list[dict[str, float]], draw_budget_s: float | None = None) -> dict:
    """One case's numbers; ``charts drawn`` counts from the window shown, as the CLI prints it."""
    row: dict = {"case": label}
    for key in ("load_s", "stall_ms", "stall_cpu_ms", "charts_drawn_s"):
        if all(key in run for run in runs):
            row[key] = [run[key] for run in runs]
    if "charts_drawn_s" in row:  # from the runs listed (and selected) to every chart drawn
        row["select_to_drawn_s"] = [round(r["charts_drawn_s"] - r["load_s"], 2) for r in runs]
    row["meets_budget"] = max(row["stall_ms"]) < STALL_BUDGET_MS and (
        draw_budget_s is None or max(row["charts_drawn_s"]) < draw_budget_s
    )
    shown = "  ".join(
        f"{key.removesuffix('_s').removesuffix('_ms')} {min(v):.2f}-{max(v):.2f}"
        for key, v in row.items()
        if isinstance(v, list)
    )
    print(f"{label:<44} {shown}{'' if row['meets_budget'] else '  OVER BUDGET'}", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("params", "charts"), default=None)
    args = parser.parse_args(argv)
    report = []
    with tempfile.TemporaryDirectory() as folder:
        shots = iter(Path(folder) / f"{i}.png" for i in range(10_000))
        if args.only in (None, "params"):
            for kind in ("sqlite", "files"):
                location, experiment_id, run_id = generate_edge_store(DATA, kind)
                cases = {
                    "experiment page": ["--page", f"experiment/{experiment_id}"],
                    "run page": ["--page", f"run/{run_id}"],
                    "all runs charted": [
                        "--experiment", EDGE_EXPERIMENT, "--select", str(N_ORDINARY + 1),
                        "--view", "charts",
                    ],
                }  # fmt: skip
                for case, extra in cases.items():
                    runs = [snapshot(location, extra, next(shots)) for _ in range(args.repeat)]
                    report.append(_row(f"{kind} {case} (5,000 params)", runs))
        if args.only in (None, "charts"):
            db = generate_sqlite_store(DATA / "bench.db")
            extra = ["--experiment", BENCH_EXPERIMENT, "--filter", CHART_FILTER]
            extra += ["--select", str(CHART_SELECT), "--view", "charts"]
            runs = [snapshot(str(db), extra, next(shots)) for _ in range(args.repeat)]
            report.append(_row(f"charts {CHART_SELECT} runs x 10 metrics", runs, DRAW_BUDGET_S))
    RESULTS.mkdir(exist_ok=True)
    name = "edges.json" if args.only is None else f"edges-{args.only}.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2))
    return 0 if all(row["meets_budget"] for row in report) else 1


if __name__ == "__main__":
    sys.exit(main())
