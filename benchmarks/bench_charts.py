"""Charts on the 10,000-run store: the 1,000,000-point run and 100 runs × 10 metrics.

1. ``flowdeck DB --filter "attributes.run_name = 'long'" --select 1 --view charts --screenshot``
   in a fresh process, as a user would: load time, charts drawn, longest GUI stall.
2. In one window: select 100 runs (× 10 metrics of 20 steps) and time until every chart is
   drawn, with the longest GUI stall meanwhile; three different sets of runs (nothing cached).
3. The data behind (2) side by side: ``store.metric_history`` against MLflow's client
   (``get_metric_history`` per run and metric, as MLflow's UI asks per chart).
Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_charts``.
Budgets: stall < 100 ms for the 1M-point chart; 100 runs × 10 metrics drawn within 2 s.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.gen_sqlite import BENCH_EXPERIMENT, LONG_RUN_NAME, generate_sqlite_store

STALL_BUDGET_MS = 100.0
DRAW_BUDGET_S = 2.0
SELECTED_RUNS = 100
DATA = Path(__file__).resolve().parent / "data"
RESULTS = Path(__file__).resolve().parent / "results"


def long_run_snapshot(db: Path, output: Path) -> dict[str, float]:
    """One scripted snapshot of the 1,000,000-point run's chart in a new process."""
    command = [
        sys.executable, "-m", "flowdeck", str(db), "--experiment", BENCH_EXPERIMENT,
        "--filter", f"attributes.run_name = '{LONG_RUN_NAME}'", "--select", "1",
        "--view", "charts", "--screenshot", str(output),
    ]  # fmt: skip
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    found = {
        name: re.search(pattern, done.stderr, re.MULTILINE)
        for name, pattern in (
            ("load_s", r"^load ([\d.]+) s$"),
            ("charts_drawn_s", r"^charts drawn ([\d.]+) s$"),
            ("stall_ms", r"^longest stall (\d+) ms$"),
        )
    }
    if done.returncode != 0 or not all(found.values()):
        raise RuntimeError(f"snapshot failed ({done.returncode}):\n{done.stderr}")
    return {name: float(match.group(1)) for name, match in found.items() if match}


def select_and_draw(db: Path, repeat: int) -> list[dict[str, float]]:
    """Seconds from selecting 100 runs to every chart drawn, and the longest stall meanwhile."""
    from PySide6.QtCore import QItemSelection, QItemSelectionModel
    from PySide6.QtWidgets import QApplication

    from flowdeck.core.filter_check import check_run_filter
    from flowdeck.ui.heap import settle_heap
    from flowdeck.ui.main_window import MainWindow
    from flowdeck.ui.snapshot import StallMeter

    app = QApplication.instance() or QApplication(sys.argv)
    check_run_filter("params.warm_up = '1'")  # the app warms this up while idle
    window = MainWindow()
    window.persist_state = False
    window.resize(1440, 900)
    window.show()
    window.show_charts()
    settle_heap()
    listed: list = []
    window.sidebar.model.store_loaded.connect(listed.append)
    window.open_location(str(db))
    _wait(app, lambda: bool(listed))
    loaded: list = []
    window.runs.loaded.connect(loaded.append)
    window.select_experiment_named(listed[0], BENCH_EXPERIMENT)
    _wait(app, lambda: bool(loaded))
    model, view = window.runs.model, window.runs.view
    rows = [
        row
        for row in range(model.rowCount())
        if model.data(model.index(row, model.visible_column_ids().index("name"))) != LONG_RUN_NAME
    ]
    meter = StallMeter()
    drawn: list[float] = []
    window.charts.drawn.connect(lambda: drawn.append(time.perf_counter()))
    results = []
    for attempt in range(repeat):
        chosen = rows[attempt * SELECTED_RUNS : (attempt + 1) * SELECTED_RUNS]
        selection = QItemSelection()
        for row in chosen:
            selection.select(model.index(row, 0), model.index(row, 0))
        drawn.clear()
        meter.start()
        started = time.perf_counter()
        flags = (
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows
        )
        view.selectionModel().select(selection, flags)
        _wait(app, lambda: bool(drawn) and not window.charts._pending and not window.charts.loading)
        meter.stop()
        curves = sum(len(chart.run_ids()) for chart in window.charts.charts.values())
        results.append(
            {
                "seconds": drawn[-1] - started,
                "stall_ms": meter.longest_ms,
                "charts": len(window.charts.charts),
                "curves": curves,
            }
        )
    window.close()
    return results


def history_side_by_side(db: Path) -> dict[str, float]:
    """The 100 × 10 histories: Flowdeck's one call against MLflow's client, per pair."""
    from mlflow import MlflowClient

    from flowdeck.store import open_store

    store = open_store(str(db))
    frame = store.runs(["1"])
    run_ids = [
        r
        for r, n in zip(frame.run_id, frame["tags.mlflow.runName"], strict=True)
        if n != LONG_RUN_NAME
    ]
    run_ids = run_ids[-SELECTED_RUNS:]  # not used by the window test above: cold for both
    keys = [f"metric_{index}" for index in range(10)]
    started = time.perf_counter()
    ours = store.metric_history(run_ids, keys)
    flowdeck_s = time.perf_counter() - started
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    started = time.perf_counter()
    theirs = {(r, k): client.get_metric_history(r, k) for r in run_ids for k in keys}
    mlflow_s = time.perf_counter() - started
    assert sum(len(v) for v in ours.values()) == sum(len(v) for v in theirs.values())
    return {"flowdeck_s": flowdeck_s, "mlflow_s": mlflow_s, "ratio": mlflow_s / flowdeck_s}


def _wait(app, condition, timeout_s: float = 120.0) -> None:  # noqa: ANN001
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.002)


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    db = generate_sqlite_store(DATA / "bench.db")
    with tempfile.TemporaryDirectory() as folder:
        long_runs = [long_run_snapshot(db, Path(folder) / f"long{i}.png") for i in range(3)]
    for run in long_runs:
        print(
            f"1,000,000-point chart: load {run['load_s']:.2f} s, charts drawn "
            f"{run['charts_drawn_s']:.2f} s, longest stall {run['stall_ms']:.0f} ms",
            flush=True,
        )
    selections = select_and_draw(db, repeat=3)
    for run in selections:
        print(
            f"select {SELECTED_RUNS} runs: {run['charts']} charts, {run['curves']} curves drawn "
            f"in {run['seconds']:.2f} s, longest stall {run['stall_ms']:.0f} ms",
            flush=True,
        )
    side = history_side_by_side(db)
    print(
        f"histories 100 runs × 10 metrics: flowdeck {side['flowdeck_s']:.3f} s, "
        f"mlflow {side['mlflow_s']:.3f} s ({side['ratio']:.0f}x)",
        flush=True,
    )
    report = {"long_run": long_runs, "select_100": selections, "histories_100x10": side}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "charts.json").write_text(json.dumps(report, indent=2))
    ok = all(r["stall_ms"] < STALL_BUDGET_MS for r in long_runs) and all(
        r["seconds"] < DRAW_BUDGET_S for r in selections
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
