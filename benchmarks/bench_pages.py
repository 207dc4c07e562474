"""Every page address opened with ``--page ADDRESS --screenshot``: load, longest stall, start-up.

A fresh process per snapshot, as a user would start it. The 10,000-run benchmark store has
experiments and runs; the registry, trace and logged-model pages are measured on the demo store
(a real MLflow store with a registered model, traces and logged models).
Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_pages [--repeat 3]``.
Budget: longest stall under 100 ms for every page.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.gen_sqlite import BENCH_EXPERIMENT, LONG_RUN_NAME, generate_sqlite_store

STALL_BUDGET_MS = 100.0
DATA = Path(__file__).resolve().parent / "data"
RESULTS = Path(__file__).resolve().parent / "results"


def _one(db: Path, query: str) -> str:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return str(connection.execute(query).fetchone()[0])


def bench_addresses(db: Path) -> list[str]:
    experiment = _one(
        db, f"SELECT experiment_id FROM experiments WHERE name = '{BENCH_EXPERIMENT}'"
    )
    long_run = _one(db, f"SELECT run_uuid FROM runs WHERE name = '{LONG_RUN_NAME}'")
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        some = [r[0] for r in connection.execute("SELECT run_uuid FROM runs LIMIT 5")]
    return [
        f"experiment/{experiment}",
        f"experiment/{experiment}?filter=metrics.metric_0%20%3C%200.5",
        f"run/{long_run}",
        f"run/{some[0]}/artifacts",
        "compare/" + ",".join(some),
        "models",
        f"traces/{experiment}",
        f"logged-models/{experiment}",
        "servers",
    ]


def demo_addresses(db: Path) -> list[str]:
    model = _one(db, "SELECT name FROM registered_models LIMIT 1")
    version = _one(db, f"SELECT max(version) FROM model_versions WHERE name = '{model}'")
    trace = _one(db, "SELECT request_id FROM trace_info LIMIT 1")
    traced = _one(db, "SELECT experiment_id FROM trace_info LIMIT 1")
    addresses = [f"model/{model}", f"model/{model}/{version}", f"traces/{traced}", f"trace/{trace}"]
    try:
        logged = _one(db, "SELECT model_id FROM logged_models LIMIT 1")
        addresses.append(f"logged-model/{logged}")
    except TypeError:  # no logged model in this store
        pass
    return addresses


def snapshot(db: Path, address: str, output: Path) -> dict[str, float]:
    command = [sys.executable, "-m", "flowdeck", str(db), "--page", address]
    command += ["--screenshot", str(output)]
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    found = {
        key: re.search(rf"^{label} ([\d.]+) (?:s|ms)$", done.stderr, re.MULTILINE)
        for key, label in (
            ("load_s", "load"),
            ("stall_ms", "longest stall"),
            ("started_s", "started"),
        )
    }
    if done.returncode != 0 or not all(found.values()):
        raise RuntimeError(f"{address}: snapshot failed ({done.returncode}):\n{done.stderr}")
    times = {key: float(match.group(1)) for key, match in found.items() if match}
    cpu = re.search(r"^stall cpu ([\d.]+) ms$", done.stderr, re.MULTILINE)
    if cpu:  # the GUI thread's own CPU time in the longest stall
        times["stall_cpu_ms"] = float(cpu.group(1))
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from flowdeck.demo import ensure_demo_store

    bench = generate_sqlite_store(DATA / "bench.db")
    demo = Path(ensure_demo_store())
    plan = [("bench", bench, a) for a in bench_addresses(bench)]
    plan += [("demo", demo, a) for a in demo_addresses(demo)]
    report = []
    with tempfile.TemporaryDirectory() as folder:
        for label, db, address in plan:
            runs = [snapshot(db, address, Path(folder) / f"{i}.png") for i in range(args.repeat)]
            row = {
                "store": label,
                "address": address,
                "load_s": [r["load_s"] for r in runs],
                "stall_ms": [r["stall_ms"] for r in runs],
                "started_s": [r["started_s"] for r in runs],
            }
            row["meets_budget"] = max(row["stall_ms"]) < STALL_BUDGET_MS
            report.append(row)
            print(
                f"{label:<5} {address[:60]:<60} load {min(row['load_s']):.2f}-{max(row['load_s']):.2f} s"
                f"  stall {min(row['stall_ms']):.0f}-{max(row['stall_ms']):.0f} ms"
                f"  started {min(row['started_s']):.2f}-{max(row['started_s']):.2f} s"
                f"{'' if row['meets_budget'] else '  OVER BUDGET'}",
                flush=True,
            )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pages.json").write_text(json.dumps(report, indent=2))
    return 0 if all(row["meets_budget"] for row in report) else 1


if __name__ == "__main__":
    sys.exit(main())
