"""Offline mirror over a real ``mlflow server``: copy speed, re-open speed, incremental syncs.

All reads go through ``mlflow server --backend-store-uri sqlite:///<copy> --workers 4`` on a free
loopback port (``tests.helpers.servers``), one server per source database, stopped in a finally.

(1) Flowdeck's ``sync_mirror`` of the whole 10,000-run store (``gen_sqlite.py``) into a new
file: seconds, runs, points; the point count must equal ``SELECT COUNT(*) FROM metrics`` of
bench.db and the long run's 1,000,000 (step, timestamp, value) must equal the original's.
(2) The same data copied the way mlflow-export-import does it (``MlflowClient(server)``
``search_runs`` all pages + ``get_metric_history`` per run and key, then ``create_run`` +
``log_batch`` into a fresh SQLite store), on a subset: the first ``SUBSET_RUNS`` runs by name
plus the long run (a copy of bench.db with the other runs' rows deleted), served by its own
server; Flowdeck mirrors the same subset, so the ratio compares the same data.
(3) Re-opening the mirror: ``open_store(mirror).runs([experiment])`` with a fresh store each
time, beside ``open_store(server_url).runs([...])``.
(4) An incremental sync with nothing new, and one after 10 new runs logged to the server.
(5) ``open_store(url).metric_history([long run], ['loss'])`` through the server: does it
complete, and how long.
Results: ``benchmarks/results/mirror.json``.
Run: ``nice -n 5 .venv/bin/python -m benchmarks.bench_mirror [--repeat 3] [--cold-repeat 2]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.gen_sqlite import BENCH_EXPERIMENT, LONG_METRIC, LONG_RUN_NAME
from benchmarks.timing import Comparison, Timing, time_call

DATA = Path(__file__).resolve().parent / "data"
RESULTS = Path(__file__).resolve().parent / "results"
SUBSET_RUNS = 300
SERVER_WORKERS = "4"
COPY_TARGET = 5.0  # Flowdeck's mirror vs the export-import way, on the same subset
REOPEN_TARGET_S = 1.0
NOOP_SYNC_TARGET_S = 5.0
FIRST_CURVE_TARGET_S = 3.0
NEW_RUNS = 10
LONG_TIMEOUT_S = 300.0  # when a request timed out with Flowdeck's default 30 s
PARAMS_PER_BATCH = 100  # MLflow's log_batch limits
METRICS_PER_BATCH = 1000


# --- data ---------------------------------------------------------------------------------------


def bench_db(quick: bool = False) -> Path:
    """bench.db (10,000 runs + a 1,000,000-point run); a small one for a smoke test."""
    from benchmarks.gen_sqlite import generate_sqlite_store

    if quick:
        return generate_sqlite_store(DATA / "bench-mirror-quick.db", 200, long_points=60_000)
    return generate_sqlite_store(DATA / "bench.db")


def subset_db(source: Path, n_runs: int = SUBSET_RUNS) -> Path:
    """A copy of ``source`` holding only the first ``n_runs`` runs by name and the long run."""
    path = DATA / f"bench-subset-{n_runs}.db"
    stamp = path.with_suffix(".ready")
    shape = f"{source.stat().st_mtime_ns} {n_runs}"
    if path.exists() and stamp.exists() and stamp.read_text() == shape:
        return path
    stamp.unlink(missing_ok=True)
    tmp = path.with_suffix(".tmp.db")
    shutil.copy2(source, tmp)
    con = sqlite3.connect(tmp)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("CREATE TEMP TABLE keep (run_uuid TEXT PRIMARY KEY)")
    con.execute(
        "INSERT INTO keep SELECT run_uuid FROM runs WHERE name != ? ORDER BY name LIMIT ?",
        (LONG_RUN_NAME, n_runs),
    )
    con.execute("INSERT INTO keep SELECT run_uuid FROM runs WHERE name = ?", (LONG_RUN_NAME,))
    for table in ("metrics", "latest_metrics", "params", "tags", "runs"):
        con.execute(f"DELETE FROM {table} WHERE run_uuid NOT IN (SELECT run_uuid FROM keep)")
    con.commit()
    con.execute("VACUUM")
    con.close()
    os.replace(tmp, path)
    stamp.write_text(shape)
    return path


def db_facts(db: Path) -> dict[str, Any]:
    """Runs, points, the bench experiment id and the long run's id of an MLflow SQLite file."""
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        (experiment_id,) = con.execute(
            "SELECT experiment_id FROM experiments WHERE name = ?", (BENCH_EXPERIMENT,)
        ).fetchone()
        (long_run,) = con.execute(
            "SELECT run_uuid FROM runs WHERE name = ? AND experiment_id = ?",
            (LONG_RUN_NAME, experiment_id),
        ).fetchone()
        return {
            "experiment_id": str(experiment_id),
            "long_run": long_run,
            "runs": con.execute("SELECT COUNT(*) FROM runs").fetchone()[0],
            "points": con.execute("SELECT COUNT(*) FROM metrics").fetchone()[0],
        }
    finally:
        con.close()


def long_history(db: Path, run_id: str) -> np.ndarray:
    """The long run's (step, timestamp, value) rows, in one canonical order."""
    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT step, timestamp, value FROM metrics WHERE run_uuid = ? AND key = ? "
            "ORDER BY step, timestamp, value",
            (run_id, LONG_METRIC),
        ).fetchall()
    finally:
        con.close()
    return np.array(rows, dtype=[("step", "i8"), ("timestamp", "i8"), ("value", "f8")])


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def spread(seconds: list[float]) -> dict[str, Any]:
    return {
        "median_s": round(statistics.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
        "all_s": [round(s, 3) for s in seconds],
    }


# --- the copies ---------------------------------------------------------------------------------


def flowdeck_mirror(
    url: str, dest: Path, timeout: float | None = None, full: bool = False
) -> Any:
    """One Flowdeck sync of the server at ``url`` into ``dest`` (runs only); ``full`` compares
    every run (otherwise a complete mirror copies the changes since its last sync)."""
    from flowdeck.core.task_state import TaskState
    from flowdeck.store import open_store
    from flowdeck.store.mirror import MirrorOptions, sync_mirror

    source = open_store(url, **({"timeout": timeout} if timeout else {}))
    try:
        options = MirrorOptions(models=False, traces=False, full=full)
        return sync_mirror(source, dest, options, TaskState())
    finally:
        source.close()


def mlflow_copy(url: str, experiment_id: str, dest: Path) -> dict[str, int]:
    """The experiment copied the mlflow-export-import way, with MLflow's own client."""
    from mlflow.entities import Param, ViewType
    from mlflow.tracking import MlflowClient

    src = MlflowClient(tracking_uri=url)
    dst = MlflowClient(tracking_uri=f"sqlite:///{dest}")
    new_experiment = dst.create_experiment(src.get_experiment(experiment_id).name)
    runs, token = [], None
    while True:
        page = src.search_runs(
            [experiment_id], run_view_type=ViewType.ALL, max_results=1000, page_token=token
        )
        runs.extend(page)
        token = page.token
        if not token:
            break
    points = 0
    for run in runs:
        metrics = []
        for key in run.data.metrics:
            metrics.extend(src.get_metric_history(run.info.run_id, key))
        tags = {k: v for k, v in run.data.tags.items() if k != "mlflow.runName"}
        new = dst.create_run(
            new_experiment, start_time=run.info.start_time, tags=tags, run_name=run.info.run_name
        )
        run_id = new.info.run_id
        params = [Param(k, v) for k, v in run.data.params.items()]
        for i in range(0, len(params), PARAMS_PER_BATCH):
            dst.log_batch(run_id, params=params[i : i + PARAMS_PER_BATCH])
        for i in range(0, len(metrics), METRICS_PER_BATCH):
            dst.log_batch(run_id, metrics=metrics[i : i + METRICS_PER_BATCH])
        if run.info.status != "RUNNING":
            dst.set_terminated(run_id, status=run.info.status, end_time=run.info.end_time)
        points += len(metrics)
    dst._tracking_client.store.engine.dispose()
    return {"runs": len(runs), "points": points}


def add_runs(url: str, experiment_id: str, n: int) -> int:
    """Log ``n`` new runs (20 params, 10 metrics × 20 steps each) to the server; return points."""
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=url)
    now = int(time.time() * 1000)
    points = 0
    for i in range(n):
        run = client.create_run(experiment_id, run_name=f"incremental-{i}")
        metrics = [
            Metric(f"metric_{m}", float(m + s / 20), now + s, s)
            for m in range(10)
            for s in range(20)
        ]
        params = [Param(f"param_{k}", str(k)) for k in range(20)]
        client.log_batch(run.info.run_id, metrics=metrics, params=params)
        client.set_terminated(run.info.run_id)
        points += len(metrics)
    return points


# --- the cases ----------------------------------------------------------------------------------


def _server(db: Path, workdir: Path):
    from tests.helpers.servers import start_mlflow_server

    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(db, workdir / "mlflow.db")
    server = start_mlflow_server(workdir, ("--workers", SERVER_WORKERS))
    try:
        _warm_up(server.url, db)
        _settle(server.process.pid)
    except BaseException:
        server.stop()
        raise
    return server


def _group_cpu_s(group: int) -> float:
    """CPU seconds used so far by the processes of process group ``group`` (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # pgrp; utime and stime follow at 11 and 12
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def _settle(group: int, quiet_s: float = 0.1, limit_s: float = 90.0) -> None:
    """Wait until the server's processes (its job runner and queue consumers start after the
    web workers) use less than ``quiet_s`` CPU in a second, so neither client competes with
    the server's own start-up."""
    deadline = time.monotonic() + limit_s
    before = _group_cpu_s(group)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = _group_cpu_s(group)
        if now - before < quiet_s:
            return
        before = now


def _warm_up(url: str, db: Path) -> None:
    """Requests on new connections until every worker has opened its store (untimed), so
    neither client pays the workers' cold start."""
    import requests

    run_id = db_facts(db)["long_run"]
    targets = [
        f"{url}/api/2.0/mlflow/experiments/search?max_results=10",
        f"{url}/ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id={run_id}"
        f"&metric_key=missing&max_results=10",
        f"{url}/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=missing",
    ]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda u: requests.get(u, timeout=120).raise_for_status(), targets * 8))


def bench_subset(
    db: Path,
    repeat: int,
    mlflow_repeat: int,
    n_runs: int = SUBSET_RUNS,
    previous_mlflow: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """(2) Flowdeck's mirror vs the export-import way on the same subset of runs.

    ``previous_mlflow`` (the last run's ``mlflow`` timings) skips re-timing MLflow's copy."""
    small = subset_db(db, n_runs)
    facts = db_facts(small)
    with tempfile.TemporaryDirectory(dir=DATA) as folder:
        work = Path(folder)
        server = _server(small, work / "server")
        try:
            load_before = load()
            counter = iter(range(10**6))

            def ours() -> Any:
                return flowdeck_mirror(server.url, work / f"flowdeck-{next(counter)}.db")

            fd = time_call(ours, repeat)
            report = fd.result
            mirror = work / f"flowdeck-{repeat - 1}.db"
            copied = db_facts(mirror)
            assert copied["points"] == facts["points"], (copied, facts)
            assert report.points == facts["points"], (report.points, facts)
            assert np.array_equal(
                long_history(mirror, copied["long_run"]), long_history(small, facts["long_run"])
            ), "subset: the mirror's long history differs"

            targets = iter(range(10**6))

            def theirs() -> dict[str, int]:
                return mlflow_copy(
                    server.url, facts["experiment_id"], work / f"mlflow-{next(targets)}.db"
                )

            if previous_mlflow is not None:  # MLflow's side did not change: its last timing
                ml = Timing(list(previous_mlflow["all_s"]), {"points": facts["points"]})
            else:
                ml = time_call(theirs, mlflow_repeat)
                ml_db = work / f"mlflow-{mlflow_repeat - 1}.db"
                ml_points = db_facts(ml_db)["points"]
                assert ml.result["points"] == facts["points"], ml.result
                assert ml_points == facts["points"], (ml_points, facts["points"])
            load_after = load()
        finally:
            server.stop()
    comparison = Comparison(
        f"copy {facts['runs']:,} runs, {facts['points']:,} points via server",
        fd,
        ml,
        COPY_TARGET,
    )
    row = comparison.as_dict()
    row.update(
        {
            "runs": facts["runs"],
            "points": facts["points"],
            "flowdeck": spread(fd.seconds),
            "mlflow": spread(ml.seconds),
            "flowdeck_points_per_s": round(facts["points"] / fd.median),
            "mlflow_points_per_s": round(facts["points"] / ml.median),
            "load_before": load_before,
            "load_after": load_after,
        }
    )
    return row


def _timed(fn: Callable[[], Any]) -> tuple[float, Any, str | None]:
    started = time.perf_counter()
    try:
        result = fn()
    except Exception as error:  # noqa: BLE001 - reported, not hidden
        return time.perf_counter() - started, None, f"{type(error).__name__}: {error}"
    return time.perf_counter() - started, result, None


def bench_full(db: Path, repeat: int, cold_repeat: int, rest_repeat: int) -> dict[str, Any]:
    """(1), (3), (4), (5) over a server on a copy of the whole store."""
    from flowdeck.store import open_store
    from flowdeck.store.mirror import MirrorOptions, sync_mirror

    facts = db_facts(db)
    experiment_id, long_run = facts["experiment_id"], facts["long_run"]
    out: dict[str, Any] = {"source": facts}
    with tempfile.TemporaryDirectory(dir=DATA) as folder:
        work = Path(folder)
        server = _server(db, work / "server")
        try:
            # (1) cold mirrors, each into a new file; with the default 30 s request timeout
            # first, and with a longer one when a request of the default run timed out
            out["cold_load_before"] = load()
            counter = iter(range(10**6))
            timeout: float | None = None
            seconds, first, error = _timed(
                lambda: flowdeck_mirror(server.url, work / f"mirror-{next(counter)}.db")
            )
            out["cold_default_timeout"] = {"seconds": round(seconds, 3), "error": error}
            if error:
                timeout = LONG_TIMEOUT_S
                out["cold_timeout_used_s"] = timeout
            more = cold_repeat - (0 if error else 1)
            cold = time_call(
                lambda: flowdeck_mirror(server.url, work / f"mirror-{next(counter)}.db", timeout),
                more,
            ) if more > 0 else Timing([], first)
            if not error:
                cold = Timing([seconds, *cold.seconds], cold.result)
            mirror = work / f"mirror-{next(counter) - 1}.db"
            copied = db_facts(mirror)
            report = cold.result
            points_ok = copied["points"] == facts["points"] == report.points
            long_ok = bool(
                np.array_equal(long_history(mirror, copied["long_run"]), long_history(db, long_run))
            )
            out["cold"] = {
                **spread(cold.seconds),
                "runs": report.runs_copied,
                "runs_in_mirror": copied["runs"],
                "points": report.points,
                "points_in_mirror": copied["points"],
                "points_in_source": facts["points"],
                "points_match": points_ok,
                "long_history_matches": long_ok,
                "points_per_s": round(report.points / cold.median),
                "load_after": load(),
            }
            assert points_ok, out["cold"]
            assert long_ok, "the mirror's long history differs from the original"

            # (3) re-opening the mirror vs reading the runs over the server
            def mirror_runs() -> Any:
                store = open_store(str(mirror))
                try:
                    return store.runs([experiment_id])
                finally:
                    store.close()

            def server_runs() -> Any:
                store = open_store(server.url, **({"timeout": timeout} if timeout else {}))
                try:
                    return store.runs([experiment_id])
                finally:
                    store.close()

            local = time_call(mirror_runs, repeat)
            runs_default = _timed(lambda: open_store(server.url).runs([experiment_id]))
            out["server_runs_default_timeout"] = {
                "seconds": round(runs_default[0], 3),
                "error": runs_default[2],
            }
            remote = time_call(server_runs, rest_repeat)
            assert len(local.result) == len(remote.result) == facts["runs"], (
                len(local.result),
                len(remote.result),
            )
            assert sorted(local.result["run_id"]) == sorted(remote.result["run_id"])
            out["reopen"] = {
                "runs": len(local.result),
                "mirror": spread(local.seconds),
                "server": spread(remote.seconds),
                "ratio": round(remote.median / local.median, 1),
                "meets_target": local.median < REOPEN_TARGET_S,
                "load_after": load(),
            }

            # (5) the long history through the server
            def history() -> Any:
                store = open_store(server.url)
                try:
                    return store.metric_history([long_run], [LONG_METRIC])[(long_run, LONG_METRIC)]
                finally:
                    store.close()

            attempts = [_timed(history) for _ in range(rest_repeat)]
            expected = long_history(db, long_run)
            matches = [
                None
                if result is None
                else bool(
                    len(result) == len(expected)
                    and np.array_equal(result["step"], expected["step"])
                    and np.array_equal(result["timestamp"], expected["timestamp"])
                    and np.array_equal(result["value"], expected["value"])
                )
                for _, result, _ in attempts
            ]
            out["long_history_via_server"] = {
                "points": len(expected),
                "completed": [error is None for _, _, error in attempts],
                "errors": [error for _, _, error in attempts if error],
                "matches_original": matches,
                **spread([s for s, _, _ in attempts]),
                "load_after": load(),
            }

            # (5b) the server's sample of the long history: what a chart draws first
            def sample() -> Any:
                store = open_store(server.url, **({"timeout": timeout} if timeout else {}))
                try:
                    return store.sampled_history([long_run], [LONG_METRIC])
                finally:
                    store.close()

            sampled = time_call(sample, repeat)
            points = sampled.result[(long_run, LONG_METRIC)]
            out["first_curve_sample"] = {
                **spread(sampled.seconds),
                "points": len(points),
                "first_step": int(points["step"][0]),
                "last_step": int(points["step"][-1]),
                "meets_target": sampled.median < FIRST_CURVE_TARGET_S,
                "load_after": load(),
            }

            # (4) a quick refresh with nothing new (what opening a mirrored server does)
            def refresh() -> Any:
                store = open_store(server.url, **({"timeout": timeout} if timeout else {}))
                try:
                    options = MirrorOptions(quick=True, models=False, traces=False)
                    return sync_mirror(store, mirror, options)
                finally:
                    store.close()

            quick = time_call(refresh, repeat)
            out["refresh_noop"] = {
                **spread(quick.seconds),
                "runs_copied": quick.result.runs_copied,
                "meets_target": quick.median < NOOP_SYNC_TARGET_S,
                "load_after": load(),
            }

            # (4) incremental syncs: the default (changes since the last sync), and a full
            # check of every run (done once a day, or when asked)
            noop = time_call(lambda: flowdeck_mirror(server.url, mirror, timeout), repeat)
            assert not noop.result.full, "a sync within a day of the last full check"
            out["incremental_noop"] = {
                **spread(noop.seconds),
                "runs_copied": noop.result.runs_copied,
                "points": noop.result.points,
                "meets_target": noop.median < NOOP_SYNC_TARGET_S,
                "load_after": load(),
            }
            full = time_call(lambda: flowdeck_mirror(server.url, mirror, timeout, True), repeat)
            out["full_check_noop"] = {
                **spread(full.seconds),
                "runs_seen": full.result.runs_seen,
                "runs_copied": full.result.runs_copied,
                "points": full.result.points,
                "load_after": load(),
            }
            added = add_runs(server.url, experiment_id, NEW_RUNS)
            seconds, new_report, error = _timed(
                lambda: flowdeck_mirror(server.url, mirror, timeout)
            )
            assert error is None, error
            after = db_facts(mirror)
            source_after = db_facts(work / "server" / "mlflow.db")
            out["incremental_new_runs"] = {
                "seconds": round(seconds, 3),
                "new_runs": NEW_RUNS,
                "points_logged": added,
                "runs_copied": new_report.runs_copied,
                "points": new_report.points,
                "mirror_matches_source": after["points"] == source_after["points"]
                and after["runs"] == source_after["runs"],
                "load_after": load(),
            }
        finally:
            server.stop()
    return out


def print_table(report: dict[str, Any]) -> None:
    copy = report["copy_subset"]
    full = report["full"]
    cold = full["cold"]
    print(f"{'workload':<58} {'flowdeck':>10} {'other':>10} {'ratio':>7}")
    print(
        f"{'cold mirror, ' + format(cold['runs'], ',') + ' runs, ' + format(cold['points'], ',') + ' pts':<58} "
        f"{cold['median_s']:>9.1f}s {'':>10} {'':>7}  {cold['points_per_s']:,} pts/s "
        f"[{cold['min_s']:.1f}-{cold['max_s']:.1f}] match={cold['points_match'] and cold['long_history_matches']}"
    )
    print(
        f"{copy['workload'] + ' (vs export-import)':<58} {copy['flowdeck_s']:>9.1f}s "
        f"{copy['mlflow_s']:>9.1f}s {copy['ratio']:>6.1f}x  "
        f"{copy['flowdeck_points_per_s']:,} vs {copy['mlflow_points_per_s']:,} pts/s "
        f"(target {copy['target']:.0f}x){'' if copy['meets_target'] else '  BELOW TARGET'}"
    )
    reopen = full["reopen"]
    print(
        f"{'runs() of ' + format(reopen['runs'], ',') + ' runs: mirror vs server':<58} "
        f"{reopen['mirror']['median_s']:>9.2f}s {reopen['server']['median_s']:>9.2f}s "
        f"{reopen['ratio']:>6.1f}x  (target < {REOPEN_TARGET_S:.0f} s)"
        f"{'' if reopen['meets_target'] else '  OVER TARGET'}"
    )
    noop = full["incremental_noop"]
    print(
        f"{'incremental sync, nothing new':<58} {noop['median_s']:>9.2f}s {'':>10} {'':>7}  "
        f"[{noop['min_s']:.2f}-{noop['max_s']:.2f}] (target < {NOOP_SYNC_TARGET_S:.0f} s)"
        f"{'' if noop['meets_target'] else '  OVER TARGET'}"
    )
    checked = full.get("full_check_noop")
    if checked:
        print(
            f"{'full check of every run, nothing new':<58} {checked['median_s']:>9.2f}s "
            f"{'':>10} {'':>7}  [{checked['min_s']:.2f}-{checked['max_s']:.2f}] "
            f"({checked['runs_seen']:,} runs compared)"
        )
    refresh = full.get("refresh_noop")
    if refresh:
        print(
            f"{'quick refresh (opening a mirrored server), nothing new':<58} "
            f"{refresh['median_s']:>9.2f}s {'':>10} {'':>7}  "
            f"[{refresh['min_s']:.2f}-{refresh['max_s']:.2f}] (target < {NOOP_SYNC_TARGET_S:.0f} s)"
            f"{'' if refresh['meets_target'] else '  OVER TARGET'}"
        )
    sample = full.get("first_curve_sample")
    if sample:
        print(
            f"{'first curve: the server sample of the long history':<58} "
            f"{sample['median_s']:>9.2f}s {'':>10} {'':>7}  {sample['points']} pts, steps "
            f"{sample['first_step']}-{sample['last_step']} (target < {FIRST_CURVE_TARGET_S:.0f} s)"
        )
    new = full["incremental_new_runs"]
    print(
        f"{'incremental sync, ' + str(new['new_runs']) + ' new runs':<58} {new['seconds']:>9.2f}s "
        f"{'':>10} {'':>7}  {new['runs_copied']} runs, {new['points']:,} pts copied"
    )
    hist = full["long_history_via_server"]
    state = "completed" if all(hist["completed"]) else f"FAILED: {hist['errors'][:1]}"
    print(
        f"{'metric_history ' + format(hist['points'], ',') + ' pts via server':<58} "
        f"{hist['median_s']:>9.1f}s "
        f"{'':>10} {'':>7}  {state}"
    )


def bench_mirror_copy(repeat: int) -> Comparison:
    """For ``benchmarks.run --only mirror``: the subset comparison as a Comparison."""
    row = bench_subset(bench_db(), repeat, 1)
    return Comparison(
        row["workload"],
        Timing(row["flowdeck"]["all_s"], None),
        Timing(row["mlflow"]["all_s"], None),
        COPY_TARGET,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="cheap measurements")
    parser.add_argument(
        "--cold-repeat", type=int, default=2, help="cold mirrors (whole store and subset)"
    )
    parser.add_argument("--rest-repeat", type=int, default=2, help="reads over the server")
    parser.add_argument("--mlflow-repeat", type=int, default=1, help="export-import copies")
    parser.add_argument(
        "--keep-subset",
        action="store_true",
        help="keep the subset comparison of the last mirror.json instead of measuring it again",
    )
    parser.add_argument(
        "--reuse-mlflow",
        action="store_true",
        help="time Flowdeck's subset copy again, take MLflow's from the last mirror.json",
    )
    parser.add_argument("--quick", action="store_true", help="a small store, for a smoke test")
    args = parser.parse_args(argv)
    print("preparing the SQLite store…", file=sys.stderr)
    db = bench_db(args.quick)
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "nice": os.nice(0),
            "load_at_start": load(),
        },
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "server": f"mlflow server --workers {SERVER_WORKERS}, SQLite copy",
    }
    try:
        if args.reuse_mlflow:
            previous = json.loads((RESULTS / "mirror.json").read_text())["copy_subset"]
            print("subset: Flowdeck (MLflow's copy timed before)…", file=sys.stderr)
            report["copy_subset"] = bench_subset(
                db, args.cold_repeat, 1, SUBSET_RUNS, previous_mlflow=previous["mlflow"]
            )
            report["copy_subset"]["mlflow_measured_at"] = previous.get("mlflow_measured_at") or (
                json.loads((RESULTS / "mirror.json").read_text()).get("measured_at")
            )
        elif args.keep_subset:
            previous = json.loads((RESULTS / "mirror.json").read_text())
            report["copy_subset"] = previous["copy_subset"]
            report["copy_subset_measured_at"] = previous.get("measured_at")
        else:
            print("subset: Flowdeck vs export-import…", file=sys.stderr)
            report["copy_subset"] = bench_subset(
                db, args.cold_repeat, args.mlflow_repeat, 20 if args.quick else SUBSET_RUNS
            )
        print("full store: cold mirror, re-open, history, incremental…", file=sys.stderr)
        report["full"] = bench_full(db, args.repeat, args.cold_repeat, args.rest_repeat)
    except BaseException:
        report["error"] = traceback.format_exc()
        raise
    finally:
        report["machine"]["load_at_end"] = load()
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / ("mirror-quick.json" if args.quick else "mirror.json")).write_text(
            json.dumps(report, indent=2, default=str)
        )
    if "copy_subset" in report:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
