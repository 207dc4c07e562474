"""The window on the 10,000-run store: load time and longest GUI-thread stall, per scenario.

Runs ``flowdeck DB --experiment bench [...] --screenshot`` as a user would (a fresh process
each time) and reads the ``load`` and ``longest stall`` lines it prints.
Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_window [--repeat 3]``.
Budget: longest stall under 100 ms in every run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.gen_sqlite import BENCH_EXPERIMENT, generate_sqlite_store

STALL_BUDGET_MS = 100.0
DATA = Path(__file__).resolve().parent / "data"
RESULTS = Path(__file__).resolve().parent / "results"

SCENARIOS: dict[str, list[str]] = {
    "all 10,001 runs": [],
    "filtered (metrics.metric_0 < 0.5)": ["--filter", "metrics.metric_0 < 0.5"],
    "10 runs selected": ["--select", "10"],
}


def snapshot_once(db: Path, extra: list[str], output: Path) -> tuple[float, float]:
    """(load seconds, longest stall ms) of one scripted snapshot in a new process."""
    command = [sys.executable, "-m", "flowdeck", str(db), "--experiment", BENCH_EXPERIMENT]
    command += [*extra, "--screenshot", str(output)]
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    load = re.search(r"^load ([\d.]+) s$", done.stderr, re.MULTILINE)
    stall = re.search(r"^longest stall (\d+) ms$", done.stderr, re.MULTILINE)
    if done.returncode != 0 or load is None or stall is None:
        raise RuntimeError(f"snapshot failed ({done.returncode}):\n{done.stderr}")
    return float(load.group(1)), float(stall.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    db = generate_sqlite_store(DATA / "bench.db")
    report = []
    with tempfile.TemporaryDirectory() as folder:
        for name, extra in SCENARIOS.items():
            runs = [
                snapshot_once(db, extra, Path(folder) / f"shot{i}.png") for i in range(args.repeat)
            ]
            loads, stalls = [r[0] for r in runs], [r[1] for r in runs]
            row = {
                "scenario": name,
                "load_s": loads,
                "stall_ms": stalls,
                "worst_stall_ms": max(stalls),
                "meets_budget": max(stalls) < STALL_BUDGET_MS,
            }
            report.append(row)
            print(
                f"{name:<36} load {min(loads):.2f}-{max(loads):.2f} s   "
                f"stall {min(stalls):.0f}-{max(stalls):.0f} ms "
                f"({'ok' if row['meets_budget'] else 'OVER BUDGET'})",
                flush=True,
            )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "window.json").write_text(json.dumps(report, indent=2))
    return 0 if all(row["meets_budget"] for row in report) else 1


if __name__ == "__main__":
    sys.exit(main())
